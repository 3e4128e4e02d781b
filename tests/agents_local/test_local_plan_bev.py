"""The non-learned BEV lifting and the training-sample geometry (steps, local goal, ESDF crop)."""

import numpy as np
import pytest

from astra_sim.agents.astra_local.bev_input import BevConfig, DepthLifter, local_esdf
from astra_sim.agents.astra_local.plan_data import future_steps, local_goal
from astra_sim.render.rig import Rig
from astra_sim.scenes.navigation import NavConfig, NavGrid


def test_wall_in_front_fills_one_row_of_occupancy():
    cfg = BevConfig(size=32, cell_size=0.15, pixel_stride=1)
    lifter = DepthLifter(Rig.from_name("default"), cfg)
    depth = np.zeros((4, 128, 128), np.float32)  # misses everywhere...
    depth[0] = 1.0  # ...but a wall 1 m ahead of the front camera (pinhole: depth along x)
    bev, occ = lifter(depth)
    assert bev.shape == (cfg.channels, 32, 32) and occ.shape == (32, 32)
    assert bev.dtype == np.float32 and occ.dtype == np.float32
    row = int(np.floor(1.0 / cfg.cell_size + 16))
    rows = np.flatnonzero(occ.any(axis=1))
    assert set(rows) <= {row - 1, row}  # x = 1.0 sits on a cell boundary
    cols = np.flatnonzero(occ[row - 1 : row + 1].any(axis=0))
    # 90 degree field of view: the wall spans y in [-1, 1] m.
    assert cols.min() <= 16 - 6 and cols.max() >= 16 + 5
    assert bev[:, : row - 1].sum() == 0  # nothing seen between the robot and the wall


def test_lifted_points_span_the_field_of_view():
    rig = Rig.from_name("default")
    cfg = BevConfig(pixel_stride=1)
    lifter = DepthLifter(rig, cfg)
    points = lifter.points(np.full((4, 128, 128), 2.0, np.float32))
    assert points.shape[1] == 3
    # Cameras at 0.5 m see heights 0.5 +- 2 tan(45) m at 2 m depth.
    assert points[:, 2].min() == pytest.approx(-1.5, abs=0.05)
    assert points[:, 2].max() == pytest.approx(2.5, abs=0.05)


def test_local_esdf_matches_the_scene_grid():
    blocked = np.zeros((60, 60), bool)
    blocked[:, 45:] = True  # a wall at x >= 2.25 m
    grid = NavGrid.from_occupancy(blocked, np.zeros(2), NavConfig(cell_size=0.05))
    cfg = BevConfig(size=16, cell_size=0.2)
    pose = np.array([1.5, 1.5, np.pi / 2])  # facing +y: the wall is on the robot's right
    crop = local_esdf(grid, pose, cfg)
    assert crop.shape == (16, 16)
    centre_value = crop[7:9, 7:9].mean()
    assert centre_value == pytest.approx(grid.esdf_at(pose[None, :2])[0], abs=0.12)
    assert crop[8, 2] < crop[8, 13]  # right side (-y in the robot frame) is nearer the wall


def test_future_steps_and_local_goal():
    poses = np.stack([0.1 * np.arange(30), np.zeros(30), np.zeros(30)], axis=1)
    steps = future_steps(poses, 0, 8, 2.5)
    assert steps.shape == (8, 3)
    np.testing.assert_allclose(steps[:, 0], 0.25, atol=1e-6)
    tail = future_steps(poses, 28, 8, 2.5)
    np.testing.assert_allclose(tail[1:], 0.0, atol=1e-6)  # past the end the robot holds

    grid = NavGrid.from_occupancy(np.zeros((80, 80), bool), np.zeros(2), NavConfig())
    g = local_goal(grid, np.array([0.5, 0.5, np.pi / 2]), np.array([3.5, 0.5]), 2.0)
    np.testing.assert_allclose(g, [0.0, -2.0], atol=0.05)  # 2 m along, to the robot's right
    near = local_goal(grid, np.array([0.5, 0.5, 0.0]), np.array([1.5, 0.5]), 2.0)
    np.testing.assert_allclose(near, [1.0, 0.0], atol=1e-5)
