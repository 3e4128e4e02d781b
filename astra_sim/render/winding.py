"""Which triangles a rasterizer may draw one-sided (cull their back faces) without error.

Back-face culling skips the far side of solids, about half of what a rasterizer draws of
furniture and shelving, which on llvmpipe is a quarter to a third of a frame. It is only
safe for triangles whose back can never be seen, and generated scenes do not promise that:
boxes have no bottom face (one raised on a shelf shows its inside from below), and floors,
signs and panels are open surfaces seen from either side. Ray casting does not care, so
the Embree renderer never needed to know.

A triangle is ``FRONT`` (draw it one-sided) when it belongs to a solid seen only from
outside: a connected piece of the mesh whose windings agree across every shared edge, that
is closed except possibly where it stands on the scene's floor, and that turns its fronts
outward (positive signed volume). Everything else is ``BOTH`` and is drawn from both sides,
exactly as without culling. Connectivity is taken after welding vertices that share a
position, since the scene model gives each quad its own corners.

The one case this cannot tell apart is a camera inside a closed, outward-wound shell (a
room modelled as one watertight box with normals out); ``GLRenderer(cull_back_faces=False)``
draws everything two-sided.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

FRONT, BOTH = 0, 2
WELD = 1e-5
"""Metres: corners closer than this are one vertex when finding solids."""


def visible_sides(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(F,) int8: ``FRONT`` for triangles whose back cannot be seen, else ``BOTH``.

    The front is the side the right-hand normal ``(p1 - p0) x (p2 - p0)`` points to.
    """
    faces = np.asarray(faces, dtype=np.int64)
    out = np.full(len(faces), BOTH, dtype=np.int8)
    if len(faces) == 0:
        return out
    pos = np.asarray(vertices, dtype=np.float64)
    _, weld = np.unique(np.round(pos / WELD).astype(np.int64), axis=0, return_inverse=True)
    f = weld.reshape(-1)[faces]  # (F, 3) welded corners
    n_faces = len(f)
    directed = np.stack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]], axis=1).reshape(-1, 2)
    owner = np.repeat(np.arange(n_faces), 3)
    lo, hi = directed.min(axis=1), directed.max(axis=1)
    _, edge, count = np.unique(
        np.stack([lo, hi], 1), axis=0, return_inverse=True, return_counts=True
    )
    edge = edge.reshape(-1)
    forward = np.bincount(edge, weights=(directed[:, 0] < directed[:, 1]), minlength=len(count))

    # Faces sharing an edge are one piece; pieces are judged whole.
    order = np.argsort(edge, kind="stable")
    pairs = np.flatnonzero(np.diff(edge[order]) == 0)
    a, b = owner[order[pairs]], owner[order[pairs + 1]]
    graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n_faces, n_faces))
    _, piece = csgraph.connected_components(graph, directed=False)

    floor = pos[:, 2].min() + WELD
    on_floor = pos[np.asarray(faces)][:, :, 2] <= floor  # (F, 3) per corner
    corner_z_ok = np.stack(
        [on_floor[:, 0] & on_floor[:, 1], on_floor[:, 1] & on_floor[:, 2],
         on_floor[:, 2] & on_floor[:, 0]], axis=1,
    ).reshape(-1)  # fmt: skip
    # An edge is fine when two faces share it with opposite windings, or when it is an open
    # rim lying on the floor (a box standing there); anything else spoils its piece.
    fine = ((count == 2) & (forward == 1))[edge] | ((count == 1)[edge] & corner_z_ok)
    spoiled = np.bincount(piece[owner], weights=~fine, minlength=piece.max() + 1) > 0

    corners = pos[np.asarray(faces)]
    tri = corners - (0.0, 0.0, pos[:, 2].min())  # so that open rims on the floor add no volume
    volume = np.bincount(
        piece, weights=np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])) / 6
    )
    solid = ~spoiled & (volume > 0)
    out[solid[piece]] = FRONT
    return out
