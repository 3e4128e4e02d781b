"""A catalogue of furniture and props as boxes, with the words a language goal would use.

Each entry gives a footprint (depth along the facing direction, width, height), the
parts as fractions of that footprint, material choices and a functional description.
Descriptions are what Astra-Global matches instructions like "somewhere to rest" against,
so they say what the thing is for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astra_sim.scenes.builder import SceneBuilder

# A part: centre (x, y) and bottom z, then size (x, y, z), all as fractions of the
# footprint (depth, width, height); x points where the object faces. ``accent`` parts use
# the second material.
Part = tuple[float, float, float, float, float, float, bool]
BODY: tuple[Part, ...] = ((0, 0, 0, 1, 1, 1, False),)


@dataclass(frozen=True)
class Kind:
    size: tuple[float, float, float]
    texture: str
    colours: tuple[str, ...]
    description: str
    parts: tuple[Part, ...] = BODY
    accent: tuple[str, str] = ("metal", "grey")
    landmark: bool = True
    tile: float = 0.5


def _legs(top: float = 0.06) -> tuple[Part, ...]:
    """A table top on four legs (legs are accents)."""
    leg = 0.08
    legs = tuple(
        (sx * (0.5 - leg / 2), sy * (0.5 - leg / 2), 0, leg, leg, 1 - top, True)
        for sx in (-1, 1)
        for sy in (-1, 1)
    )
    return ((0, 0, 1 - top, 1, 1, top, False), *legs)


_SEAT = (
    (0.1, 0, 0, 0.8, 0.8, 0.5, False),  # seat
    (-0.4, 0, 0, 0.2, 1, 1, False),  # back
    (0, 0.45, 0, 1, 0.1, 0.7, False),  # arm
    (0, -0.45, 0, 1, 0.1, 0.7, False),  # arm
)
_WOODS = ("brown", "dark brown", "beige", "white")
_FABRICS = ("red", "blue", "grey", "green", "beige", "navy", "teal", "orange", "yellow")

CATALOGUE: dict[str, Kind] = {
    # living room
    "sofa": Kind(
        (0.9, 2.0, 0.85),
        "fabric",
        _FABRICS,
        "a soft seat for several people; a place to sit and rest",
        _SEAT,
    ),
    "armchair": Kind(
        (0.85, 0.85, 0.9),
        "leather",
        ("brown", "black", "red", "green", "cream"),
        "a padded chair for one; a place to sit and rest",
        _SEAT,
    ),
    "coffee_table": Kind(
        (0.6, 1.1, 0.45), "wood", _WOODS, "a low table to put drinks on by the sofa", _legs()
    ),
    "tv": Kind(
        (0.45, 1.6, 1.2),
        "wood",
        _WOODS,
        "a television on a stand, for watching shows",
        ((0, 0, 0, 1, 1, 0.42, False), (-0.2, 0, 0.42, 0.15, 0.8, 0.58, True)),
        accent=("plastic", "black"),
    ),
    "bookshelf": Kind((0.35, 0.9, 1.9), "wood", _WOODS, "shelves full of books for reading"),
    "plant": Kind(
        (0.45, 0.45, 1.3),
        "plastic",
        ("white", "grey", "terracotta"),
        "a potted plant for decoration",
        ((0, 0, 0, 0.7, 0.7, 0.35, False), (0, 0, 0.35, 1, 1, 0.65, True)),
        accent=("fabric", "green"),
    ),
    # kitchen and dining
    "dining_table": Kind((0.9, 1.6, 0.75), "wood", _WOODS, "a table for eating meals", _legs()),
    "chair": Kind(
        (0.5, 0.5, 0.9),
        "wood",
        _WOODS,
        "a chair to sit on",
        ((0.05, 0, 0, 0.9, 1, 0.5, False), (-0.45, 0, 0.5, 0.1, 1, 0.5, False)),
        landmark=False,
    ),
    "counter": Kind(
        (0.6, 2.0, 0.9),
        "wood",
        ("white", "grey", "beige", "dark brown"),
        "a kitchen counter for preparing food",
        ((0, 0, 0, 1, 1, 0.94, False), (0, 0, 0.94, 1, 1, 0.06, True)),
        accent=("concrete", "grey"),
    ),
    "fridge": Kind(
        (0.7, 0.75, 1.85),
        "metal",
        ("white", "grey", "black"),
        "a refrigerator that keeps food and drinks cold",
    ),
    "stove": Kind((0.6, 0.6, 0.9), "metal", ("black", "white", "grey"), "a stove for cooking food"),
    # bedroom
    "bed": Kind(
        (2.0, 1.5, 0.6),
        "fabric",
        ("white", "blue", "grey", "beige", "pink"),
        "a bed for sleeping and lying down to rest",
        ((0.03, 0, 0, 0.94, 1, 0.55, False), (-0.48, 0, 0, 0.04, 1, 1.6, True)),
        accent=("wood", "brown"),
    ),
    "wardrobe": Kind((0.6, 1.2, 2.0), "wood", _WOODS, "a wardrobe for storing clothes"),
    "nightstand": Kind((0.4, 0.45, 0.55), "wood", _WOODS, "a small bedside table", landmark=False),
    "desk": Kind((0.7, 1.3, 0.75), "wood", _WOODS, "a desk for working or studying", _legs()),
    # bathroom
    "toilet": Kind(
        (0.7, 0.4, 0.8),
        "plastic",
        ("white",),
        "a toilet",
        ((0.1, 0, 0, 0.8, 1, 0.45, False), (-0.4, 0, 0, 0.2, 1, 1, False)),
    ),
    "sink": Kind((0.5, 0.6, 0.85), "plastic", ("white", "cream"), "a sink for washing hands"),
    "bathtub": Kind((0.75, 1.7, 0.55), "plastic", ("white", "cream"), "a bathtub for bathing"),
    # hallway
    "shoe_rack": Kind((0.35, 0.9, 0.5), "wood", _WOODS, "a rack for shoes by the entrance"),
    "coat_stand": Kind(
        (0.45, 0.45, 1.8), "wood", ("dark brown", "black"), "a stand for hanging coats"
    ),
    # office
    "office_chair": Kind(
        (0.6, 0.6, 1.0),
        "fabric",
        ("black", "blue", "grey"),
        "a swivel chair for working at a desk",
        ((0.05, 0, 0, 0.9, 0.9, 0.5, False), (-0.42, 0, 0.5, 0.15, 0.9, 0.5, False)),
        landmark=False,
    ),
    "filing_cabinet": Kind(
        (0.6, 0.5, 1.3), "metal", ("grey", "white", "black"), "a cabinet for storing documents"
    ),
    "meeting_table": Kind(
        (1.2, 2.6, 0.75), "wood", _WOODS, "a large table for meetings and discussions", _legs()
    ),
    "whiteboard": Kind(
        (0.1, 1.8, 2.0),
        "plastic",
        ("white",),
        "a whiteboard for writing during meetings",
        ((0, 0, 0.9, 1, 1, 0.55, False),),
    ),
    "coffee_machine": Kind(
        (0.5, 0.5, 1.4),
        "metal",
        ("black", "red", "grey"),
        "a coffee machine for making hot drinks; somewhere to get coffee",
    ),
    "water_cooler": Kind(
        (0.4, 0.4, 1.2), "plastic", ("white", "light blue"), "a water cooler for drinking water"
    ),
    "printer": Kind((0.6, 0.7, 1.0), "plastic", ("grey", "white"), "a printer for documents"),
    "sofa_office": Kind(
        (0.85, 1.8, 0.85),
        "fabric",
        _FABRICS,
        "a sofa in the break area; a place to sit and rest",
        _SEAT,
    ),
    # warehouse
    "pallet": Kind(
        (1.2, 1.0, 1.1),
        "wood",
        ("beige",),
        "a pallet of stacked goods",
        ((0, 0, 0, 1, 1, 0.13, False), (0, 0, 0.13, 0.95, 0.95, 0.87, True)),
        accent=("plastic", "brown"),
        landmark=False,
    ),
    "workbench": Kind(
        (0.8, 2.0, 0.9), "wood", ("beige", "brown"), "a workbench for packing orders", _legs(0.08)
    ),
    "forklift": Kind(
        (2.2, 1.2, 2.1),
        "metal",
        ("yellow", "orange"),
        "a parked forklift for moving pallets",
        ((0.1, 0, 0, 0.8, 1, 0.6, False), (0.45, 0, 0, 0.1, 0.7, 1, True)),
        accent=("metal", "black"),
    ),
    "barrier": Kind((0.2, 1.5, 1.0), "metal", ("yellow",), "a safety barrier", landmark=False),
    # clutter
    "box": Kind(
        (0.4, 0.4, 0.35),
        "plastic",
        ("brown", "beige"),
        "a cardboard box",
        landmark=False,
        tile=0.25,
    ),
    "bin": Kind(
        (0.35, 0.35, 0.5),
        "plastic",
        ("grey", "black", "green", "blue"),
        "a bin for rubbish",
        landmark=False,
        tile=0.25,
    ),
    "basket": Kind(
        (0.4, 0.5, 0.3), "fabric", ("beige", "brown"), "a laundry basket", landmark=False, tile=0.25
    ),
    "toy": Kind(
        (0.3, 0.3, 0.25),
        "plastic",
        ("red", "yellow", "blue", "green"),
        "a toy left on the floor",
        landmark=False,
        tile=0.25,
    ),
    "bag": Kind(
        (0.3, 0.45, 0.4),
        "fabric",
        ("black", "navy", "red"),
        "a bag on the floor",
        landmark=False,
        tile=0.25,
    ),
}


def footprint(kind: str, yaw: float) -> tuple[float, float]:
    """Axis-aligned (x, y) extent of a catalogue object turned by ``yaw`` (multiple of 90 deg)."""
    depth, width, _ = CATALOGUE[kind].size
    quarter = round(yaw / (np.pi / 2)) % 2
    return (width, depth) if quarter else (depth, width)


def place(
    b: SceneBuilder,
    kind: str,
    room: int,
    xy: tuple[float, float],
    yaw: float,
    rng: np.random.Generator,
    colour: str | None = None,
    z0: float = 0.0,
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> int:
    """Add one catalogue object facing ``yaw`` with its footprint centred at ``xy``."""
    spec = CATALOGUE[kind]
    colour = colour or str(rng.choice(spec.colours))
    size = tuple(s * k for s, k in zip(spec.size, scale, strict=True))
    main = b.material(spec.texture, colour, spec.tile)
    has_accent = any(part[-1] for part in spec.parts)
    accent = b.material(spec.accent[0], spec.accent[1], spec.tile) if has_accent else main
    noun = kind.replace("_office", "").replace("_", " ")
    inst = b.instance(
        noun.replace(" ", "_"),
        room=room,
        name=f"{colour} {noun}",
        attributes={"colour": colour, "material": spec.texture},
        description=spec.description,
        landmark=spec.landmark,
        position=(xy[0], xy[1], z0),
        size=size,
        yaw=yaw,
    )
    c, s = np.cos(yaw), np.sin(yaw)
    for px, py, pz, fx, fy, fz, is_accent in spec.parts:
        lx, ly = px * size[0], py * size[1]
        b.box(
            inst,
            accent if is_accent else main,
            (xy[0] + c * lx - s * ly, xy[1] + s * lx + c * ly),
            z0 + pz * size[2],
            (fx * size[0], fy * size[1], fz * size[2]),
            yaw,
        )
    return inst
