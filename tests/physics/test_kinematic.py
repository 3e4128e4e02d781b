"""The kinematic body's exact motion model: limits, arcs, and how it stops at walls."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from physics_rooms import box_room, wall

from astra_sim.physics.base import DiffDriveConfig
from astra_sim.physics.kinematic import KinematicBody, arc

DT = 1.0 / 200.0
WALL_FACE = 4.025


@pytest.fixture(scope="module")
def room():
    return box_room(inner=[wall(WALL_FACE, 1.025, WALL_FACE + 0.2, 3.025)])


def test_acceleration_limits_hold_for_the_wheels(room) -> None:
    cfg = DiffDriveConfig()
    body = KinematicBody(room, cfg)
    body.reset([1.0, 2.0, 0.0])
    states = [body.step(c, DT) for c in [[0.8, 2.0]] * 200 + [[-0.8, -2.0]] * 200]
    v = np.array([s.velocity for s in states])
    acc = np.abs(np.diff(v, axis=0)) / DT
    assert acc[:, 0].max() <= cfg.max_linear_acc + 1e-9
    assert acc[:, 1].max() <= cfg.max_angular_acc + 1e-9
    assert acc[:, 0].max() > 0.9 * cfg.max_linear_acc  # the limit is reached, not undershot
    # accel_body is (dv/dt, v w, 0): tangential plus centripetal.
    for prev, s in itertools.pairwise(states):
        expected = [(s.velocity[0] - prev.velocity[0]) / DT, s.velocity[0] * s.velocity[1], 0]
        np.testing.assert_allclose(s.accel_body, expected, atol=1e-9)
        np.testing.assert_array_equal(s.ang_vel_body, [0.0, 0.0, s.velocity[1]])


def test_commands_beyond_the_limits_are_clipped(room) -> None:
    body = KinematicBody(room)
    body.reset([1.0, 2.0, 0.0])
    for _ in range(600):
        s = body.step([50.0, -50.0], DT)
    np.testing.assert_allclose(s.velocity, [1.0, -2.0], atol=1e-9)


def test_without_lag_the_motion_is_an_exact_arc(room) -> None:
    cfg = DiffDriveConfig(motor_time_constant=0.0, max_linear_acc=1e6, max_angular_acc=1e6)
    body = KinematicBody(room, cfg)
    start = body.reset([2.0, 2.0, 0.0])
    for _ in range(200):
        s = body.step([0.5, 1.0], DT)
    # The slew takes 1e-6 s to reach the command: that much yaw (5e-7 rad) is lost.
    np.testing.assert_allclose(s.pose, arc(start.pose, 0.5, 1.0, 1.0), atol=1e-6)
    np.testing.assert_allclose(s.wheel_angles * cfg.wheel_radius, [0.35, 0.65], atol=1e-6)


def test_a_fast_tick_cannot_jump_a_thin_wall() -> None:
    scene = box_room(inner=[wall(WALL_FACE, 1.025, WALL_FACE + 0.05, 3.025)])
    cfg = DiffDriveConfig(max_linear=50.0, max_linear_acc=1e6, motor_time_constant=0.0)
    body = KinematicBody(scene, cfg)
    body.reset([2.0, 2.0, 0.0])
    s = body.step([50.0, 0.0], 0.1)  # 5 m in one tick, through the wall and beyond
    assert s.collided
    assert s.pose[0] == pytest.approx(WALL_FACE - cfg.radius, abs=0.02)
    assert s.pose[0] <= WALL_FACE - cfg.radius + 1e-9
    np.testing.assert_array_equal(s.velocity, [0.0, 0.0])
    np.testing.assert_array_equal(s.wheel_rates, [0.0, 0.0])


def test_contact_stops_the_robot_without_sliding(room) -> None:
    body = KinematicBody(room)
    body.reset([WALL_FACE - 1.0, 1.5, math.radians(30)])
    states = [body.step([1.0, 0.0], DT) for _ in range(600)]
    first = next(i for i, s in enumerate(states) if s.collided)
    after = np.array([s.pose for s in states[first:]])
    assert np.abs(after - after[0]).max() < 1e-4  # no sliding along the wall
    assert all(s.collided for s in states[first:])  # it keeps pushing, so keeps touching
    assert after[0, 0] == pytest.approx(WALL_FACE - body.config.radius, abs=0.02)
    # It can still turn on the spot (touching the wall all the while) and drive away.
    for _ in range(300):
        s = body.step([0.0, 2.0], DT)
    assert s.collided and abs(s.pose[2]) > 2.0
    np.testing.assert_array_equal(s.pose[:2], after[-1, :2])
    for _ in range(200):
        s = body.step([0.5, 0.0], DT)
    assert not s.collided and s.pose[0] < after[0, 0]


def test_wheel_angles_accumulate_the_distance_driven_up_to_contact(room) -> None:
    body = KinematicBody(room)
    start = body.reset([WALL_FACE - 1.0, 2.0, 0.0])
    for _ in range(600):
        s = body.step([1.0, 0.0], DT)
    driven = s.wheel_angles * body.config.wheel_radius
    np.testing.assert_allclose(driven, s.pose[0] - start.pose[0], atol=1e-9)


def test_step_before_reset_raises(room) -> None:
    with pytest.raises(RuntimeError, match="reset"):
        KinematicBody(room).step([0.1, 0.0], DT)


def test_config_must_be_a_diff_drive_config(room) -> None:
    with pytest.raises(ValueError, match="config"):
        KinematicBody(room, {"radius": 0.2})  # type: ignore[arg-type]
