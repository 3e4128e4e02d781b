"""Homes: a living room open to a hallway, with kitchen, bathroom and bedrooms off it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

import numpy as np

from astra_sim.core.seeding import make_rng
from astra_sim.scenes.builder import SceneBuilder
from astra_sim.scenes.generators.layout import (
    WALL_T,
    Placer,
    Rect,
    build_connected,
    door_frame,
    floor_and_ceiling,
    wall,
)
from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavConfig

MIN_ROOM = 2.4


@dataclass(frozen=True)
class HomeParams:
    """Size and density knobs of a home.

    Attributes:
        width: outer size along x in metres.
        depth: outer size along y in metres.
        bedrooms: number of bedrooms (besides kitchen, bathroom, living room, hallway).
        wall_height: metres.
        hallway_width: clear width of the hallway in metres.
        door_width: clear width of room doors in metres.
        furniture: probability of each optional piece of furniture (0 to 1).
        clutter: small props per square metre of room floor.
    """

    width: float = 12.0
    depth: float = 9.0
    bedrooms: int = 2
    wall_height: float = 2.6
    hallway_width: float = 1.4
    door_width: float = 0.9
    furniture: float = 0.8
    clutter: float = 0.08

    def __post_init__(self) -> None:
        if self.bedrooms < 1:
            raise ValueError(f"bedrooms must be >= 1, got {self.bedrooms}")
        if not 0 <= self.furniture <= 1:
            raise ValueError(f"furniture must be in [0, 1], got {self.furniture}")
        if self.clutter < 0:
            raise ValueError(f"clutter must be >= 0, got {self.clutter}")
        per_row = (self.bedrooms + 3) // 2
        need_w = 3.0 + per_row * MIN_ROOM
        if self.width < need_w:
            raise ValueError(
                f"width {self.width} m is too small for {self.bedrooms} bedrooms; "
                f"need at least {need_w:.1f} m"
            )
        need_d = 2 * MIN_ROOM + self.hallway_width + 0.5
        if self.depth < need_d:
            raise ValueError(f"depth {self.depth} m is too small; need at least {need_d:.1f} m")


def _split(rng: np.random.Generator, x0: float, x1: float, n: int) -> list[float]:
    """Cut [x0, x1] into n parts of random width, each at least MIN_ROOM."""
    slack = (x1 - x0) - n * MIN_ROOM
    w = rng.dirichlet(np.full(n, 3.0)) * slack + MIN_ROOM
    return [x0, *(x0 + np.cumsum(w)).tolist()[:-1], x1]


def generate_home(p: HomeParams, seed: int, nav: NavConfig) -> Scene:
    return build_connected(partial(_build, p, seed, nav), f"home seed {seed}")


def _build(p: HomeParams, seed: int, nav: NavConfig, empty: frozenset[int]) -> Scene:
    rng = make_rng(seed, "home/layout")
    b = SceneBuilder("home", seed, asdict(p), nav)
    W, D, H, t = p.width, p.depth, p.wall_height, WALL_T
    x_living = W * rng.uniform(0.3, 0.38)
    x_living = min(x_living, W - (p.bedrooms + 3) // 2 * MIN_ROOM)
    y_hall = float(rng.uniform(MIN_ROOM + 0.2, D - MIN_ROOM - p.hallway_width - 0.2))
    y_wall_top = y_hall + p.hallway_width + t / 2
    y_wall_bottom = y_hall - t / 2
    n_top = (p.bedrooms + 3) // 2
    n_bottom = p.bedrooms + 2 - n_top
    top_types = ["kitchen"] + ["bedroom"] * (n_top - 1)
    bottom_types = ["bathroom"] + ["bedroom"] * (n_bottom - 1)
    rng.shuffle(top_types)
    rng.shuffle(bottom_types)

    wall_colours = ["white", "cream", "beige", "light blue", "grey", "pink", "light green"]
    wall_mat = {
        k: b.material("paint", str(rng.choice(wall_colours)), 2.0)
        for k in ("living_room", "hallway", "kitchen", "bathroom", "bedroom")
    }
    rooms: list[tuple[int, str, Rect]] = []

    def add_room(kind: str, name: str, rect: Rect) -> int:
        rid = b.room(kind, name, rect.polygon())
        rooms.append((rid, kind, rect))
        return rid

    living = add_room("living_room", "living room", Rect(t / 2, t / 2, x_living - t / 2, D - t / 2))
    hall = add_room(
        "hallway", "hallway", Rect(x_living + t / 2, y_hall, W - t / 2, y_hall + p.hallway_width)
    )
    bedroom_no = 0
    doors: list[tuple[int, tuple[float, float], bool]] = []
    for types, (ya, yb), y_wall in (
        (top_types, (y_wall_top, D), y_wall_top),
        (bottom_types, (0.0, y_wall_bottom), y_wall_bottom),
    ):
        cuts = _split(rng, x_living, W, len(types))
        openings = []
        for kind, xa, xb in zip(types, cuts[:-1], cuts[1:], strict=True):
            if kind == "bedroom":
                bedroom_no += 1
                name = f"bedroom {bedroom_no}"
            else:
                name = kind
            rid = add_room(kind, name, Rect(xa + t / 2, ya + t / 2, xb - t / 2, yb - t / 2))
            half = p.door_width / 2
            cx = float(rng.uniform(xa + 0.35 + half, xb - 0.35 - half))
            openings.append((cx - half - x_living, cx + half - x_living))
            doors.append((rid, (cx, y_wall), True))
        wall(b, wall_mat["hallway"], (x_living, y_wall), (W, y_wall), H, openings, room=hall)
        for xc in cuts[1:-1]:
            wall(b, wall_mat["bedroom"], (xc, ya), (xc, yb), H)

    # The living room opens onto the hallway through a wide gap in the wall between them.
    gap = (y_hall + 0.05, y_hall + p.hallway_width - 0.05)
    wall(b, wall_mat["living_room"], (x_living, 0), (x_living, D), H, [gap], room=living)
    for a, c in (
        ((-t / 2, 0), (W + t / 2, 0)),
        ((-t / 2, D), (W + t / 2, D)),
        ((0, 0), (0, D)),
        ((W, 0), (W, D)),
    ):
        wall(b, wall_mat["living_room"], a, c, H)
    for rid, centre, along_x in doors:
        door_frame(
            b,
            rid,
            centre,
            along_x,
            p.door_width + 0.12,
            str(rng.choice(["white", "brown", "dark brown"])),
        )

    floors = {
        "living_room": ("wood", "brown"),
        "hallway": ("wood", "beige"),
        "kitchen": ("tiles", "white"),
        "bathroom": ("tiles", "light blue"),
        "bedroom": ("carpet", "grey"),
    }
    for rid, kind, rect in rooms:
        floor_and_ceiling(b, rid, rect, *floors[kind], H)

    furn_rng = make_rng(seed, "home/furniture")
    for rid, kind, rect in rooms:
        placer = Placer(b, rid, rect, furn_rng)
        for drid, (cx, cy), _ in doors:
            if drid == rid or kind == "hallway":
                placer.keep_door_clear((cx, cy), p.door_width)
        if kind == "living_room":
            placer.keep_door_clear((rect.x1, sum(gap) / 2), gap[1] - gap[0], depth=1.3)
        if kind == "hallway":
            placer.keep_door_clear((rect.x0, sum(gap) / 2), gap[1] - gap[0], depth=1.3)
        if rid not in empty:
            _furnish(placer, kind, p)
    return b.build()


ROOM_FURNITURE: dict[str, tuple[tuple[str, str], ...]] = {
    # (kind, how): "wall" against a wall, "free" free-standing; essentials first.
    "living_room": (
        ("sofa", "wall"),
        ("armchair", "wall"),
        ("tv", "wall"),
        ("coffee_table", "free"),
        ("armchair", "wall"),
        ("bookshelf", "wall"),
        ("plant", "wall"),
    ),
    "kitchen": (
        ("counter", "wall"),
        ("fridge", "wall"),
        ("stove", "wall"),
        ("dining_table", "free"),
        ("chair", "wall"),
        ("bin", "wall"),
    ),
    "bedroom": (
        ("bed", "wall"),
        ("wardrobe", "wall"),
        ("nightstand", "wall"),
        ("desk", "wall"),
        ("plant", "wall"),
    ),
    "bathroom": (("toilet", "wall"), ("sink", "wall"), ("bathtub", "wall")),
    "hallway": (("shoe_rack", "wall"), ("coat_stand", "wall")),
}
CLUTTER = ("box", "bin", "basket", "toy", "bag")


def _furnish(placer: Placer, kind: str, p: HomeParams) -> None:
    rng = placer.rng
    for i, (item, how) in enumerate(ROOM_FURNITURE[kind]):
        essential = i < 2
        if not essential and rng.random() > p.furniture:
            continue
        if how == "wall":
            placer.against_wall(item)
        else:
            placer.anywhere(item, gap=0.7)
    if kind != "hallway":
        placer.clutter(p.clutter, CLUTTER)
