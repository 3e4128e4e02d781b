"""Offices: numbered rooms with door signs off a corridor, stairs and a lift at its ends."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

import numpy as np

from astra_sim.core.seeding import make_rng
from astra_sim.scenes.builder import SceneBuilder
from astra_sim.scenes.generators.furniture import footprint
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

LOBBY = 3.2
SIGN_Z = 1.45


@dataclass(frozen=True)
class OfficeParams:
    """Size and density knobs of an office floor.

    Attributes:
        rooms_per_side: room slots on each side of the corridor.
        floor: storey number; rooms are numbered ``floor * 100 + n`` ("Room 203").
        room_width: mean slot width along the corridor in metres.
        room_depth: depth of the rooms in metres.
        corridor_width: clear corridor width in metres.
        wall_height: metres.
        door_width: clear door width in metres.
        meeting_rooms: how many slots are meeting rooms.
        open_area: merge two slots into an open desk area.
        furniture: probability of each optional piece of furniture (0 to 1).
        clutter: small props per square metre of room floor.
    """

    rooms_per_side: int = 5
    floor: int = 2
    room_width: float = 3.8
    room_depth: float = 4.5
    corridor_width: float = 1.8
    wall_height: float = 2.8
    door_width: float = 0.9
    meeting_rooms: int = 2
    open_area: bool = True
    furniture: float = 0.8
    clutter: float = 0.03

    def __post_init__(self) -> None:
        if self.rooms_per_side < 2:
            raise ValueError(f"rooms_per_side must be >= 2, got {self.rooms_per_side}")
        if not 1 <= self.floor <= 99:
            raise ValueError(f"floor must be in [1, 99], got {self.floor}")
        if self.room_width < 2.8 or self.room_depth < 3.0:
            raise ValueError(
                f"rooms must be at least 2.8 m wide and 3.0 m deep, got "
                f"{self.room_width} x {self.room_depth}"
            )
        if self.corridor_width < 1.0:
            raise ValueError(f"corridor_width must be >= 1.0 m, got {self.corridor_width}")
        if not 0 <= self.meeting_rooms <= self.rooms_per_side:
            raise ValueError(
                f"meeting_rooms must be in [0, {self.rooms_per_side}], got {self.meeting_rooms}"
            )


def generate_office(p: OfficeParams, seed: int, nav: NavConfig) -> Scene:
    return build_connected(partial(_build, p, seed, nav), f"office seed {seed}")


def _slot_types(p: OfficeParams, rng: np.random.Generator) -> list[list[str]]:
    """Room type per slot, per side; an open area takes two adjacent slots."""
    slots = [["office"] * p.rooms_per_side for _ in range(2)]
    free = [(s, i) for s in range(2) for i in range(p.rooms_per_side)]
    if p.open_area:
        s, i = int(rng.integers(2)), int(rng.integers(p.rooms_per_side - 1))
        slots[s][i] = slots[s][i + 1] = "open_office"
        free = [f for f in free if f not in ((s, i), (s, i + 1))]
    order = rng.permutation(len(free))
    picks = [free[k] for k in order[: p.meeting_rooms + 1]]
    for n, (s, i) in enumerate(picks):
        slots[s][i] = "kitchenette" if n == 0 else "meeting_room"
    return slots


def _build(p: OfficeParams, seed: int, nav: NavConfig, empty: frozenset[int]) -> Scene:
    rng = make_rng(seed, "office/layout")
    b = SceneBuilder("office", seed, asdict(p), nav)
    H, t, n = p.wall_height, WALL_T, p.rooms_per_side
    y_corr0, y_corr1 = p.room_depth, p.room_depth + p.corridor_width + t
    D = y_corr1 + p.room_depth
    widths = rng.uniform(0.85, 1.15, size=n) * p.room_width
    L = LOBBY + widths.sum() + LOBBY
    wall_mat = b.material("paint", str(rng.choice(["white", "cream", "grey", "beige"])), 2.0)
    glass_mat = b.material("paint", "light blue", 2.0)
    carpet = str(rng.choice(["grey", "navy", "teal", "brown"]))

    rooms: list[tuple[int, str, Rect]] = []

    def add_room(kind: str, name: str, rect: Rect) -> int:
        rid = b.room(kind, name, rect.polygon())
        rooms.append((rid, kind, rect))
        return rid

    stair = add_room("stairwell", "stairwell", Rect(t / 2, t / 2, LOBBY, D - t / 2))
    corridor = add_room(
        "corridor", "corridor", Rect(LOBBY, y_corr0 + t / 2, L - LOBBY, y_corr1 - t / 2)
    )
    lift = add_room("lift_lobby", "lift lobby", Rect(L - LOBBY, t / 2, L - t / 2, D - t / 2))

    slots = _slot_types(p, rng)
    doors: list[tuple[int, tuple[float, float], float]] = []
    signs: list[tuple[str, str, tuple[float, float], float]] = []
    for side in range(2):
        cuts = np.concatenate([[LOBBY], LOBBY + np.cumsum(widths)]) if side == 0 else None
        if side == 1:
            other = rng.uniform(0.85, 1.15, size=n)
            cuts = np.concatenate([[LOBBY], LOBBY + np.cumsum(other / other.sum() * widths.sum())])
        ya, yb = (0.0, y_corr0) if side == 0 else (y_corr1, D)
        y_wall = y_corr0 if side == 0 else y_corr1
        facing = np.pi / 2 if side == 0 else -np.pi / 2
        openings, i = [], 0
        for xc in cuts[1:-1]:
            if not (
                slots[side][int(np.searchsorted(cuts, xc)) - 1] == "open_office"
                and slots[side][int(np.searchsorted(cuts, xc))] == "open_office"
            ):
                wall(b, wall_mat, (xc, ya), (xc, yb), H)
        while i < n:
            kind = slots[side][i]
            span = 2 if kind == "open_office" else 1
            xa, xb = cuts[i], cuts[i + span]
            number = p.floor * 100 + 2 * i + (2 if side == 0 else 1)
            label = {
                "office": f"office {number}",
                "meeting_room": f"meeting room {number}",
                "kitchenette": "kitchenette",
                "open_office": "open office",
            }[kind]
            rid = add_room(kind, label, Rect(xa + t / 2, ya + t / 2, xb - t / 2, yb - t / 2))
            if kind == "open_office":
                cx, half = (xa + xb) / 2, min(1.6, (xb - xa) / 2 - 0.5)
                text = "Open Office"
            else:
                half = p.door_width / 2
                cx = float(rng.uniform(xa + 0.3 + half, xb - 1.1 - half))
                text = "Kitchen" if kind == "kitchenette" else f"Room {number}"
                doors.append((rid, (cx, y_wall), p.door_width))
            openings.append((cx - half, cx + half))
            signs.append((text, label, (cx + half + 0.45, y_wall), facing))
            i += span
        wall(
            b,
            wall_mat,
            (LOBBY, y_wall),
            (L - LOBBY, y_wall),
            H,
            [(s - LOBBY, e - LOBBY) for s, e in openings],
            room=corridor,
        )
    for x in (LOBBY, L - LOBBY):
        for ya, yb in ((0.0, y_corr0), (y_corr1, D)):
            wall(b, wall_mat, (x, ya), (x, yb), H)
    for a, c in (
        ((-t / 2, 0), (L + t / 2, 0)),
        ((-t / 2, D), (L + t / 2, D)),
        ((0, 0), (0, D)),
        ((L, 0), (L, D)),
    ):
        wall(b, glass_mat if a[1] == c[1] else wall_mat, a, c, H)
    for rid, centre, width in doors:
        door_frame(b, rid, centre, True, width + 0.12, str(rng.choice(["brown", "grey"])))
    for text, label, (x, y_wall), facing in signs:
        y = y_wall + np.sin(facing) * t / 2
        inst = b.instance(
            "sign",
            room=corridor,
            name=f"sign '{text}'",
            text=text,
            attributes={"colour": "white", "material": "plastic", "refers_to": label},
            description=f"a door sign that reads '{text}'",
            landmark=True,
            position=(x, y, SIGN_Z),
            size=(0.03, 0.6, 0.25),
            yaw=facing,
        )
        b.sign(inst, (x, y, SIGN_Z), 0.6, 0.25, facing, text)
    _landmarks_at_ends(b, rooms[stair][2], rooms[lift][2], stair, lift, wall_mat)

    floors = {
        "stairwell": ("concrete", "grey"),
        "lift_lobby": ("tiles", "beige"),
        "corridor": ("tiles", "grey"),
        "kitchenette": ("tiles", "white"),
    }
    for rid, kind, rect in rooms:
        floor_and_ceiling(b, rid, rect, *floors.get(kind, ("carpet", carpet)), H)

    furn_rng = make_rng(seed, "office/furniture")
    for rid, kind, rect in rooms:
        placer = Placer(b, rid, rect, furn_rng)
        for drid, centre, width in doors:
            if drid == rid or kind == "corridor":
                placer.keep_door_clear(centre, width)
        for text, _, (x, y_wall), _ in signs:
            if text == "Open Office":
                placer.keep_door_clear((x - 2.0, y_wall), 3.2)
        if kind in ("stairwell", "lift_lobby"):
            placer.keepout.append(Rect(rect.x0, y_corr0 - 0.6, rect.x1, y_corr1 + 0.6))
        if rid not in empty:
            _furnish(placer, kind, p)
    return b.build()


def _landmarks_at_ends(
    b: SceneBuilder, stair_rect: Rect, lift_rect: Rect, stair: int, lift: int, wall_mat: int
) -> None:
    """Stairs against the west wall and lift doors in the east wall, each with a sign."""
    cy = (stair_rect.y0 + stair_rect.y1) / 2
    steps, run, rise, width = 6, 0.3, 0.17, 1.4
    concrete = b.material("concrete", "grey", 1.0)
    x0 = stair_rect.x0
    y0 = stair_rect.y1 - width / 2 - 0.1
    inst = b.instance(
        "stairs",
        room=stair,
        name="grey stairs",
        landmark=True,
        attributes={"colour": "grey", "material": "concrete"},
        description="stairs to the other floors",
        position=(x0 + steps * run / 2, y0, 0),
        size=(steps * run, width, steps * rise),
        yaw=0.0,
    )
    for k in range(steps):
        b.box(inst, concrete, (x0 + (steps - k - 0.5) * run, y0), 0.0, (run, width, (k + 1) * rise))
    sign = b.instance(
        "sign",
        room=stair,
        name="sign 'STAIRS'",
        text="STAIRS",
        attributes={"colour": "white", "material": "plastic"},
        description="a sign that reads 'STAIRS'",
        landmark=True,
        position=(x0, y0 - width / 2 - 0.5, SIGN_Z),
        size=(0.03, 0.6, 0.25),
    )
    b.sign(sign, (x0, y0 - width / 2 - 0.5, SIGN_Z), 0.6, 0.25, 0.0, "STAIRS")
    metal = b.material("metal", "grey", 1.0)
    x1 = lift_rect.x1
    for k, dy in enumerate((-0.9, 0.9)):
        door = b.instance(
            "lift",
            room=lift,
            name="grey lift door",
            landmark=True,
            attributes={"colour": "grey", "material": "metal"},
            description="a lift (elevator) to the other floors",
            position=(x1 - 0.03, cy + dy, 0),
            size=(0.06, 1.1, 2.1),
            yaw=np.pi,
        )
        b.box(door, metal, (x1 - 0.03, cy + dy), 0.0, (0.06, 1.1, 2.1))
        del k
    sign = b.instance(
        "sign",
        room=lift,
        name="sign 'LIFT'",
        text="LIFT",
        attributes={"colour": "white", "material": "plastic"},
        description="a sign that reads 'LIFT'",
        landmark=True,
        position=(x1, cy, SIGN_Z),
        size=(0.03, 0.5, 0.25),
        yaw=np.pi,
    )
    b.sign(sign, (x1, cy, SIGN_Z), 0.5, 0.25, np.pi, "LIFT")


def _furnish(placer: Placer, kind: str, p: OfficeParams) -> None:
    rng = placer.rng
    optional = rng.random(8) < p.furniture
    if kind == "office":
        desk = placer.against_wall("desk", sides=("y0", "y1"))
        if desk is not None:
            _, (x, y), yaw = desk
            d = footprint("desk", 0.0)[0] / 2 + 0.3
            placer.put(
                "office_chair", (x + np.cos(yaw) * d, y + np.sin(yaw) * d), yaw + np.pi, gap=0.0
            )
        for item, ok in zip(("filing_cabinet", "plant", "bookshelf"), optional, strict=False):
            if ok:
                placer.against_wall(item)
    elif kind == "meeting_room":
        placer.anywhere("meeting_table", gap=0.75)
        placer.against_wall("whiteboard")
        for item, ok in zip(("plant", "chair", "chair"), optional, strict=False):
            if ok:
                placer.against_wall(item)
    elif kind == "open_office":
        for _ in range(4 + int(rng.integers(3))):
            placer.anywhere("desk", gap=0.8)
        for item, ok in zip(
            ("printer", "plant", "filing_cabinet", "plant"), optional, strict=False
        ):
            if ok:
                placer.against_wall(item)
    elif kind == "kitchenette":
        for item in ("counter", "fridge", "coffee_machine"):
            placer.against_wall(item)
        placer.anywhere("dining_table", gap=0.75)
        for item, ok in zip(("sofa_office", "water_cooler", "bin"), optional, strict=False):
            if ok:
                placer.against_wall(item)
    elif kind == "corridor":
        for item, ok in zip(("water_cooler", "plant", "plant"), optional, strict=False):
            if ok:
                placer.against_wall(item, gap=1.0)
    elif kind in ("stairwell", "lift_lobby") and optional[0]:
        placer.against_wall("plant")
    if kind in ("office", "open_office", "meeting_room"):
        placer.clutter(p.clutter, ("box", "bin", "bag"))
