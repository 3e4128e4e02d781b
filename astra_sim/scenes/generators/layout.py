"""Floor-plan pieces shared by the generators: rectangles, walls with doors, placement.

Everything here is axis-aligned: rooms are rectangles and furniture turns in quarter
turns, which keeps placement checks exact and the generators short.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from astra_sim.scenes.builder import SceneBuilder
from astra_sim.scenes.generators.furniture import footprint, place

WALL_T = 0.1
DOOR_H = 2.1


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def w(self) -> float:
        return self.x1 - self.x0

    @property
    def h(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    @property
    def area(self) -> float:
        return self.w * self.h

    def inflate(self, d: float) -> Rect:
        return Rect(self.x0 - d, self.y0 - d, self.x1 + d, self.y1 + d)

    def overlaps(self, o: Rect) -> bool:
        return self.x0 < o.x1 and o.x0 < self.x1 and self.y0 < o.y1 and o.y0 < self.y1

    def inside(self, o: Rect) -> bool:
        return self.x0 >= o.x0 and self.y0 >= o.y0 and self.x1 <= o.x1 and self.y1 <= o.y1

    def polygon(self) -> list[tuple[float, float]]:
        return [(self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1), (self.x0, self.y1)]

    @staticmethod
    def around(xy: tuple[float, float], size: tuple[float, float]) -> Rect:
        return Rect(
            xy[0] - size[0] / 2, xy[1] - size[1] / 2, xy[0] + size[0] / 2, xy[1] + size[1] / 2
        )


def wall(
    b: SceneBuilder,
    mat: int,
    p0: tuple[float, float],
    p1: tuple[float, float],
    height: float,
    openings: list[tuple[float, float]] = (),
    room: int = -1,
    lintel: bool = True,
) -> None:
    """An axis-aligned wall from ``p0`` to ``p1`` with gaps at ``openings``.

    Openings are (start, end) distances along the wall from ``p0``; a lintel closes each
    opening above door height so the wall reads as one wall in images.
    """
    (x0, y0), (x1, y1) = p0, p1
    if x0 != x1 and y0 != y1:
        raise ValueError(f"walls must be axis-aligned, got {p0} -> {p1}")
    length = abs(x1 - x0) + abs(y1 - y0)
    direction = np.array([x1 - x0, y1 - y0]) / length
    inst = b.instance(
        "wall",
        room=room,
        position=((x0 + x1) / 2, (y0 + y1) / 2, 0),
        size=(length, WALL_T, height),
        yaw=float(np.arctan2(*direction[::-1])),
    )
    cuts = sorted((max(0.0, s), min(length, e)) for s, e in openings)
    solid, start = [], 0.0
    for s, e in cuts:
        if s > start:
            solid.append((start, s, 0.0, height))
        if lintel and height > DOOR_H:
            solid.append((s, e, DOOR_H, height - DOOR_H))
        start = max(start, e)
    if start < length:
        solid.append((start, length, 0.0, height))
    sides = ("+x", "-x", "+y", "-y", "top")
    for s, e, z0, h in solid:
        mid = np.array([x0, y0]) + direction * (s + e) / 2
        size = (e - s, WALL_T, h) if direction[0] else (WALL_T, e - s, h)
        b.box(inst, mat, (mid[0], mid[1]), z0, size, faces=(*sides, "bottom") if z0 else sides)
    # A threshold closes the floor under each opening, so no camera sees through the gap.
    sill = b.material("wood", "beige", 1.0) if cuts else None
    for s, e in cuts:
        mid = np.array([x0, y0]) + direction * (s + e) / 2
        size = (e - s, WALL_T, 0.05) if direction[0] else (WALL_T, e - s, 0.05)
        b.box(inst, sill, (mid[0], mid[1]), -0.05, size, faces=("top",))


def door_frame(
    b: SceneBuilder,
    room: int,
    center: tuple[float, float],
    along_x: bool,
    width: float,
    colour: str,
    label: str = "door",
) -> int:
    """Posts and a head around a door opening: a landmark the map can name."""
    mat = b.material("wood", colour, 0.5)
    post, depth = 0.06, WALL_T + 0.04
    inst = b.instance(
        "door",
        room=room,
        name=f"{colour} {label}",
        attributes={"colour": colour, "material": "wood"},
        description="a doorway between rooms",
        landmark=True,
        position=(center[0], center[1], 0),
        size=(width, depth, DOOR_H),
        yaw=0.0 if along_x else np.pi / 2,
    )
    for side in (-1, 1):
        off = side * (width / 2 - post / 2)
        xy = (center[0] + off, center[1]) if along_x else (center[0], center[1] + off)
        size = (post, depth, DOOR_H) if along_x else (depth, post, DOOR_H)
        b.box(inst, mat, xy, 0.0, size)
    size = (width, depth, 0.08) if along_x else (depth, width, 0.08)
    b.box(inst, mat, center, DOOR_H - 0.08, size, faces=("+x", "-x", "+y", "-y", "bottom"))
    return inst


def floor_and_ceiling(
    b: SceneBuilder,
    room: int,
    rect: Rect,
    floor_kind: str,
    floor_colour: str,
    height: float,
    floor_tile: float = 1.0,
) -> None:
    """A floor slab (top at z = 0) and a ceiling panel for one room."""
    fmat = b.material(floor_kind, floor_colour, floor_tile)
    cmat = b.material("paint", "white", 2.0)
    size = (rect.w, rect.h)
    f = b.instance(
        "floor",
        room=room,
        position=(*rect.center, 0.0),
        size=(*size, 0.0),
        attributes={"material": floor_kind, "colour": floor_colour},
    )
    b.box(f, fmat, rect.center, -0.05, (*size, 0.05), faces=("top",))
    c = b.instance("ceiling", room=room, position=(*rect.center, height), size=(*size, 0.0))
    b.box(c, cmat, rect.center, height, (*size, 0.05), faces=("bottom",))


# yaw that faces into the room for an object whose back is on each side's wall
SIDE_YAW = {"x0": 0.0, "x1": np.pi, "y0": np.pi / 2, "y1": -np.pi / 2}


@dataclass
class Placer:
    """Places catalogue objects in one room without overlaps or blocked doorways."""

    b: SceneBuilder
    room: int
    rect: Rect
    rng: np.random.Generator
    keepout: list[Rect] = field(default_factory=list)
    taken: list[Rect] = field(default_factory=list)

    def keep_door_clear(self, center: tuple[float, float], width: float, depth: float = 1.1):
        """Reserve the floor just inside a doorway so the robot can always get in."""
        cx, cy = center
        d = width / 2 + 0.25
        self.keepout.append(
            Rect(cx - d, cy - depth, cx + d, cy + depth)
            if abs(cy - self.rect.y0) < 0.3 or abs(cy - self.rect.y1) < 0.3
            else Rect(cx - depth, cy - d, cx + depth, cy + d)
        )

    def fits(self, r: Rect, gap: float) -> bool:
        if not r.inside(self.rect):
            return False
        if any(r.overlaps(k) for k in self.keepout):
            return False
        return not any(r.inflate(gap).overlaps(t) for t in self.taken)

    def put(
        self,
        kind: str,
        xy: tuple[float, float],
        yaw: float,
        gap: float = 0.05,
        colour: str | None = None,
        **kwargs,
    ) -> int | None:
        r = Rect.around(xy, footprint(kind, yaw))
        if not self.fits(r, gap):
            return None
        self.taken.append(r)
        return place(self.b, kind, self.room, xy, yaw, self.rng, colour=colour, **kwargs)

    def against_wall(
        self,
        kind: str,
        sides: tuple[str, ...] = ("x0", "x1", "y0", "y1"),
        tries: int = 30,
        gap: float = 0.05,
        colour: str | None = None,
    ) -> tuple[int, tuple[float, float], float] | None:
        """Back against a wall on one of ``sides``; returns (instance, centre, yaw)."""
        margin = 0.02
        for _ in range(tries):
            side = str(self.rng.choice(sides))
            yaw = SIDE_YAW[side]
            fx, fy = footprint(kind, yaw)
            r = self.rect
            if side in ("x0", "x1"):
                x = r.x0 + fx / 2 + margin if side == "x0" else r.x1 - fx / 2 - margin
                lo, hi = r.y0 + fy / 2 + margin, r.y1 - fy / 2 - margin
                if hi <= lo:
                    continue
                xy = (x, float(self.rng.uniform(lo, hi)))
            else:
                y = r.y0 + fy / 2 + margin if side == "y0" else r.y1 - fy / 2 - margin
                lo, hi = r.x0 + fx / 2 + margin, r.x1 - fx / 2 - margin
                if hi <= lo:
                    continue
                xy = (float(self.rng.uniform(lo, hi)), y)
            inst = self.put(kind, xy, yaw, gap=gap, colour=colour)
            if inst is not None:
                return inst, xy, yaw
        return None

    def anywhere(
        self, kind: str, gap: float = 0.6, tries: int = 30, colour: str | None = None
    ) -> int | None:
        """Free-standing, at least ``gap`` from everything else so the robot can pass."""
        for _ in range(tries):
            yaw = float(self.rng.integers(4)) * np.pi / 2
            fx, fy = footprint(kind, yaw)
            r = self.rect
            if r.w <= fx + 2 * gap or r.h <= fy + 2 * gap:
                return None
            xy = (
                float(self.rng.uniform(r.x0 + fx / 2 + gap, r.x1 - fx / 2 - gap)),
                float(self.rng.uniform(r.y0 + fy / 2 + gap, r.y1 - fy / 2 - gap)),
            )
            inst = self.put(kind, xy, yaw, gap=gap, colour=colour)
            if inst is not None:
                return inst
        return None

    def clutter(self, density: float, kinds: tuple[str, ...], gap: float = 0.6) -> int:
        """Scatter small props: ``density`` items per square metre of room, best effort."""
        n = int(self.rng.poisson(density * self.rect.area))
        return sum(
            self.anywhere(str(self.rng.choice(kinds)), gap=gap) is not None for _ in range(n)
        )


def unreachable_rooms(scene) -> list[int]:
    """Rooms with no navigable cell in the scene's main navigable region.

    The main region is the one that reaches the most rooms; a generator re-furnishes the
    rooms listed here more sparsely until every room is reachable from every other.
    """
    grid = scene.navgrid()
    labels, _ = grid.components()
    rows, cols = grid.shape
    cs = grid.config.cell_size
    xs = grid.origin[0] + (np.arange(cols) + 0.5) * cs
    ys = grid.origin[1] + (np.arange(rows) + 0.5) * cs
    centres = np.stack(np.meshgrid(xs, ys), axis=-1)
    room_labels = []
    for room in scene.rooms:
        inside = room.contains(centres) & (labels > 0)
        room_labels.append(set(np.unique(labels[inside]).tolist()))
    counts: dict[int, int] = {}
    for labs in room_labels:
        for lab in labs:
            counts[lab] = counts.get(lab, 0) + 1
    if not counts:
        return [room.id for room in scene.rooms]
    main = max(sorted(counts), key=lambda lab: counts[lab])
    return [
        room.id for room, labs in zip(scene.rooms, room_labels, strict=True) if main not in labs
    ]


def build_connected(build, what: str, attempts: int = 3):
    """Call ``build(empty_rooms)`` until every room is reachable, furnishing less each time.

    ``build`` takes the set of room ids to leave without furniture and returns a Scene;
    the last attempt empties every room, so a failure there is the floor plan's fault.
    """
    sparse: set[int] = set()
    for attempt in range(attempts):
        scene = build(frozenset(sparse))
        bad = unreachable_rooms(scene)
        if not bad:
            return scene
        sparse |= set(bad)
        if attempt == attempts - 2:
            sparse = {room.id for room in scene.rooms}
    names = [scene.rooms[i].name for i in bad]
    raise ValueError(
        f"{what}: rooms {', '.join(names)} stay unreachable for a robot of radius "
        f"{scene.nav_config.robot_radius} m even without furniture; widen doors or "
        "corridors, or use a smaller robot"
    )
