"""How far the reported geodesic is from the true shortest path, on cases with a known answer.

docs/trust.md quotes the bounds asserted here: exact in open space, within half a cell
around a corner. If a change to the grid, its connectivity or the string pulling breaks
them, these tests fail and the page must be revisited.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from astra_sim.scenes.navigation import NavConfig, NavGrid
from astra_sim.tasks import GoalDistance

CS, R = 0.05, 0.18
CFG = NavConfig(cell_size=CS, robot_radius=R)
CORNER = np.array([6.0, 6.0])  # the inner corner of the L: blocked for x < 6 and y < 6


@pytest.fixture(scope="module")
def room() -> NavGrid:
    """An empty 10 m x 10 m room."""
    return NavGrid.from_occupancy(np.zeros((200, 200), bool), (0.0, 0.0), CFG)


@pytest.fixture(scope="module")
def l_corridor() -> NavGrid:
    """An L-shaped corridor 1.2 m wide: arm A along x (y in [6, 7.2], x in [1, 7.2]) and
    arm B along y (x in [6, 7.2], y in [1, 7.2]); everything else is wall."""
    blocked = np.ones((200, 200), bool)
    blocked[120:144, 20:144] = False  # rows are y / CS, cols x / CS
    blocked[20:144, 120:144] = False
    return NavGrid.from_occupancy(blocked, (0.0, 0.0), CFG)


def around_corner(a: np.ndarray, b: np.ndarray) -> float:
    """The analytic shortest path for a disc of radius R from a (arm A) to b (arm B) around
    the convex corner: tangent from a to the circle of radius R about the corner, the arc,
    the tangent to b (or the straight segment when it clears the circle)."""
    oa, ob = a - CORNER, b - CORNER
    da, db = float(np.linalg.norm(oa)), float(np.linalg.norm(ob))
    sweep = math.atan2(oa[1], oa[0]) - math.atan2(ob[1], ob[0])  # through the free side
    arc = sweep - math.acos(R / da) - math.acos(R / db)
    if arc <= 0:
        return float(np.linalg.norm(a - b))
    return math.sqrt(da**2 - R**2) + math.sqrt(db**2 - R**2) + R * arc


def test_open_room_geodesic_is_the_straight_line(room):
    rng = np.random.default_rng(0)
    errors = []
    for _ in range(100):
        a, b = rng.uniform(0.3, 9.7, 2), rng.uniform(0.3, 9.7, 2)
        errors.append(abs(room.geodesic_distance(a, b) - float(np.linalg.norm(a - b))))
    assert max(errors) < 1e-9


def test_l_corridor_geodesic_within_half_a_cell_of_the_analytic_length(l_corridor):
    rng = np.random.default_rng(1)
    errors, relative, detour = [], [], []
    for _ in range(150):
        a = np.array([rng.uniform(1.5, 5.0), rng.uniform(6.3, 6.9)])
        b = np.array([rng.uniform(6.3, 6.9), rng.uniform(1.5, 5.0)])
        truth = around_corner(a, b)
        got = l_corridor.geodesic_distance(a, b)
        errors.append(got - truth)
        relative.append(abs(got - truth) / truth)
        detour.append(truth - float(np.linalg.norm(a - b)))
    # The grid's free space is measured between cell centres (it may graze up to half a
    # cell closer) and the bend waypoint is a cell centre: within half a cell either way.
    assert max(abs(e) for e in errors) <= CS / 2
    assert max(relative) < 0.01
    # The corner really is in the way: the straight line is at least 0.2 m shorter.
    assert min(detour) > 0.2


def test_grid_field_is_only_a_screen(l_corridor):
    """The 16-connected field runs long (up to ~2.7 %); it is never the reported distance."""
    a, b = np.array([1.5, 6.6]), np.array([6.6, 1.5])
    field = l_corridor.distance_field(b)[tuple(l_corridor.world_to_cell(a))]
    exact = l_corridor.geodesic_distance(a, b)
    assert exact < field <= exact * 1.03 + CS


def test_goal_distance_is_the_same_computation_as_geodesic_distance(l_corridor):
    rng = np.random.default_rng(2)
    goal = np.array([6.6, 1.5])
    to_goal = GoalDistance(l_corridor, [goal])
    for xy in l_corridor.sample_navigable(rng, 20):
        assert to_goal(xy) == l_corridor.geodesic_distance(xy, goal)  # bit for bit
        path = to_goal.path(xy)
        assert np.array_equal(path[0], xy) and np.array_equal(path[-1], goal)
    # Several goals: the distance to the nearest, along a path that ends exactly on it.
    goals = np.array([[6.6, 1.5], [1.5, 6.6]])
    both = GoalDistance(l_corridor, goals)
    xy = np.array([2.5, 6.5])
    assert both(xy) == pytest.approx(float(np.linalg.norm(xy - goals[1])), abs=1e-12)
    assert np.array_equal(both.path(xy)[-1], goals[1])
