"""The route over the map G: shortest path over its edges, subgoals, the planner's target."""

from __future__ import annotations

import numpy as np
import pytest

from astra_sim.agents.astra.config import ORACLE_LADDER, AstraConfig, OracleConfig
from astra_sim.agents.astra.global_stage import approach_point, check_map_scene, oracle_goal
from astra_sim.agents.astra.route import Route, to_robot_frame
from astra_sim.mapping.graph import Node, TopoSemanticMap


def _node(i: int, x: float, y: float) -> Node:
    rgb = np.zeros((1, 2, 2, 3), np.uint8)
    depth = np.ones((1, 2, 2), np.float32)
    return Node(id=i, pose=np.array([x, y, 0.0, 0.0, 0.0, 0.0]), rgb=rgb, depth=depth)


def l_map() -> TopoSemanticMap:
    """An L-shaped corridor 0-1-2-3 (turning at 2) plus a dead end 4 off node 1, and a
    short cut 0-5-3 that is longer in metres than it looks: 5 is far to the side."""
    xy = [(0, 0), (2, 0), (4, 0), (4, 2), (2, -2), (-3, 6)]
    edges = [(0, 1), (1, 2), (2, 3), (1, 4), (0, 5), (5, 3)]
    meta = {"scene": {"kind": "office", "seed": 8, "params": {"floor": 1}}}
    return TopoSemanticMap([_node(i, *p) for i, p in enumerate(xy)], np.array(edges), [], meta)


def test_route_follows_the_shortest_path_over_the_edges():
    topo = l_map()
    route = Route.from_pose(topo, np.array([0.1, 0.2, 0.0]), goal_node=3, goal_xy=(4.5, 2.5))
    assert route.nodes == [0, 1, 2, 3]  # not the straight-line shortcut through node 5
    assert np.allclose(route.goal, (4.5, 2.5))
    assert route.length == pytest.approx(2 + 2 + 2 + np.hypot(0.5, 0.5))
    # The planner's target is 2.5 m along the route from the robot, on the first leg.
    assert np.allclose(route.target(np.array([0.0, 0.0])), (2.5, 0.0))
    # Passing node 1 moves the subgoal on; the goal is never passed.
    route.advance(np.array([1.9, 0.1]))
    assert route.index == 2 and np.allclose(route.subgoal, (4, 0))
    # Near the corner the target turns the corner (along the route, not straight).
    assert np.allclose(route.target(np.array([4.0, 0.0]), 1.0), (4.0, 1.0))
    route.advance(np.array([4.4, 2.4]))
    assert route.index == len(route.points) - 1
    assert np.allclose(route.target(np.array([4.4, 2.4])), (4.5, 2.5))


def test_route_refuses_disconnected_nodes_and_robot_frame_is_right():
    topo = TopoSemanticMap([_node(0, 0, 0), _node(1, 5, 0)], np.zeros((0, 2)), [])
    with pytest.raises(ValueError, match="not connected"):
        Route(topo, 0, 1, (5, 0))
    # A point 1 m ahead-left of a robot facing +y is at (1, 1) in its frame... check axes.
    p = to_robot_frame(np.array([0.0, 0.0, np.pi / 2]), np.array([-1.0, 1.0]))
    assert np.allclose(p, (1.0, 1.0), atol=1e-6)


def test_oracle_goal_picks_the_goal_position_nearest_along_the_graph():
    topo = l_map()
    # Two goal positions: one near node 4 (dead end, 2 + 2 m away), one near node 5
    # (straight line closer to the start, but 7 m of edge away).
    positions = np.array([[2.2, -2.1], [-2.0, 5.5]])
    goal = oracle_goal(topo, positions, np.array([0.0, 0.0]))
    assert goal.node == 4 and np.allclose(goal.target, positions[0]) and goal.source == "oracle"


def test_approach_point_and_map_scene_check():
    assert np.allclose(approach_point(np.array([4.0, 0.0]), np.array([0.0, 0.0]), 1.0), (1, 0))
    assert np.allclose(approach_point(np.array([0.5, 0.0]), np.array([0.0, 0.0]), 1.0), (0.5, 0))
    topo = l_map()
    check_map_scene(topo, {"kind": "office", "seed": 8, "params": {"floor": 1}})
    with pytest.raises(ValueError, match="built for office seed 8"):
        check_map_scene(topo, {"kind": "office", "seed": 9, "params": {}})
    with pytest.raises(ValueError, match="other params: floor"):
        check_map_scene(topo, {"kind": "office", "seed": 8, "params": {"floor": 2}})


def test_oracle_rows_switch_only_what_they_name():
    assert OracleConfig.from_row("none").names == frozenset()
    assert OracleConfig.from_row("goal").names == {"goal"}
    assert OracleConfig.from_row("goal+start").names == {"goal", "start"}
    assert OracleConfig.from_row("goal+start+pose").names == {"goal", "start", "pose"}
    assert OracleConfig.from_row("all").names == {"goal", "start", "pose", "planner"}
    assert OracleConfig.from_row("planner").names == {"planner"}
    assert len(ORACLE_LADDER) == 5
    with pytest.raises(ValueError, match="oracle row"):
        OracleConfig.from_row("goal+gps")
    with pytest.raises(ValueError, match=r"astra\.localizer"):
        AstraConfig(localizer="vpr")
    with pytest.raises(ValueError, match=r"needs astra\.model"):
        AstraConfig(localizer="mllm")
    with pytest.raises(ValueError, match="start_tries"):
        AstraConfig(start_tries=0)


def test_start_moves_is_a_count_that_may_be_zero():
    assert AstraConfig(start_moves=0).start_moves == 0
    with pytest.raises(ValueError, match="start_moves"):
        AstraConfig(start_moves=-1)
    with pytest.raises(ValueError, match="start_moves"):
        AstraConfig(start_moves=True)
