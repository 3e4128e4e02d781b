"""Goal specifications, the language goals a scene offers, and geodesic distance to a goal.

A goal is a set of navigable points that count as reaching it, so every task (a point, an
object seen from nearby, a whole room, any place to rest) is scored the same way: geodesic
distance to the nearest of those points.
"""

from __future__ import annotations

import math
import re
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from astra_sim.core.errors import UnknownNameError
from astra_sim.scenes.model import Instance, Scene
from astra_sim.scenes.navigation import NavGrid, path_length

GOAL_KINDS = ("point", "image", "object", "room", "shelf", "function")
MAX_GOAL_POSITIONS = 64
"""Goal positions kept per goal: bounds the cost of the distance field (one search each)."""

# Phrase -> description keywords (matched at word starts, so "work" finds "working").
FUNCTION_PHRASES: dict[str, tuple[str, ...]] = {
    "somewhere to rest": ("rest",),
    "somewhere to cook": ("cook", "food"),
    "somewhere to sleep": ("sleep",),
    "somewhere to wash": ("wash", "bath"),
    "somewhere to work": ("work",),
    "somewhere to get coffee": ("coffee",),
    "somewhere to hold a meeting": ("meeting",),
}
_FIELD_CACHE_SIZE = 16  # per grid: a scene offers a few dozen language goals
_field_cache: weakref.WeakKeyDictionary[NavGrid, OrderedDict[bytes, tuple[Any, ...]]] = (
    weakref.WeakKeyDictionary()
)
# Structure and signs have no useful "colour + category" name.
_UNNAMED_CATEGORIES = frozenset({"void", "wall", "floor", "ceiling", "sign"})


@dataclass(eq=False)
class Goal:
    """What the agent must reach: navigable world points plus what names them.

    Attributes:
        kind: One of GOAL_KINDS.
        positions: (G, 2) float64 world points; being near any one of them reaches the goal.
        instruction: The sentence given to the agent ("Go to the red sofa."); empty for point
            and image goals, which carry no language.
        instance_ids: Scene instances the goal names (empty for points and rooms).
        room_id: The room the goal lies in or names, None if none or several.
    """

    kind: str
    positions: np.ndarray
    instruction: str = ""
    instance_ids: list[int] = field(default_factory=list)
    room_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in GOAL_KINDS:
            raise UnknownNameError("goal kind", self.kind, GOAL_KINDS)
        positions = np.array(self.positions, dtype=np.float64)  # a copy: goals outlive callers
        if positions.ndim != 2 or positions.shape[1] != 2 or len(positions) == 0:
            raise ValueError(
                f"goal positions must be a non-empty (G, 2) array, got {positions.shape}"
            )
        if not np.isfinite(positions).all():
            raise ValueError("goal positions must be finite")
        self.positions = positions
        self.instance_ids = [int(i) for i in self.instance_ids]
        self.room_id = None if self.room_id is None else int(self.room_id)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict; positions become nested lists."""
        return {
            "kind": self.kind,
            "positions": self.positions.tolist(),
            "instruction": self.instruction,
            "instance_ids": list(self.instance_ids),
            "room_id": self.room_id,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Goal:
        """Inverse of `to_json`; raises KeyError/ValueError on bad input (loaders wrap them)."""
        return cls(
            kind=d["kind"],
            positions=np.asarray(d["positions"], dtype=np.float64).reshape(-1, 2),
            instruction=d["instruction"],
            instance_ids=d["instance_ids"],
            room_id=d["room_id"],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Goal):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]


def subsample(points: np.ndarray, k: int = MAX_GOAL_POSITIONS) -> np.ndarray:
    """At most k of the points, spread out by farthest-point sampling; deterministic.

    Spread matters because reaching the goal means being near one kept point: k points taken
    in raster order would bunch up on one side of a room.

    Returns:
        The kept points in their original order.
    """
    points = np.asarray(points, dtype=np.float64)
    if len(points) <= k:
        return points.copy()
    first = int(np.argmin(np.linalg.norm(points - points.mean(0), axis=1)))
    chosen = [first]
    gap = np.linalg.norm(points - points[first], axis=1)
    for _ in range(k - 1):
        nxt = int(np.argmax(gap))
        chosen.append(nxt)
        gap = np.minimum(gap, np.linalg.norm(points - points[nxt], axis=1))
    return points[np.sort(chosen)]


def object_positions(grid: NavGrid, instances: list[Instance], view_radius: float = 1.0):
    """Navigable cell centres within view_radius of any instance's footprint edge, subsampled.

    The footprint is the instance's oriented rectangle (size x along yaw, size y across).

    Returns:
        (G, 2) world points, G <= MAX_GOAL_POSITIONS; (0, 2) if no navigable cell is close.
    """
    if not (math.isfinite(view_radius) and view_radius > 0):
        raise ValueError(f"view_radius must be a finite number > 0, got {view_radius!r}")
    found = [_near_footprint(grid, inst, view_radius) for inst in instances]
    cells = np.unique(np.concatenate([np.zeros((0, 2), np.int64), *found]), axis=0)
    return subsample(grid.cell_to_world(cells))


def language_goals(scene: Scene, grid: NavGrid, view_radius: float = 1.0) -> list[Goal]:
    """Every goal a sentence can name unambiguously in this scene, in a fixed order.

    Objects by colour and category ("the red sofa", only when no other instance shares both),
    rooms by number ("room 202" when a door sign reads "Room 202", else the room's own name
    such as "bedroom 1") and by type when the type is unique ("the kitchen"), warehouse
    shelves by code ("shelf B-014"), and functions ("somewhere to rest": every instance
    whose description mentions a keyword of FUNCTION_PHRASES). Goals with no navigable
    position, and phrases that would name two different things, are left out.

    Returns:
        Object, room, shelf, then function goals, each group in instance/room id order.
    """
    goals: list[Goal] = []
    named = [i for i in scene.instances if i.category not in _UNNAMED_CATEGORIES]
    counts: dict[tuple[str, str], int] = {}
    for inst in named:
        key = (inst.attributes.get("colour", ""), inst.category)
        counts[key] = counts.get(key, 0) + 1
    for inst in named:
        colour = inst.attributes.get("colour", "")
        if colour and counts[(colour, inst.category)] == 1:
            phrase = f"the {colour} {inst.category.replace('_', ' ')}"
            room = inst.room if inst.room >= 0 else None
            goals.append(_goal(grid, "object", f"Go to {phrase}.", [inst], room, view_radius))
    goals += _room_goals(scene, grid)
    for inst in scene.find(category="shelf"):
        if inst.text:
            room = inst.room if inst.room >= 0 else None
            text = f"Go to shelf {inst.text}."
            goals.append(_goal(grid, "shelf", text, [inst], room, view_radius))
    for phrase, keywords in FUNCTION_PHRASES.items():
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, keywords)) + ")", re.IGNORECASE)
        hits = [i for i in scene.instances if pattern.search(i.description)]
        if hits:
            rooms = {i.room for i in hits}
            room = rooms.pop() if len(rooms) == 1 and min(rooms) >= 0 else None
            goals.append(_goal(grid, "function", f"Find {phrase}.", hits, room, view_radius))
    kept = [g for g in goals if g is not None]
    seen: dict[str, int] = {}
    for g in kept:
        seen[g.instruction] = seen.get(g.instruction, 0) + 1
    return [g for g in kept if seen[g.instruction] == 1]


class GoalDistance:
    """Geodesic metres from any point to the nearest goal position: the `distance_to_goal`
    callable of the measures, the sampler's d0 and ``info["geodesic_distance"]`` alike.

    Every distance is the length of `NavGrid.path_to_nearest` (a 16-connected Dijkstra
    chain, string-pulled, from the exact point to the exact goal point): one computation,
    so the d0 that SPL divides by is the distance reported at reset (docs/trust.md). The
    multi-source search is cached by the grid; at most MAX_GOAL_POSITIONS goal positions
    are kept (farthest-point subsampled), one per cell. A point off the navigable grid
    (e.g. pressed into a wall) is snapped to the nearest navigable cell centre and the
    straight distance to it added.

    Attributes:
        sources: (K, 2) the goal positions searched from (exact points, one per cell).
        field: read-only float32 (rows, cols) grid metres (the 16-connected metric, up to
            ~2.7 % long), inf where no source is reachable: for screening, never reported.
        nearest: read-only int32 (rows, cols) index into sources of the closest one, -1 if none.
    """

    def __init__(self, grid: NavGrid, goal_positions: np.ndarray) -> None:
        """Search the fields; raises ValueError if no goal position is navigable."""
        points = np.asarray(goal_positions, dtype=np.float64).reshape(-1, 2)
        if len(points) == 0 or not np.isfinite(points).all():
            raise ValueError(f"goal_positions must be finite (G, 2) points, got {points.shape}")
        ok = grid.is_navigable(points)
        if not ok.any():
            raise ValueError(
                f"none of the {len(points)} goal positions is navigable "
                f"(first {tuple(points[0].tolist())})"
            )
        self.grid = grid
        _, first = np.unique(grid.world_to_cell(points[ok]), axis=0, return_index=True)
        self.sources = subsample(points[ok][np.sort(first)])
        cache = _field_cache.setdefault(grid, OrderedDict())
        key = grid.world_to_cell(self.sources).tobytes()
        if key not in cache:
            cache[key] = _min_field(grid, self.sources)
            if len(cache) > _FIELD_CACHE_SIZE:
                cache.popitem(last=False)
        cache.move_to_end(key)
        self.field, self.nearest = cache[key]
        self._last: tuple[bytes, float] | None = None

    def __call__(self, xy: np.ndarray) -> float:
        """Geodesic metres from the world point xy to the nearest goal position."""
        xy = _xy(xy)
        key = xy.tobytes()
        if self._last is None or self._last[0] != key:  # the env asks twice per step
            self._last = (key, path_length(self.path(xy)))
        return self._last[1]

    def path(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) waypoints from exactly xy to the nearest goal position whose length is the
        distance; an empty (0, 2) array if no goal is reachable."""
        xy = _xy(xy)
        if self.grid.is_navigable(xy):
            return self.grid.path_to_nearest(xy, self.sources)
        snapped = self.grid.snap(xy)
        path = self.grid.path_to_nearest(snapped, self.sources)
        return np.vstack([xy, path]) if len(path) else path

    def screen(self, xy: np.ndarray) -> float:
        """The grid-field value at xy's cell (plus the snap gap): a cheap estimate, up to
        ~3 % long, for screening candidates; never a reported distance."""
        cell, extra = self._cell(xy)
        return float(self.field[cell[0], cell[1]]) + extra

    def nearest_source(self, xy: np.ndarray) -> np.ndarray | None:
        """The goal position closest (geodesically) to xy, None if none is reachable."""
        cell, _ = self._cell(xy)
        index = int(self.nearest[cell[0], cell[1]])
        return None if index < 0 else self.sources[index].copy()

    def _cell(self, xy: np.ndarray) -> tuple[np.ndarray, float]:
        xy = _xy(xy)
        cell = self.grid.world_to_cell(xy)
        if self.grid.in_bounds(cell) and self.grid.navigable[cell[0], cell[1]]:
            return cell, 0.0
        snapped = self.grid.snap(xy)
        return self.grid.world_to_cell(snapped), float(np.linalg.norm(snapped - xy))


def _xy(xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, dtype=np.float64)
    if xy.shape != (2,) or not np.isfinite(xy).all():
        raise ValueError(f"xy must be a finite (x, y) point, got {xy!r}")
    return xy


def _min_field(grid: NavGrid, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Read-only (min distance field, index of the nearest source), one multi-source search."""
    return grid.nearest_goal_field(sources)


def _goal(
    grid: NavGrid,
    kind: str,
    instruction: str,
    instances: list[Instance],
    room: int | None,
    view_radius: float,
) -> Goal | None:
    positions = object_positions(grid, instances, view_radius)
    if len(positions) == 0:
        return None
    ids = [i.id for i in instances]
    return Goal(kind, positions, instruction, ids, room)


def _room_goals(scene: Scene, grid: NavGrid) -> list[Goal | None]:
    """Numbered rooms by number, rooms of a unique type by type, in room id order."""
    cells = np.argwhere(grid.navigable)
    centres = grid.cell_to_world(cells)
    type_counts: dict[str, int] = {}
    for room in scene.rooms:
        type_counts[room.type] = type_counts.get(room.type, 0) + 1
    goals: list[Goal | None] = []
    for room in scene.rooms:
        phrases = []
        number = re.search(r"(\d+)$", room.name)
        if number:
            sign = scene.find(text=f"Room {number.group(1)}")
            phrases.append(f"room {number.group(1)}" if sign else room.name)
        if type_counts[room.type] == 1:
            phrases.append(f"the {room.type.replace('_', ' ') if number else room.name}")
        if not phrases:
            continue
        inside = centres[room.contains(centres)]
        if len(inside) == 0:
            continue
        positions = subsample(inside)
        goals += [Goal("room", positions, f"Go to {p}.", [], room.id) for p in phrases]
    return goals


def _near_footprint(grid: NavGrid, inst: Instance, view_radius: float) -> np.ndarray:
    """(N, 2) (row, col) navigable cells whose centres lie within view_radius of the
    instance's footprint rectangle."""
    cx, cy = inst.position[0], inst.position[1]
    hx, hy = inst.size[0] / 2, inst.size[1] / 2
    reach = math.hypot(hx, hy) + view_radius
    lo = grid.world_to_cell(np.array([cx - reach, cy - reach]))
    hi = grid.world_to_cell(np.array([cx + reach, cy + reach]))
    rows = np.arange(max(lo[0], 0), min(hi[0] + 1, grid.shape[0]))
    cols = np.arange(max(lo[1], 0), min(hi[1] + 1, grid.shape[1]))
    if len(rows) == 0 or len(cols) == 0:
        return np.zeros((0, 2), np.int64)
    rc = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1).reshape(-1, 2)
    rc = rc[grid.navigable[rc[:, 0], rc[:, 1]]]
    d = grid.cell_to_world(rc) - (cx, cy)
    c, s = math.cos(inst.yaw), math.sin(inst.yaw)
    along, across = d[:, 0] * c + d[:, 1] * s, -d[:, 0] * s + d[:, 1] * c
    gap = np.hypot(np.maximum(np.abs(along) - hx, 0), np.maximum(np.abs(across) - hy, 0))
    return rc[gap <= view_radius]
