"""Hand-made box rooms whose wall faces sit where the ESDF is exact.

The nav grid's cells are 0.05 m on multiples of 0.05 m, and its ESDF measures distances
between cell centres, so every wall face here lies on a cell centre (x.x25): the distance
from a wall face is then exactly what the ESDF reports, whatever floating-point rounding
does to the grid's origin.
"""

from __future__ import annotations

import numpy as np

from astra_sim.scenes.model import Instance, Material, Scene

Box = tuple[tuple[float, float, float], tuple[float, float, float]]

_FACES = np.array(
    [
        [4, 5, 7], [4, 7, 6], [0, 2, 3], [0, 3, 1], [0, 1, 5], [0, 5, 4],
        [2, 6, 7], [2, 7, 3], [0, 4, 6], [0, 6, 2], [1, 3, 7], [1, 7, 5],
    ]
)  # fmt: skip


def box_mesh(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> tuple:
    """An axis-aligned box as 8 vertices and 12 outward-facing triangles."""
    corners = (lo, hi)
    vertices = np.array(
        [[corners[i & 1][0], corners[(i >> 1) & 1][1], corners[i >> 2][2]] for i in range(8)]
    )
    return vertices, _FACES


def wall(x0: float, y0: float, x1: float, y1: float, height: float = 1.0) -> Box:
    return (x0, y0, 0.0), (x1, y1, height)


def box_room(width: float = 6.0, depth: float = 4.0, inner: list[Box] | None = None) -> Scene:
    """A floor of (width x depth) inside 0.1 m walls whose inner faces are at x, y = 0.025
    and x = width + 0.025, y = depth + 0.025; ``inner`` adds more boxes (walls, pillars)."""
    lo, hx, hy = 0.025, width + 0.025, depth + 0.025
    boxes = [
        ((-0.2, -0.2, -0.1), (hx + 0.2, hy + 0.2, 0.0)),  # floor slab, top at z = 0
        wall(lo - 0.1, lo - 0.1, lo, hy + 0.1),
        wall(hx, lo - 0.1, hx + 0.1, hy + 0.1),
        wall(lo, lo - 0.1, hx, lo),
        wall(lo, hy, hx, hy + 0.1),
        *(inner or []),
    ]
    vertices, faces = [], []
    for b in boxes:
        v, f = box_mesh(*b)
        faces.append(f + 8 * len(vertices))
        vertices.append(v)
    v, f = np.concatenate(vertices), np.concatenate(faces)
    return Scene(
        vertices=v,
        faces=f,
        uv=np.zeros((len(v), 2)),
        face_instance=np.zeros(len(f), np.int32),
        face_material=np.zeros(len(f), np.int32),
        instances=[Instance(0, "void")],
        rooms=[],
        materials=[Material(0, "plain", "plain", "grey", 1.0, np.zeros((2, 2, 3), np.uint8))],
        metadata={"kind": "box_room"},
    )
