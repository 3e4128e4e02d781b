"""Mesh rasterisation for navigability: triangles sampled onto a 2-D grid, solids filled.

Kept apart from ``navigation`` so the grid logic (ESDF, geodesics, paths) reads on its own.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

CHUNK = 2_000_000  # sample points per batch, to bound memory


def clip_below(tris: np.ndarray, level: float) -> np.ndarray:
    """The parts of triangles (T, 3, 3) with z >= level, as (T', 3, 3) triangles."""
    inside = tris[:, :, 2] >= level
    count = inside.sum(1)
    out = [tris[count == 3]]
    for k in (1, 2):
        sel = count == k
        if not sel.any():
            continue
        # Rotate each triangle (keeping its winding) so vertex 0 is the odd one out.
        first = np.argmax(inside[sel], 1) if k == 1 else np.argmin(inside[sel], 1)
        order = (first[:, None] + np.arange(3)) % 3
        t = np.take_along_axis(tris[sel], order[:, :, None], axis=1)
        v0, v1, v2 = t[:, 0], t[:, 1], t[:, 2]
        s1 = (level - v0[:, 2]) / (v1[:, 2] - v0[:, 2])
        s2 = (level - v0[:, 2]) / (v2[:, 2] - v0[:, 2])
        p1, p2 = v0 + s1[:, None] * (v1 - v0), v0 + s2[:, None] * (v2 - v0)
        if k == 1:
            out.append(np.stack([v0, p1, p2], 1))
        else:
            out += [np.stack([p1, v1, v2], 1), np.stack([p1, v2, p2], 1)]
    return np.concatenate(out)


@functools.lru_cache(maxsize=128)
def lattice(n: int) -> np.ndarray:
    """Barycentric weights (K, 3) of the lattice with n subdivisions per triangle edge."""
    i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = i + j <= n
    w1, w2 = i[keep] / n, j[keep] / n
    return np.stack([1 - w1 - w2, w1, w2], 1)


def rasterise(
    tris: np.ndarray, origin: np.ndarray, shape: tuple[int, int], cs: float, shrink: float = 0.0
) -> np.ndarray:
    """Mark the cells hit by lattice points of triangles (T, 3, 3).

    The lattice spacing is at most cs/2 along the longest edge of the xy projection, which is
    all the grid sees: any cell whose centre the projection covers gets a point, and a thin
    vertical wall leaves no gap. Triangles are grouped by subdivision count so each group is
    one batched matmul. `shrink` pulls points toward the centroid (a relative barycentric
    amount) so a floor edge lying exactly on a cell boundary does not spill over it.
    """
    rows, cols = shape
    flat = np.zeros((rows + 1) * (cols + 1), dtype=bool)  # spare row/col: no clipping needed
    uv = (tris[:, :, :2] - origin) / cs  # cell units, >= 0 inside the grid
    longest = np.linalg.norm(uv - np.roll(uv, 1, axis=1), axis=2).max(1)
    subdiv = np.maximum(np.ceil(longest * 2), 1).astype(np.int64)
    for n in np.unique(subdiv):
        group = uv[subdiv == n]
        points = lattice(int(n)) if n <= 256 else lattice.__wrapped__(int(n))  # cap the cache
        weights = points * (1 - 3 * shrink) + shrink
        per_batch = max(1, CHUNK // len(weights))
        for s in range(0, len(group), per_batch):
            cell = np.matmul(weights, group[s : s + per_batch]).reshape(-1, 2).astype(np.int64)
            flat[cell[:, 1] * (cols + 1) + cell[:, 0]] = True
    return flat.reshape(rows + 1, cols + 1)[:rows, :cols].copy()


def solid_interior(
    tris: np.ndarray, level: float, origin: np.ndarray, shape: tuple[int, int], cs: float
) -> np.ndarray:
    """Cells whose centre lies inside a closed, outward-facing solid cut at height `level`.

    Surface samples mark only an object's skin; this fills what the skin encloses, so the
    inside of a wall or a wardrobe is blocked (negative ESDF) instead of a navigable pocket.
    A connected part of the mesh counts only if its cut is closed and consistently oriented
    (every cut edge shared by two faces in opposite directions) and encloses positive area,
    so open shells and inward-facing ones (a room modelled as a box seen from inside) are
    left to the surface samples. Inside means a positive winding number along each row.
    """
    above = tris[:, :, 2] > level
    cut = above.any(1) & ~above.all(1)
    grid = np.zeros(shape, dtype=bool)
    if not cut.any():
        return grid
    # Merge coincident vertices so that triangle soups share edges, then find connected parts.
    _, vid = np.unique(np.round(tris.reshape(-1, 3) * 1e6), axis=0, return_inverse=True)
    vid = vid.reshape(-1, 3)
    n = int(vid.max()) + 1
    links = sparse.coo_matrix(
        (np.ones(vid.size), (vid.ravel(), np.roll(vid, 1, axis=1).ravel())), shape=(n, n)
    )
    part = csgraph.connected_components(links, directed=False)[1][vid[cut, 0]]
    t, v, a = tris[cut], vid[cut], above[cut]
    i0, i1 = np.arange(3), (np.arange(3) + 1) % 3
    crosses = a[:, i0] != a[:, i1]  # exactly two of the three edges per triangle
    va, vb = v[:, i0], v[:, i1]
    edge = np.minimum(va, vb) * n + np.maximum(va, vb)
    keys, inverse, count = np.unique(edge[crosses], return_inverse=True, return_counts=True)
    turn = np.bincount(inverse, weights=np.where(va < vb, 1.0, -1.0)[crosses], minlength=len(keys))
    bad_edge = np.isin(edge, keys[(count != 2) | (turn != 0)]) & crosses
    za, zb = t[:, i0, 2], t[:, i1, 2]
    s = (level - za) / np.where(crosses, zb - za, 1.0)
    hits = t[:, i0, :2] + s[..., None] * (t[:, i1, :2] - t[:, i0, :2])
    which = np.argsort(~crosses, axis=1, kind="stable")[:, :2]
    p, q = (np.take_along_axis(hits, which[:, k, None, None], axis=1)[:, 0] for k in (0, 1))
    # Orient each segment with the solid (opposite the face normal) on its left.
    normal = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])[:, :2]
    d = q - p
    flip = (d[:, 0] * normal[:, 1] - d[:, 1] * normal[:, 0]) > 0
    p, q = np.where(flip[:, None], q, p), np.where(flip[:, None], p, q)
    area = np.bincount(part, weights=p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0])
    bad_part = np.zeros(len(area), bool)
    bad_part[part[bad_edge.any(1)]] = True
    keep = ~bad_part[part] & (area[part] > 0)
    p, q = p[keep], q[keep]
    # Scanline over the rows of cell centres, half-open in y so shared vertices count once.
    rows, cols = shape
    first = np.clip(np.ceil((np.minimum(p[:, 1], q[:, 1]) - origin[1]) / cs - 0.5), 0, rows)
    stop = np.clip(np.ceil((np.maximum(p[:, 1], q[:, 1]) - origin[1]) / cs - 0.5), 0, rows)
    span = np.maximum(stop - first, 0).astype(np.int64)
    seg = np.repeat(np.arange(len(p)), span)
    row = (first[seg] + np.arange(len(seg)) - np.repeat(np.cumsum(span) - span, span)).astype(int)
    y = origin[1] + (row + 0.5) * cs
    x = p[seg, 0] + (y - p[seg, 1]) * (q[seg, 0] - p[seg, 0]) / (q[seg, 1] - p[seg, 1])
    col = np.clip(np.ceil((x - origin[0]) / cs - 0.5), 0, cols).astype(np.int64)
    winding = np.zeros((rows, cols + 1), dtype=np.int64)
    np.add.at(winding, (row, col), np.where(q[seg, 1] < p[seg, 1], 1, -1))
    return np.cumsum(winding, axis=1)[:, :cols] > 0
