"""Navigation ground truth on hand-made meshes whose distances and paths are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from astra_sim.scenes.navigation import NavConfig, NavGrid

CS = 0.05


def box(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> tuple:
    """An axis-aligned box as 8 vertices and 12 outward-facing triangles."""
    vertices = np.array(
        [[(lo, hi)[i & 1][0], (lo, hi)[(i >> 1) & 1][1], (lo, hi)[i >> 2][2]] for i in range(8)],
        dtype=float,
    )
    faces = np.array(
        [
            [4, 5, 7], [4, 7, 6], [0, 2, 3], [0, 3, 1], [0, 1, 5], [0, 5, 4],
            [2, 6, 7], [2, 7, 3], [0, 4, 6], [0, 6, 2], [1, 3, 7], [1, 7, 5],
        ]
    )  # fmt: skip
    return vertices, faces


def scene(*boxes: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate box meshes into one mesh."""
    vertices, faces = [], []
    for v, f in boxes:
        faces.append(f + sum(len(x) for x in vertices))
        vertices.append(v)
    return np.concatenate(vertices), np.concatenate(faces)


def floor(x0: float, y0: float, x1: float, y1: float) -> tuple:
    return box((x0, y0, -0.1), (x1, y1, 0.0))


def wall(x0: float, y0: float, x1: float, y1: float) -> tuple:
    return box((x0, y0, 0.0), (x1, y1, 2.0))


def length(path: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())


@pytest.fixture(scope="module")
def pillar_room() -> NavGrid:
    """A 6 m x 4 m floor with a free-standing 0.2 m-thick wall from y=1 to y=3 at x=3."""
    return NavGrid.from_mesh(*scene(floor(0, 0, 6, 4), wall(2.9, 1, 3.1, 3)), NavConfig())


@pytest.fixture(scope="module")
def split_room() -> NavGrid:
    """A 10 m x 10 m room split at y=5 by a wall over x in [0, 8]; the gap is x in [8, 10]."""
    mesh = scene(floor(0, 0, 10, 10), wall(0, 4.9, 8, 5.1))
    return NavGrid.from_mesh(*mesh, NavConfig(robot_radius=0.18))


def test_esdf_signs_and_values(pillar_room: NavGrid) -> None:
    g = pillar_room
    assert abs(float(g.esdf_at([1.9, 2.0])) - 1.0) <= CS
    assert abs(float(g.esdf_at([3.0, 0.5])) - 0.5) <= CS  # below the wall end, 0.5 from it
    assert g.esdf_at([3.0, 2.0]) < 0  # inside the wall
    assert g.esdf_at([-0.3, 2.0]) < 0  # beyond the floor's edge
    assert g.esdf_at([6.3, 2.0]) < 0
    np.testing.assert_array_equal(g.navigable, g.esdf > g.config.robot_radius)
    assert g.obstacle[tuple(g.world_to_cell([3.0, 2.0]))]
    assert not g.floor[tuple(g.world_to_cell([-0.3, 2.0]))]
    assert (
        g.floor[tuple(g.world_to_cell([3.0, 2.0]))]
        and g.floor[tuple(g.world_to_cell([5.98, 3.98]))]
    )
    assert not g.obstacle[tuple(g.world_to_cell([1.0, 1.0]))]


def test_grid_covers_mesh_and_cells_round_trip(pillar_room: NavGrid) -> None:
    g = pillar_room
    np.testing.assert_allclose(g.origin, [-0.5, -0.5], atol=1e-9)
    assert g.shape == (100, 140)
    pts = np.array([[0.01, 0.02], [3.33, 1.27]])
    centres = g.cell_to_world(g.world_to_cell(pts))
    assert np.all(np.abs(centres - pts) <= CS / 2 + 1e-9)
    np.testing.assert_array_equal(g.world_to_cell(centres), g.world_to_cell(pts))
    assert g.in_bounds(g.world_to_cell(pts)).all() and not g.in_bounds(np.array([-1, 0]))
    assert not g.is_navigable(np.array([[100.0, 0.0]]))[0]
    # Free floor minus a robot-radius (plus about a cell) band at the edges and around the wall.
    assert 0.8 * (5.6 * 3.6 - 0.6 * 2.6) < g.navigable_area < 5.6 * 3.6


def test_esdf_exact_on_occupancy_grid() -> None:
    blocked = np.zeros((21, 21), bool)
    blocked[10, 10] = True
    g = NavGrid.from_occupancy(blocked, origin=(0.0, 0.0), config=NavConfig(cell_size=0.1))
    assert g.esdf[10, 10] == pytest.approx(-0.1)
    assert g.esdf[10, 13] == pytest.approx(0.3)
    assert g.esdf[13, 14] == pytest.approx(0.5)
    assert g.esdf[0, 10] == pytest.approx(0.1)  # outside the grid counts as blocked
    assert g.esdf_at([1.05, 1.35]) == pytest.approx(0.3)  # centre of cell (13, 10)
    assert g.esdf_at([1.05, 1.40]) == pytest.approx(0.35)  # halfway to the next centre


def test_straight_path_in_open_space() -> None:
    g = NavGrid.from_mesh(*floor(0, 0, 10, 10))
    a, b = np.array([2.0, 2.0]), np.array([8.0, 7.0])
    path = g.shortest_path(a, b)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)
    assert len(path) == 2
    euclid = float(np.linalg.norm(b - a))
    assert length(path) == pytest.approx(euclid, rel=0.01)
    assert g.geodesic_distance(a, b) == pytest.approx(euclid, rel=0.01)
    # The grid field is a 16-connected metric: close, never shorter than the straight line.
    field = g.distance_field(b)
    assert euclid - CS <= field[tuple(g.world_to_cell(a))] <= euclid * 1.03
    assert g.distance_field(b) is field  # cached


def test_path_around_wall_end_matches_taut_string(split_room: NavGrid) -> None:
    g, r = split_room, split_room.config.robot_radius
    a, b = np.array([2.0, 2.0]), np.array([2.0, 8.0])
    # Taut string: tangent from a to the circle of radius r around the wall corner (8, 4.9),
    # an arc to heading +y, 0.2 m along the wall's end face, and the mirror image up to b.
    d = math.hypot(8 - 2, 4.9 - 2)
    tangent = math.sqrt(d * d - r * r)
    heading = math.atan2(4.9 - 2, 8 - 2) - math.asin(r / d)
    expected = 2 * (tangent + r * (math.pi / 2 - heading)) + 0.2
    path = g.shortest_path(a, b)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)
    assert length(path) == pytest.approx(expected, rel=0.03)
    assert g.geodesic_distance(a, b) == pytest.approx(length(path))
    assert path[:, 0].max() > 8.0  # it goes around the wall end, not through the wall
    # Every waypoint and every point between them is navigable.
    t = np.linspace(0, 1, 200)[:, None, None]
    dense = path[:-1] + t * (path[1:] - path[:-1])
    assert g.is_navigable(dense).all()


def test_separated_rooms_are_unreachable() -> None:
    g = NavGrid.from_mesh(*scene(floor(0, 0, 10, 6), wall(-0.5, 2.9, 10.5, 3.1)))
    a, b = np.array([5.0, 1.5]), np.array([5.0, 4.5])
    assert g.geodesic_distance(a, b) == math.inf
    assert g.shortest_path(a, b).shape == (0, 2)
    assert not np.isfinite(g.distance_field(b)[tuple(g.world_to_cell(a))])
    labels, count = g.components()
    assert count == 2 and labels.dtype == np.int32
    la, lb = labels[tuple(g.world_to_cell(a))], labels[tuple(g.world_to_cell(b))]
    assert la > 0 and lb > 0 and la != lb
    np.testing.assert_array_equal(labels > 0, g.navigable)


@pytest.mark.parametrize(("radius", "passes"), [(0.2, True), (0.4, False)])
def test_doorway_admits_only_robots_that_fit(radius: float, passes: bool) -> None:
    # Two 4 m x 4 m rooms joined by a 0.6 m doorway at y in [1.7, 2.3] in the wall at x=4.
    mesh = scene(floor(0, 0, 8, 4), wall(3.9, -0.5, 4.1, 1.7), wall(3.9, 2.3, 4.1, 4.5))
    g = NavGrid.from_mesh(*mesh, NavConfig(robot_radius=radius))
    a, b = np.array([2.0, 2.0]), np.array([6.0, 2.0])
    assert g.is_navigable(np.stack([a, b])).all()
    assert math.isfinite(g.geodesic_distance(a, b)) == passes
    assert g.components()[1] == (1 if passes else 2)
    if passes:
        assert g.geodesic_distance(a, b) == pytest.approx(4.0, rel=0.01)


def test_non_navigable_endpoints_raise_naming_the_point(pillar_room: NavGrid) -> None:
    good = [1.0, 1.0]
    with pytest.raises(ValueError, match=r"a_xy=\(3\.0, 2\.0\)"):
        pillar_room.shortest_path([3.0, 2.0], good)
    with pytest.raises(ValueError, match=r"b_xy=\(-0\.3, 2\.0\)"):
        pillar_room.shortest_path(good, [-0.3, 2.0])
    with pytest.raises(ValueError, match="goal_xy"):
        pillar_room.distance_field([3.0, 2.0])
    with pytest.raises(ValueError, match="a_xy"):
        pillar_room.shortest_path([np.nan, 1.0], good)
    assert pillar_room.geodesic_distance([3.0, 2.0], good) == math.inf


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"cell_size": -1}, "cell_size"),
        ({"cell_size": 0}, "cell_size"),
        ({"robot_radius": float("nan")}, "robot_radius"),
        ({"robot_height": 0}, "robot_height"),
        ({"step_height": -0.1}, "step_height"),
        ({"step_height": 1.5, "robot_height": 1.2}, "step_height"),
        ({"floor_z": float("inf")}, "floor_z"),
        ({"cell_size": "5cm"}, "cell_size"),
    ],
)
def test_invalid_config_raises(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        NavConfig(**kwargs)


def test_invalid_mesh_raises() -> None:
    v, f = floor(0, 0, 1, 1)
    with pytest.raises(ValueError, match="faces"):
        NavGrid.from_mesh(v, f + 100)
    with pytest.raises(ValueError, match="vertices"):
        NavGrid.from_mesh(v[:, :2], f)
    with pytest.raises(ValueError, match="margin"):
        NavGrid.from_mesh(v, f, margin=-1.0)


def test_snap_and_sample_stay_navigable(pillar_room: NavGrid) -> None:
    g = pillar_room
    snapped = g.snap(np.array([[3.0, 2.0], [-2.0, -2.0]]))
    assert snapped.shape == (2, 2) and g.is_navigable(snapped).all()
    assert np.linalg.norm(snapped[0] - [3.0, 2.0]) < 0.1 + g.config.robot_radius + 2 * CS
    pts = g.sample_navigable(np.random.default_rng(3), 500)
    assert pts.shape == (500, 2) and g.is_navigable(pts).all()
    np.testing.assert_array_equal(pts, g.sample_navigable(np.random.default_rng(3), 500))
    with pytest.raises(ValueError, match="n must"):
        g.sample_navigable(np.random.default_rng(0), -1)


def test_low_and_high_geometry_do_not_block() -> None:
    # A 3 cm threshold is driven over; a shelf at 1.5 m is above the robot; a table top at
    # 0.7 m (legs omitted) blocks, and only its footprint.
    mesh = scene(
        floor(0, 0, 6, 6),
        box((1, 0, 0), (1.2, 6, 0.03)),
        box((3, 0, 1.5), (3.3, 6, 1.6)),
        box((4, 2, 0.7), (5, 3, 0.75)),
    )
    g = NavGrid.from_mesh(*mesh)
    assert not g.obstacle[:, g.world_to_cell([1.1, 0])[1]].any()
    assert not g.obstacle[:, g.world_to_cell([3.15, 0])[1]].any()
    assert g.obstacle[tuple(g.world_to_cell([4.5, 2.5]))]
    assert not g.obstacle[tuple(g.world_to_cell([4.5, 3.2]))]
    assert g.components()[1] == 1


def test_closed_solids_are_filled_but_rooms_seen_from_inside_are_not() -> None:
    # A 1.2 m x 0.8 m wardrobe taller than the robot: only its sides cross the height band,
    # yet its hollow inside (wide enough for the robot) must not become a navigable pocket.
    wardrobe = box((2, 2, 0), (3.2, 2.8, 2.0))
    room_v, room_f = box((0, 0, 0), (6, 6, 2.5))
    room = (room_v, room_f[:, ::-1])  # a closed room box whose faces point inwards
    g = NavGrid.from_mesh(*scene(floor(0, 0, 6, 6), room, wardrobe))
    assert g.esdf_at([2.6, 2.4]) < -0.3 and g.components()[1] == 1
    assert g.navigable_area > 0.8 * (5.6 * 5.6 - 1.6 * 1.2)
    # The same scene as a triangle soup (no shared vertices) gives the same grid.
    v, f = scene(floor(0, 0, 6, 6), room, wardrobe)
    soup = NavGrid.from_mesh(v[f].reshape(-1, 3), np.arange(f.size).reshape(-1, 3))
    np.testing.assert_array_equal(soup.navigable, g.navigable)


def test_paths_never_cut_corners() -> None:
    # Two free 3x3-cell squares that touch only at one corner: no diagonal move may join them.
    blocked = np.ones((12, 12), bool)
    blocked[1:4, 1:4] = False
    blocked[4:7, 4:7] = False
    g = NavGrid.from_occupancy(blocked, (0.0, 0.0), NavConfig(cell_size=0.1, robot_radius=0.01))
    a, b = g.cell_to_world(np.array([3, 3])), g.cell_to_world(np.array([4, 4]))
    assert g.is_navigable(np.stack([a, b])).all()
    assert g.geodesic_distance(a, b) == math.inf
    assert g.components()[1] == 2
    # Opening one orthogonal cell joins them: the grid path steps through it.
    blocked[3, 4] = False
    g = NavGrid.from_occupancy(blocked, (0.0, 0.0), NavConfig(cell_size=0.1, robot_radius=0.01))
    assert g.distance_field(b)[3, 3] == pytest.approx(0.2)
    assert math.isfinite(g.geodesic_distance(a, b))
    assert g.components()[1] == 1


def test_only_geometry_in_the_band_blocks_and_only_upward_faces_are_floor() -> None:
    # A ramp rising from z=0 at x=1 to z=1 at x=2: it blocks only where it is above the step.
    ramp = (
        np.array([[1, 1, 0], [2, 1, 1], [2, 2, 1], [1, 2, 0]], float),
        np.array([[0, 1, 2], [0, 2, 3]]),
    )
    # A floor-level quad at x in [5, 6] facing down: not a surface to drive on.
    down = (
        np.array([[5, 0, 0], [6, 0, 0], [6, 1, 0], [5, 1, 0]], float),
        np.array([[0, 2, 1], [0, 3, 2]]),
    )
    g = NavGrid.from_mesh(*scene(floor(0, 0, 4, 4), ramp, down))
    assert not g.obstacle[tuple(g.world_to_cell([1.02, 1.5]))]
    assert g.obstacle[tuple(g.world_to_cell([1.07, 1.5]))]
    assert g.obstacle[tuple(g.world_to_cell([1.9, 1.5]))]
    assert not g.floor[tuple(g.world_to_cell([5.5, 0.5]))]


def test_one_cell_crack_between_floor_slabs_is_closed() -> None:
    g = NavGrid.from_mesh(*scene(floor(0, 0, 2, 4), floor(2 + CS, 0, 4, 4)))
    assert g.floor[tuple(g.world_to_cell([2 + CS / 2, 2.0]))]
    assert g.components()[1] == 1


def test_nearest_goal_field_is_the_minimum_of_single_goal_fields():
    blocked = np.zeros((60, 80), dtype=bool)
    blocked[30, 10:70] = True  # a wall with gaps at both ends
    grid = NavGrid.from_occupancy(blocked, np.zeros(2), NavConfig(robot_radius=0.1))
    goals = np.array([[0.5, 0.5], [3.5, 2.5], [9.0, 9.0], [1.0, 1.52]])  # last two: off / blocked
    field, nearest = grid.nearest_goal_field(goals)
    singles = [grid.distance_field(g) for g in goals[:2]]
    assert np.array_equal(field, np.minimum(*singles))
    with np.errstate(invalid="ignore"):  # inf - inf where neither goal is reachable
        reach = np.isfinite(field) & (np.abs(singles[0] - singles[1]) > 1e-3)  # no ties
    expect = np.where(singles[0] < singles[1], 0, 1)
    assert np.array_equal(nearest[reach], expect[reach])
    with pytest.raises(ValueError, match="none of the 1 goals_xy"):
        grid.nearest_goal_field(np.array([[9.0, 9.0]]))


def test_sampled_points_clear_the_robot_by_the_interpolated_esdf():
    blocked = np.zeros((40, 40), dtype=bool)
    blocked[::7, :] = True  # many walls: many cells at the edge of navigability
    grid = NavGrid.from_occupancy(blocked, np.zeros(2), NavConfig(robot_radius=0.1))
    points = grid.sample_navigable(np.random.default_rng(0), 5000)
    assert (grid.esdf_at(points) > grid.config.robot_radius).all()
    assert grid.is_navigable(points).all()
