"""Which triangles a rasterizer may draw one-sided (cull their back faces) without error.

Back-face culling skips the far side of solids, about half of what a rasterizer draws of
furniture and shelving, which on llvmpipe is a quarter to a third of a frame. It is only
safe for triangles whose back can never be seen, and generated scenes do not promise that:
boxes have no bottom face (one raised on a shelf shows its inside from below), and floors,
signs and panels are open surfaces seen from either side. Ray casting does not care, so
the Embree renderer never needed to know.

A triangle is ``FRONT`` (draw it one-sided) when it belongs to a solid seen only from
outside: a piece of the mesh (faces joined by edges that exactly two faces share, so that
boxes touching along an edge are judged apart) whose windings agree across every edge, that
is closed except possibly for an open rim in its lowest plane, and that turns its fronts
outward (positive signed volume), where that opening stands on the scene's floor or lies
inside a flat, filled rectangle of another piece in its plane (cartons on a shelf board:
two fifths of the warehouse's triangles, otherwise drawn two-sided). Everything else is
``BOTH`` and is drawn from both sides, exactly as without culling. Connectivity is taken
after welding corners of one object (``groups``: the scene's instances) that share a
position, since the scene model gives each quad its own corners. Welding only within an
object keeps boxes of different objects that touch face to face (the uprights of
neighbouring rack bays: a sixth of the warehouse's triangles) apart; welded together, the
edges of their shared face belong to four faces and spoil both. Splitting pieces by object
can only spoil a piece, never close one, so it never culls a face that could be seen.

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


def _covered(p: int, piece: np.ndarray, corners: np.ndarray, at_bottom: np.ndarray) -> bool:
    """Whether piece p's open bottom lies inside a flat, filled rectangle of another piece
    in the same plane (a carton's open bottom on a shelf board's top face).

    Then no ray reaches p's inside through its opening without first hitting that cover,
    which is drawn (two-sided, or the face of a solid the ray had to enter first), so p's
    back faces are never the nearest surface and may be culled.
    """
    own = piece == p
    rim = corners[own][at_bottom[own]]  # (N, 3) corners in the opening's plane
    z = rim[0, 2]
    flat = (np.abs(corners[:, :, 2] - z) <= WELD).all(axis=1) & ~own
    lo, hi = rim[:, :2].min(axis=0), rim[:, :2].max(axis=0)
    for q in np.unique(piece[flat]):
        xy = corners[flat & (piece == q)][:, :, :2]  # (T, 3, 2)
        qlo, qhi = xy.reshape(-1, 2).min(axis=0), xy.reshape(-1, 2).max(axis=0)
        if (lo < qlo - WELD).any() or (hi > qhi + WELD).any():
            continue
        e1, e2 = xy[:, 1] - xy[:, 0], xy[:, 2] - xy[:, 0]
        area = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]).sum()
        box = float(np.prod(qhi - qlo))
        if abs(area - box) <= 1e-6 * max(box, 1.0):  # its faces fill their rectangle
            return True
    return False


def visible_sides(
    vertices: np.ndarray, faces: np.ndarray, groups: np.ndarray | None = None
) -> np.ndarray:
    """(F,) int8: ``FRONT`` for triangles whose back cannot be seen, else ``BOTH``.

    The front is the side the right-hand normal ``(p1 - p0) x (p2 - p0)`` points to.
    ``groups`` (F,) names each face's object (the scene's ``face_instance``): corners are
    welded only within one; None welds across the whole mesh.
    """
    faces = np.asarray(faces, dtype=np.int64)
    out = np.full(len(faces), BOTH, dtype=np.int8)
    if len(faces) == 0:
        return out
    pos = np.asarray(vertices, dtype=np.float64)
    group = np.zeros(len(faces), np.int64) if groups is None else np.asarray(groups, np.int64)
    if group.shape != (len(faces),):
        raise ValueError(f"groups must hold one entry per face ({len(faces)}), got {group.shape}")
    keys = np.concatenate(
        [np.repeat(group, 3)[:, None], np.round(pos[faces.reshape(-1)] / WELD).astype(np.int64)],
        axis=1,
    )
    _, weld = np.unique(keys, axis=0, return_inverse=True)
    f = weld.reshape(-1, 3)  # (F, 3) welded corners
    n_faces = len(f)
    directed = np.stack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]], axis=1).reshape(-1, 2)
    owner = np.repeat(np.arange(n_faces), 3)
    lo, hi = directed.min(axis=1), directed.max(axis=1)
    _, edge, count = np.unique(
        np.stack([lo, hi], 1), axis=0, return_inverse=True, return_counts=True
    )
    edge = edge.reshape(-1)

    # Faces sharing an edge that only they share are one piece; pieces are judged whole. An
    # edge of more than two faces (two boxes touching along it) joins nothing, so that each
    # box is judged alone: a closed, outward shell hides its backs whatever touches it.
    order = np.argsort(edge, kind="stable")
    pairs = np.flatnonzero(np.diff(edge[order]) == 0)
    pairs = pairs[count[edge[order[pairs]]] == 2]
    a, b = owner[order[pairs]], owner[order[pairs + 1]]
    graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n_faces, n_faces))
    _, piece = csgraph.connected_components(graph, directed=False)

    # Each edge's faces and windings within its piece.
    n_pieces = piece.max() + 1
    _, within, count = np.unique(
        edge * n_pieces + piece[owner], return_inverse=True, return_counts=True
    )
    within = within.reshape(-1)
    forward = np.bincount(within, weights=(directed[:, 0] < directed[:, 1]))[within]
    count = count[within]
    corners = pos[faces]  # (F, 3, 3)
    bottom = np.full(n_pieces, np.inf)
    np.minimum.at(bottom, piece, corners[:, :, 2].min(axis=1))
    z0 = bottom[piece]  # each face's piece's lowest height
    at_bottom = corners[:, :, 2] <= (z0 + WELD)[:, None]  # (F, 3) per corner
    corner_z_ok = np.stack(
        [at_bottom[:, 0] & at_bottom[:, 1], at_bottom[:, 1] & at_bottom[:, 2],
         at_bottom[:, 2] & at_bottom[:, 0]], axis=1,
    ).reshape(-1)  # fmt: skip
    # An edge is fine when two faces share it with opposite windings, or when it is an open
    # rim lying in the piece's lowest plane (a box's missing bottom); anything else spoils
    # its piece.
    open_rim = (count == 1) & corner_z_ok
    fine = ((count == 2) & (forward == 1)) | open_rim
    spoiled = np.bincount(piece[owner], weights=~fine, minlength=n_pieces) > 0

    tri = corners - np.stack([np.zeros_like(z0), np.zeros_like(z0), z0], axis=1)[:, None]
    # Measured from the rim's plane, so that an open bottom adds no volume.
    volume = np.bincount(
        piece, weights=np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])) / 6
    )
    solid = ~spoiled & (volume > 0)
    # An open bottom is harmless on the floor, or where something else covers it.
    has_rim = np.bincount(piece[owner], weights=open_rim, minlength=n_pieces) > 0
    raised = solid & has_rim & (bottom > pos[:, 2].min() + WELD)
    for p in np.flatnonzero(raised):
        solid[p] = _covered(p, piece, corners, at_bottom)
    out[solid[piece]] = FRONT
    return out
