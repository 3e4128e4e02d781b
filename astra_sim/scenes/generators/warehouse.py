"""Warehouses: long rows of identical racks with shelf codes, pillars, docks, workstations.

The racks are deliberately repetitive: every bay looks alike but for its boxes and its
code ("B-014"), which is where image retrieval fails and reading landmarks helps.
"""

from __future__ import annotations

import string
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
    floor_and_ceiling,
    wall,
)
from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavConfig

DOCK_DEPTH = 6.0
SIGN_Z = 0.6


@dataclass(frozen=True)
class WarehouseParams:
    """Size and density knobs of a warehouse hall.

    Attributes:
        racks: rows of racks (lettered A, B, ...).
        bays: bays per row (numbered 001, 002, ...).
        bay_length: metres along the row.
        rack_depth: metres across the row.
        rack_height: metres.
        shelf_levels: shelves per bay including the floor level.
        aisle_width: clear width between rows in metres.
        cross_aisle: width of the aisle at the east end of the rows in metres.
        workstation_zone: width of the zone at the west end in metres.
        docks: loading dock doors in the south wall.
        workstations: packing workstations along the west wall.
        fill: probability that a shelf level of a bay holds boxes (0 to 1).
        clutter: pallets per square metre of the dock zone.
        wall_height: metres.
    """

    racks: int = 4
    bays: int = 8
    bay_length: float = 2.7
    rack_depth: float = 1.1
    rack_height: float = 4.0
    shelf_levels: int = 4
    aisle_width: float = 2.6
    cross_aisle: float = 3.0
    workstation_zone: float = 4.0
    docks: int = 3
    workstations: int = 3
    fill: float = 0.8
    clutter: float = 0.04
    wall_height: float = 6.0

    def __post_init__(self) -> None:
        if not 1 <= self.racks <= 26:
            raise ValueError(f"racks must be in [1, 26] (one letter each), got {self.racks}")
        if not 1 <= self.bays <= 999:
            raise ValueError(f"bays must be in [1, 999], got {self.bays}")
        if self.aisle_width < 1.2 or self.cross_aisle < 1.5:
            raise ValueError(
                f"aisles must be >= 1.2 m and the cross aisle >= 1.5 m, got "
                f"{self.aisle_width} and {self.cross_aisle}"
            )
        if self.shelf_levels < 1 or self.rack_height <= 1.0:
            raise ValueError("need shelf_levels >= 1 and rack_height > 1 m")
        if not 0 <= self.fill <= 1:
            raise ValueError(f"fill must be in [0, 1], got {self.fill}")
        if self.wall_height < self.rack_height:
            raise ValueError("wall_height must be >= rack_height")


def shelf_code(row: int, bay: int) -> str:
    """The code on bay ``bay`` (0-based) of row ``row`` (0-based): 'A-001'."""
    return f"{string.ascii_uppercase[row]}-{bay + 1:03d}"


def generate_warehouse(p: WarehouseParams, seed: int, nav: NavConfig) -> Scene:
    return build_connected(partial(_build, p, seed, nav), f"warehouse seed {seed}")


def _build(p: WarehouseParams, seed: int, nav: NavConfig, empty: frozenset[int]) -> Scene:
    rng = make_rng(seed, "warehouse/layout")
    b = SceneBuilder("warehouse", seed, asdict(p), nav)
    t, H = WALL_T, p.wall_height
    x_r0 = p.workstation_zone
    x_r1 = x_r0 + p.bays * p.bay_length
    Lx = x_r1 + p.cross_aisle
    y_r0 = DOCK_DEPTH
    Ly = y_r0 + (p.racks + 1) * p.aisle_width + p.racks * p.rack_depth

    wall_mat = b.material("paint", str(rng.choice(["white", "grey", "cream"])), 4.0)
    rack_colour = str(rng.choice(["orange", "blue", "yellow"]))
    rooms: list[tuple[int, str, Rect]] = []

    def add_room(kind: str, name: str, rect: Rect) -> int:
        rid = b.room(kind, name, rect.polygon())
        rooms.append((rid, kind, rect))
        return rid

    add_room("workstations", "packing area", Rect(t / 2, t / 2, x_r0, Ly - t / 2))
    dock = add_room("loading_dock", "loading dock", Rect(x_r0, t / 2, Lx - t / 2, y_r0))
    add_room("cross_aisle", "cross aisle", Rect(x_r1, y_r0, Lx - t / 2, Ly - t / 2))
    row_y = []
    y = y_r0
    for k in range(p.racks + 1):
        add_room("aisle", f"aisle {k + 1}", Rect(x_r0, y, x_r1, y + p.aisle_width))
        y += p.aisle_width
        if k < p.racks:
            row_y.append(y + p.rack_depth / 2)
            y += p.rack_depth
    aisle_ids = [rid for rid, kind, _ in rooms if kind == "aisle"]

    for a, c in (
        ((-t / 2, 0), (Lx + t / 2, 0)),
        ((-t / 2, Ly), (Lx + t / 2, Ly)),
        ((0, 0), (0, Ly)),
        ((Lx, 0), (Lx, Ly)),
    ):
        wall(b, wall_mat, a, c, H, lintel=False)

    box_rng = make_rng(seed, "warehouse/boxes")
    for r, yc in enumerate(row_y):
        for k in range(p.bays):
            xc = x_r0 + (k + 0.5) * p.bay_length
            _bay(b, p, r, k, (xc, yc), rack_colour, aisle_ids[r], box_rng)
        for xp in (x_r0 - 0.35, x_r1 + 0.35):
            _pillar(b, (xp, yc), -1)
        under = Rect(x_r0, yc - p.rack_depth / 2, x_r1, yc + p.rack_depth / 2)
        floor_and_ceiling(b, -1, under, "concrete", "grey", H, floor_tile=2.0)
    for xp in np.arange(x_r0 + 4.0, x_r1, 8.0):
        _pillar(b, (float(xp), y_r0 / 2), dock)

    _docks(b, p, x_r0, x_r1, dock)
    floor_mat = ("concrete", "grey")
    for rid, _kind, rect in rooms:
        floor_and_ceiling(b, rid, rect, *floor_mat, H, floor_tile=2.0)

    furn_rng = make_rng(seed, "warehouse/furniture")
    for rid, kind, rect in rooms:
        placer = Placer(b, rid, rect, furn_rng)
        if rid in empty:
            continue
        if kind == "workstations":
            _workstations(b, p, placer)
        elif kind == "loading_dock":
            placer.keepout.append(Rect(rect.x0, rect.y1 - 1.6, rect.x1, rect.y1))
            placer.keepout.append(Rect(rect.x0, rect.y0, rect.x0 + 1.6, rect.y1))
            placer.keepout.append(Rect(rect.x1 - 1.6, rect.y0, rect.x1, rect.y1))
            placer.anywhere("forklift", gap=1.0)
            placer.clutter(p.clutter, ("pallet",), gap=1.0)
    return b.build()


def _bay(
    b: SceneBuilder,
    p: WarehouseParams,
    row: int,
    bay: int,
    xy: tuple[float, float],
    colour: str,
    aisle: int,
    rng: np.random.Generator,
) -> None:
    """One rack bay: uprights, shelf boards, boxes, and its code on both faces."""
    code = shelf_code(row, bay)
    L, D, Hr = p.bay_length, p.rack_depth, p.rack_height
    inst = b.instance(
        "shelf",
        room=aisle,
        name=f"{colour} shelf {code}",
        text=code,
        attributes={"colour": colour, "material": "metal"},
        description=f"a storage rack bay with shelf code {code}, holding boxes",
        landmark=True,
        position=(xy[0], xy[1], 0),
        size=(L, D, Hr),
    )
    metal = b.material("metal", colour, 1.0)
    board_mat = b.material("wood", "beige", 1.0)
    cardboard = b.material("plastic", "brown", 0.25)
    post = 0.08
    for dx in (-L / 2 + post / 2, L / 2 - post / 2):
        for dy in (-D / 2 + post / 2, D / 2 - post / 2):
            b.box(inst, metal, (xy[0] + dx, xy[1] + dy), 0.0, (post, post, Hr))
    levels = np.linspace(0.0, Hr - 0.6, p.shelf_levels)
    for z in levels:
        thick = 0.15 if z == 0 else 0.05
        b.box(inst, board_mat, xy, float(z), (L - 2 * post, D - 0.02, thick))
        if rng.random() < p.fill:
            x = -L / 2 + post + 0.05
            while True:
                w = float(rng.uniform(0.4, 0.8))
                if x + w > L / 2 - post - 0.05:
                    break
                if rng.random() < 0.8:
                    h = float(rng.uniform(0.3, 0.7))
                    b.box(
                        inst,
                        cardboard,
                        (xy[0] + x + w / 2, xy[1]),
                        float(z) + thick,
                        (w - 0.04, D * float(rng.uniform(0.6, 0.9)), h),
                    )
                x += w
    for side in (-1, 1):
        y = xy[1] + side * D / 2
        b.sign(inst, (xy[0], y, SIGN_Z), 0.5, 0.22, side * np.pi / 2, code)


def _pillar(b: SceneBuilder, xy: tuple[float, float], room: int) -> None:
    inst = b.instance(
        "pillar",
        room=room,
        name="grey pillar",
        landmark=False,
        attributes={"colour": "grey", "material": "concrete"},
        description="a concrete pillar holding up the roof",
        position=(xy[0], xy[1], 0),
        size=(0.4, 0.4, 6.0),
    )
    b.box(inst, b.material("concrete", "grey", 1.0), xy, 0.0, (0.4, 0.4, 6.0))


def _docks(b: SceneBuilder, p: WarehouseParams, x0: float, x1: float, room: int) -> None:
    """Roller doors in the south wall, each with a 'DOCK n' sign beside it."""
    metal = b.material("metal", "grey", 1.0)
    for k, xc in enumerate(np.linspace(x0, x1, p.docks + 2)[1:-1]):
        text = f"DOCK {k + 1}"
        inst = b.instance(
            "dock_door",
            room=room,
            name=f"loading dock door {k + 1}",
            text=text,
            attributes={"colour": "grey", "material": "metal"},
            description="a loading dock door where trucks are loaded and unloaded",
            landmark=True,
            position=(float(xc), WALL_T / 2 + 0.03, 0),
            size=(3.0, 0.06, 3.2),
            yaw=np.pi / 2,
        )
        b.box(inst, metal, (float(xc), WALL_T / 2 + 0.03), 0.0, (3.0, 0.06, 3.2))
        sx = float(xc) + 2.0
        b.sign(inst, (sx, WALL_T / 2, 1.5), 0.7, 0.3, np.pi / 2, text)


def _workstations(b: SceneBuilder, p: WarehouseParams, placer: Placer) -> None:
    """Packing benches against the west wall, each with a 'STATION n' sign above it."""
    r = placer.rect
    for k, yc in enumerate(np.linspace(r.y0, r.y1, p.workstations + 2)[1:-1]):
        inst = placer.put("workbench", (r.x0 + 0.42, float(yc)), 0.0, gap=0.0)
        if inst is None:
            continue
        text = f"STATION {k + 1}"
        b.instances[inst].text = text
        b.instances[inst].category = "workstation"
        b.sign(inst, (r.x0, float(yc), 1.3), 0.7, 0.3, 0.0, text)
