"""Rooms from habitat regions: a polygon around each region's objects and a guessed type.

HM3D's table gives each object a region index and nothing else about rooms, while our
``Room`` has a type and a polygon (language goals say "the kitchen"; maps label rooms).
The polygon is the convex hull of the region's object footprints; the type is guessed from
what the room holds (a bed makes a bedroom), ``room`` when nothing tells.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from astra_sim.scenes.model import Instance, Room

# Category words -> room type; the first type with the most hits wins.
ROOM_HINTS: dict[str, tuple[str, ...]] = {
    "bedroom": ("bed", "nightstand", "wardrobe", "dresser"),
    "bathroom": ("toilet", "shower", "bathtub", "bath", "towel"),
    "kitchen": ("stove", "oven", "refrigerator", "fridge", "dishwasher", "microwave",
                "kitchen"),
    "living_room": ("sofa", "couch", "tv", "television", "fireplace"),
    "dining_room": ("dining",),
    "office": ("desk", "computer", "monitor", "bookshelf"),
    "laundry_room": ("washing", "dryer", "laundry"),
}  # fmt: skip
_PAD = 0.25  # metres around a region too small for a polygon


def room_type(categories: list[str]) -> str:
    """The room type the object categories hint at most, ``room`` if none does."""
    words = [w for c in categories for w in c.lower().replace("_", " ").split()]
    scores = {t: sum(w in hints for w in words) for t, hints in ROOM_HINTS.items()}
    best = max(scores.values(), default=0)
    return next(t for t, s in scores.items() if s == best) if best else "room"


def rooms_from_regions(
    instances: list[Instance], regions: list[int], footprints: np.ndarray
) -> tuple[list[Room], dict[int, int]]:
    """Rooms for the habitat region of every instance.

    Args:
        instances: rows 1.. of the instance table (row 0, void, is skipped).
        regions: habitat region index per instance in ``instances`` (-1 for none).
        footprints: (len(instances), 4) xy bounding box (xmin, ymin, xmax, ymax) per instance,
            NaN for an instance without triangles.

    Returns:
        The rooms (ids 0.. in region order) and the map region index -> room id.
    """
    by_region: dict[int, list[int]] = {}
    for row, region in enumerate(regions):
        if region >= 0:
            by_region.setdefault(region, []).append(row)
    rooms: list[Room] = []
    mapping: dict[int, int] = {}
    counts: dict[str, int] = {}
    for region in sorted(by_region):
        rows = by_region[region]
        boxes = footprints[rows]
        boxes = boxes[np.isfinite(boxes).all(1)]
        if len(boxes) == 0:
            continue
        kind = room_type([instances[r].category for r in rows])
        counts[kind] = counts.get(kind, 0) + 1
        mapping[region] = len(rooms)
        rooms.append(
            Room(
                id=len(rooms),
                type=kind,
                name=f"{kind.replace('_', ' ')} {counts[kind]}",
                polygon=_hull(boxes),
            )
        )
    return rooms, mapping


def _hull(boxes: np.ndarray) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = boxes.T
    pts = np.concatenate([np.stack([x0, y0], 1), np.stack([x1, y0], 1),
                          np.stack([x1, y1], 1), np.stack([x0, y1], 1)])  # fmt: skip
    try:
        hull = ConvexHull(pts)
        ring = pts[hull.vertices]  # counter-clockwise
    except (QhullError, ValueError):
        lo, hi = pts.min(0) - _PAD, pts.max(0) + _PAD
        ring = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    return [(round(float(x), 4) + 0.0, round(float(y), 4) + 0.0) for x, y in ring]
