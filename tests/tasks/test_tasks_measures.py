"""Measures against values worked out by hand on hand-made grids and trajectories."""

from __future__ import annotations

import math

import numpy as np
import pytest

from astra_sim.core.errors import UnknownNameError
from astra_sim.scenes.navigation import NavConfig, NavGrid
from astra_sim.tasks import (
    SPL,
    Episode,
    Goal,
    GoalDistance,
    LocalizationError,
    MeasureContext,
    Measures,
    NavReward,
    Success,
    heading_error,
)

CFG = NavConfig(cell_size=0.05, robot_radius=0.18)
ALL = ["distance_to_goal", "success", "spl", "soft_spl", "path_length", "collisions", "time",
       "nav_reward"]  # fmt: skip


def cell(i: int) -> float:
    """World coordinate of the centre of cell index i (origin 0, 5 cm cells)."""
    return 0.05 * i + 0.025


@pytest.fixture(scope="module")
def room() -> NavGrid:
    """An open 10 m x 10 m room: navigable x, y in [0.15, 9.85]."""
    return NavGrid.from_occupancy(np.zeros((200, 200), bool), (0.0, 0.0), CFG)


@pytest.fixture(scope="module")
def corridor() -> NavGrid:
    """An L-shaped corridor 7 cells wide, so only its centre line is navigable: row 20 from
    column 13 to 100, then column 100 from row 20 to row 107, plus three cells that round off
    the inside of the bend (the robot may cut the corner by a few centimetres)."""
    blocked = np.ones((120, 120), bool)
    blocked[17:24, 10:104] = False
    blocked[17:111, 97:104] = False
    grid = NavGrid.from_occupancy(blocked, (0.0, 0.0), CFG)
    expected = np.zeros_like(blocked)
    expected[20, 13:101] = True
    expected[20:108, 100] = True
    expected[21, 98:100] = expected[22, 99] = True
    assert np.array_equal(grid.navigable, expected)
    return grid


def episode(start, goal_xy, d0: float) -> Episode:
    return Episode("e0", "pointnav", "test", 0, {}, (*start, 0.0), Goal("point", [goal_xy]), d0)


def line(a, b, steps: int) -> list[np.ndarray]:
    """Poses from a to b (exclusive of a) in equal steps, heading 0."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return [np.array([*(a + (b - a) * k / steps), 0.0]) for k in range(1, steps + 1)]


def run(measures, ep, dist, poses, stop=True, collided=(), dt=0.1):
    """Reset at the episode start, step through poses, stop on the last; return all values."""
    measures.reset(ep, MeasureContext(np.array(ep.start), dist, t=5.0))
    rewards = []
    for k, pose in enumerate(poses, 1):
        last = k == len(poses)
        ctx = MeasureContext(
            pose, dist, t=5.0 + k * dt, collided=k in collided, stopped=stop and last
        )
        measures.update(ctx)
        rewards.append(measures.get_all()["nav_reward"])
    return measures.get_all(), rewards


START, GOAL = (cell(40), cell(100)), (cell(140), cell(100))  # 5 m apart along x


def test_straight_path_successful(room):
    dist = GoalDistance(room, [GOAL])
    assert dist(START) == pytest.approx(5.0, abs=1e-5)
    assert room.geodesic_distance(START, GOAL) == pytest.approx(5.0, abs=1e-9)
    values, rewards = run(Measures(ALL), episode(START, GOAL, 5.0), dist, line(START, GOAL, 20))
    assert values["path_length"] == pytest.approx(5.0, abs=1e-9)
    assert values["distance_to_goal"] == 0.0
    assert values["success"] == 1.0
    assert values["spl"] == pytest.approx(1.0)
    assert values["soft_spl"] == pytest.approx(1.0)
    assert values["collisions"] == 0
    assert values["time"] == pytest.approx(2.0)
    assert sum(rewards) == pytest.approx(5.0 - 0.01 * 20 + 2.5, abs=1e-5)


def test_detour_spl_is_d0_over_path_and_reward_telescopes(room):
    up, over = (START[0], START[1] + 1.0), (GOAL[0], GOAL[1] + 1.0)
    poses = line(START, up, 4) + line(up, over, 20) + line(over, GOAL, 4)
    values, rewards = run(
        Measures(ALL), episode(START, GOAL, 5.0), GoalDistance(room, [GOAL]), poses,
        collided={3, 7, 8},
    )  # fmt: skip
    assert values["path_length"] == pytest.approx(7.0, abs=1e-9)
    assert values["spl"] == pytest.approx(5.0 / 7.0)
    assert values["soft_spl"] == pytest.approx(5.0 / 7.0)
    assert values["collisions"] == 3
    assert sum(rewards) == pytest.approx((5.0 - 0.0) - 0.01 * 28 - 0.1 * 3 + 2.5, abs=1e-5)


def test_not_stopping_is_no_success(room):
    values, rewards = run(
        Measures(ALL), episode(START, GOAL, 5.0), GoalDistance(room, [GOAL]),
        line(START, GOAL, 20), stop=False,
    )  # fmt: skip
    assert values["success"] == 0.0 and values["spl"] == 0.0
    assert values["soft_spl"] == pytest.approx(1.0)  # soft SPL needs no stop
    assert sum(rewards) == pytest.approx(5.0 - 0.2, abs=1e-5)


def test_soft_spl_hand_values(room):
    dist, ep = GoalDistance(room, [GOAL]), episode(START, GOAL, 5.0)
    short = (START[0] + 3.0, START[1])  # 2 m short of the goal after 3 m
    values, _ = run(Measures(ALL), ep, dist, line(START, short, 6))
    assert values["distance_to_goal"] == pytest.approx(2.0, abs=1e-5)
    assert values["success"] == 0.0 and values["spl"] == 0.0
    assert values["soft_spl"] == pytest.approx(0.6, abs=1e-6)
    # 8 m driven, ending 1 m from the goal: (1 - 1/5) * 5/8.
    a, b, c = (START[0], START[1] + 2), (GOAL[0] - 1, START[1] + 2), (GOAL[0] - 1, START[1])
    values, _ = run(Measures(ALL), ep, dist, line(START, a, 8) + line(a, b, 16) + line(b, c, 8))
    assert values["path_length"] == pytest.approx(8.0, abs=1e-9)
    assert values["soft_spl"] == pytest.approx(0.5, abs=1e-6)


def test_success_distance(room):
    dist, ep = GoalDistance(room, [GOAL]), episode(START, GOAL, 5.0)
    near = (GOAL[0] - 0.4, GOAL[1])
    values, rewards = run(Measures(ALL), ep, dist, line(START, near, 23))
    assert values["success"] == 1.0
    assert values["spl"] == 1.0  # 4.6 m driven, less than d0: the ratio is capped at 1
    assert sum(rewards) == pytest.approx(4.6 - 0.23 + 2.5, abs=1e-5)
    values, _ = run(Measures(["spl", Success(0.3), NavReward(success_bonus=10.0)]), ep, dist,
                    line(START, near, 23))  # fmt: skip
    assert values["success"] == 0.0 and values["nav_reward"] == pytest.approx(0.2 - 0.01)


def test_l_corridor_geodesic_and_spl(corridor):
    start, corner, goal = (cell(13), cell(20)), (cell(100), cell(20)), (cell(100), cell(107))
    dist = GoalDistance(corridor, [goal])
    assert math.dist(start, goal) == pytest.approx(4.35 * math.sqrt(2))
    # Around the corner (4.35 + 4.35 m, less the few cm the rounded bend allows), not straight.
    d_grid, d0 = dist(start), corridor.geodesic_distance(start, goal)
    assert 8.6 < d0 == d_grid <= 8.7  # one computation: the measure is the geodesic
    poses = line(start, corner, 29) + line(corner, goal, 29)  # square corner: 8.7 m
    values, rewards = run(Measures(ALL), episode(start, goal, d0), dist, poses, collided={10})
    assert values["path_length"] == pytest.approx(8.7, abs=1e-9)
    assert values["success"] == 1.0 and values["spl"] == pytest.approx(d0 / 8.7, abs=1e-12)
    assert values["time"] == pytest.approx(5.8)
    assert sum(rewards) == pytest.approx(d_grid - 0.01 * 58 - 0.1 + 2.5, abs=1e-5)


def test_goal_distance_many_positions_and_off_grid(corridor):
    ends = [(cell(13), cell(20)), (cell(100), cell(107))]
    dist = GoalDistance(corridor, ends)
    assert dist((cell(100), cell(20))) == pytest.approx(4.35, abs=1e-5)  # the corner
    assert dist((cell(50), cell(20))) == pytest.approx(1.85, abs=1e-5)
    assert np.allclose(dist.nearest_source((cell(50), cell(20))), ends[0])
    # Off the navigable line (pressed into the wall): nearest navigable cell + straight gap.
    assert dist((cell(13), cell(22))) == pytest.approx(0.1, abs=1e-6)
    with pytest.raises(ValueError, match="none of the 1 goal positions is navigable"):
        GoalDistance(corridor, [(cell(5), cell(5))])


def test_localization_error_wraps_heading():
    assert heading_error(math.radians(359), math.radians(1)) == pytest.approx(math.radians(2))
    assert heading_error(math.radians(-179), math.radians(179)) == pytest.approx(math.radians(2))
    assert heading_error(0.0, math.pi) == pytest.approx(math.pi)
    ep = Episode("l", "localization", "test", 0, {}, (1.0, 2.0, 0.0), Goal("point", [(1, 2)]), 0)
    far = lambda xy: 0.0  # noqa: E731
    measure = LocalizationError()
    pose = np.array([1.0, 2.0, math.radians(359)])
    measure.reset(ep, MeasureContext(pose, far, estimate=[1.3, 2.4, math.radians(1)]))
    got = measure.get()
    assert got["position_error"] == pytest.approx(0.5)
    assert got["heading_error"] == pytest.approx(math.radians(2))
    assert got["within"] is True
    measure.update(MeasureContext(pose, far, estimate=[1.3, 2.4, math.radians(5)]))
    assert measure.get()["heading_error"] == pytest.approx(math.radians(6))
    assert measure.get()["within"] is False
    measure.update(MeasureContext(pose, far, estimate=[2.2, 2.0, math.radians(359)]))
    assert measure.get()["position_error"] == pytest.approx(1.2) and not measure.within()
    measure.update(MeasureContext(pose, far))
    assert measure.get() == {"position_error": math.inf, "heading_error": math.inf, "within": False}


def test_container_orders_dependencies_and_names_errors():
    assert Measures(["spl"]).names == ["distance_to_goal", "success", "path_length", "spl"]
    assert Measures(["nav_reward", "distance_to_goal"]).names[0] == "distance_to_goal"
    assert isinstance(Measures([Success(0.2), "spl"])["success"], Success)
    with pytest.raises(UnknownNameError, match="unknown measure 'spll'; valid measures are"):
        Measures(["spll"])
    with pytest.raises(UnknownNameError, match="unknown measure 'time'"):
        Measures(["spl"])["time"]
    with pytest.raises(ValueError, match="listed twice"):
        Measures(["success", Success(0.2)])
    with pytest.raises(RuntimeError, match="Measures container"):
        SPL().reset(episode(START, GOAL, 5.0), MeasureContext(np.zeros(3), lambda xy: 1.0))


def test_context_rejects_bad_input():
    with pytest.raises(ValueError, match=r"MeasureContext\.pose must be a finite"):
        MeasureContext([0.0, np.nan, 0.0], lambda xy: 0.0)
    with pytest.raises(ValueError, match="estimate"):
        MeasureContext([0.0, 0.0, 0.0], lambda xy: 0.0, estimate=[1.0, 2.0])
    with pytest.raises(ValueError, match="success_distance"):
        Success(-1.0)
