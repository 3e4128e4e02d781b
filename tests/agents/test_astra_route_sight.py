"""The route from where the robot is: the node it sees clear that makes the way shortest,
skipping route points it can drive to directly, and the sight-line test on its own grid."""

from __future__ import annotations

import numpy as np

from astra_sim.agents.astra.route import SHORTCUT_M, Route, line_clear
from tests.agents.test_astra_route import l_map

CELL, RADIUS = 0.15, 0.2


def open_grid() -> np.ndarray:
    return np.full((32, 32), 1e3, np.float32)


def test_line_clear_sees_walls_and_the_grid_edge():
    clearance = open_grid()
    assert line_clear(np.array([2.0, 0.5]), clearance, CELL, RADIUS)
    # A wall 1 m ahead across the robot's way (cells around x = 1 m have no clearance).
    walled = clearance.copy()
    walled[22:24, :] = 0.0
    assert not line_clear(np.array([2.0, 0.0]), walled, CELL, RADIUS)
    assert line_clear(np.array([0.0, 2.0]), walled, CELL, RADIUS)  # to the side: clear
    assert line_clear(np.array([0.2, 0.0]), walled, CELL, RADIUS)  # where it stands
    # Off the 4.8 m grid nothing is seen clear.
    assert not line_clear(np.array([2.6, 0.0]), clearance, CELL, RADIUS)


def test_route_from_pose_goes_forward_through_the_node_it_sees():
    topo = l_map()  # 0 (0,0) - 1 (2,0) - 2 (4,0) - 3 (4,2); 4 (2,-2) off node 1
    pose = np.array([1.2, 0.0, 0.0])  # nearest node is 1, but 0 is behind: 0 is skipped
    blind = Route.from_pose(topo, pose, goal_node=3, goal_xy=(4.0, 2.5))
    assert blind.nodes[0] == 1  # without sight: the nearest node, as before
    seen = Route.from_pose(topo, pose, 3, (4.0, 2.5), clear=lambda xy: True)
    # Node 2 is 2.8 m away: out of sight range; node 1 (0.8 m) makes the way shortest.
    assert seen.nodes == [1, 2, 3] and np.allclose(seen.subgoal, (2, 0))
    # From (3.0, 0.5) node 2 and node 3 are both within sight range: it skips to 3.
    near = Route.from_pose(topo, np.array([3.0, 0.5, 0.0]), 3, (4.0, 2.5), lambda xy: True)
    assert np.allclose(near.subgoal, (4, 2)) or np.allclose(near.subgoal, (4, 2.5))
    # A wall hides everything but node 1: the route starts there.
    only1 = Route.from_pose(
        topo, np.array([3.0, 0.5, 0.0]), 3, (4.0, 2.5), lambda xy: bool(np.allclose(xy, (2, 0)))
    )
    assert only1.nodes[0] == 1


def test_skip_visible_passes_points_only_forward_and_within_range():
    topo = l_map()
    route = Route(topo, 0, 3, (4.0, 2.5))
    assert route.skip_visible(np.array([0.0, 0.0]), lambda xy: True) == 1  # node 2 is 4 m off
    route.index = 3
    assert route.skip_visible(np.array([3.0, 0.0]), lambda xy: False) == 3  # never back
    assert SHORTCUT_M < 2.4  # inside the occupancy grid the robot sees (4.8 m across)
