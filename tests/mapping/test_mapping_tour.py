"""The coverage tour: waypoints in every room, every step's pose, frames where kept, seeded."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import cached_scene

from astra_sim.mapping import KeyframeSelector, coverage_waypoints, record_tour


def test_waypoints_start_with_one_per_room():
    scene = cached_scene("home", 0)
    grid = scene.navgrid(robot_radius=0.28)
    points, is_room = coverage_waypoints(scene, grid, spacing=2.5)
    assert is_room.sum() == len(scene.rooms) and is_room[: len(scene.rooms)].all()
    assert grid.is_navigable(points).all()
    for room, p in zip(scene.rooms, points, strict=False):
        assert room.contains(p)
    with pytest.raises(ValueError, match="spacing"):
        coverage_waypoints(scene, grid, spacing=0.0)


def test_short_tour_records_every_step_and_is_seeded():
    scene = cached_scene("home", 0)
    tour = record_tour(scene, seed=1, max_steps=30)
    assert tour.poses.shape == (31, 3) and len(tour.frames) == 31
    assert tour.frame_steps.tolist() == list(range(31))
    assert tour.frames[5].rgb.shape == (4, 128, 128, 3) and tour.frames[5].semantic.ndim == 3
    assert np.allclose(np.diff(tour.timestamps), 0.1)
    assert not tour.complete and tour.length > 0.2
    again = record_tour(scene, seed=1, max_steps=30)
    assert np.array_equal(tour.poses, again.poses)
    assert np.array_equal(tour.frames[-1].rgb, again.frames[-1].rgb)
    other = record_tour(scene, seed=2, max_steps=30)
    assert not np.array_equal(tour.poses[0], other.poses[0])


def test_keep_selects_frames_but_all_poses_are_kept():
    scene = cached_scene("home", 0)
    tour = record_tour(scene, max_steps=60, keep=KeyframeSelector(travel=0.5, turn_deg=30))
    assert tour.poses.shape == (61, 3)
    assert 1 < len(tour.frames) < 30 and tour.frame_steps[0] == 0
    assert len(tour.frames) == len(tour.frame_steps)
    with pytest.raises(ValueError, match="max_steps"):
        record_tour(scene, max_steps=0)
    with pytest.raises(ValueError, match="start"):
        record_tour(scene, start=np.array([1.0, 2.0]))
