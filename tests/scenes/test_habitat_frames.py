"""Habitat's y-up frame against ours: exact points, yaws both ways, asset frames."""

from __future__ import annotations

import math

import numpy as np
import pytest

from astra_sim.scenes.habitat import frames


def test_a_known_point_lands_where_it_should():
    # habitat (x, y up, z back): 1 m right of the origin, 2 m up, 3 m behind the -z front
    ours = frames.habitat_to_ours([1.0, 2.0, 3.0])
    assert ours.tolist() == [1.0, -3.0, 2.0]
    assert frames.habitat_to_ours([1.0, 2.0, 3.0], floor_height=0.5).tolist() == [1.0, -3.0, 1.5]
    back = frames.ours_to_habitat(np.array([1.0, -3.0, 1.5]), floor_height=0.5)
    assert back.tolist() == [1.0, 2.0, 3.0]
    assert frames.ours_to_habitat(np.array([4.0, 5.0])).tolist() == [4.0, 0.0, -5.0]


def test_identity_rotation_faces_our_plus_y_and_yaw_round_trips():
    assert frames.habitat_yaw([0.0, 0.0, 0.0, 1.0]) == pytest.approx(math.pi / 2)
    for yaw in np.linspace(-3.1, 3.1, 13):
        q = frames.yaw_to_habitat(yaw)
        assert q[0] == q[2] == 0.0  # about +y only, as habitat-lab's generator writes
        assert math.remainder(frames.habitat_yaw(q) - yaw, 2 * math.pi) == pytest.approx(
            0, abs=1e-9
        )


def test_rotation_about_y_turns_left():
    t = 0.3
    assert frames.habitat_yaw([0, math.sin(t / 2), 0, math.cos(t / 2)]) == pytest.approx(
        t + math.pi / 2
    )


def test_matterport_glb_frame_makes_asset_coordinates_ours():
    r = frames.WORLD_TO_OURS @ frames.frame_to_world(
        frames.GLB_DEFAULT_UP, frames.GLB_DEFAULT_FRONT
    )
    assert np.allclose(r, np.eye(3))
    assert np.allclose(frames.frame_to_world(), np.eye(3))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="orthogonal"):
        frames.frame_to_world((0, 1, 0), (0, 1, 1))
    with pytest.raises(ValueError, match="straight up or down"):
        frames.habitat_yaw([math.sin(math.pi / 4), 0, 0, math.cos(math.pi / 4)])
    with pytest.raises(ValueError, match="finite"):
        frames.habitat_to_ours([1.0, float("nan"), 0.0])
