"""Spatial clusters of triangles, culled per view and drawn nearest first.

A rasterizer pays for every triangle it is handed, seen or not, which is what makes it scale
worse than a ray caster with triangle count. So triangles are sorted along a Morton curve of
their centroids and cut into clusters of neighbours; a view draws only the clusters whose
bounding box meets its frustum. Nearest first, because llvmpipe tests depth before shading,
so a surface behind one already drawn costs little (ten full-screen layers measured 6x
cheaper drawn near to far than far to near; in the warehouse, giving up the order to merge
commands cost 15-25 %, while a command itself costs llvmpipe only about 0.3 us).

Clusters of one-sided triangles are also dropped when they face away from a view as a
whole, which llvmpipe would otherwise learn only after shading their vertices and clipping
them, one triangle at a time (in the warehouse at least a quarter of what a view is handed
faces away; dropping whole clusters of them removes a tenth of it).
For that their triangles are first grouped by the direction they face (``normal_classes``:
rooms, furniture and racks are mostly boxes, whose faces share a handful of directions),
so that a cluster's triangles face one way, and the test of a whole cluster is one dot
product, made conservative by the spread of its normals and the size of its box.

Commands are rows of ``(vertex count, 1, first vertex, view, 0)`` for a multi-draw: the
base instance names the view whose per-view attributes the vertex shader reads. Five words,
not the four of a ``DrawArraysIndirectCommand``: moderngl's ``render_indirect`` steps
through the buffer with the 20-byte stride of indexed commands whatever the vertex array
(checked against moderngl 5.13); GL never reads the fifth.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

MAX_CLUSTERS = 1024
"""Clusters per set: enough to cull a 300k-triangle scan finely, few enough to test fast."""
MIN_CLUSTER_FACES = 32
"""Below this a cluster's draw costs more than its triangles."""


def morton_key(points: np.ndarray) -> np.ndarray:
    """(N,) uint64 positions of (N, 3) points on a 3-D Morton (Z-order) curve, 10 bits an axis."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    q = ((points - lo) / np.maximum(hi - lo, 1e-9) * 1023).astype(np.uint64)
    code = np.zeros(len(points), dtype=np.uint64)
    for bit in range(10):
        for axis in range(3):
            code |= ((q[:, axis] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(3 * bit + axis)
    return code


FACING_SLACK = 1e-4
"""Metres: a cluster is dropped as facing away only when the eye is at least this far
behind every one of its triangles' planes; nearly edge-on ones are left to the rasterizer."""

MIXED = -1
"""The normal class of triangles that share their direction with too few others."""


def normal_classes(normals: np.ndarray, min_size: int = MIN_CLUSTER_FACES) -> np.ndarray:
    """(T,) int class of each triangle's facing direction, from its (T, 3) unit normal (zero
    for a degenerate triangle) rounded to a thousandth; ``MIXED`` for degenerate triangles
    and for classes under ``min_size``."""
    ok = np.abs(normals).sum(axis=1) > 0
    q = np.round(np.asarray(normals, dtype=np.float64) * 1000).astype(np.int64)
    _, cls, count = np.unique(q, axis=0, return_inverse=True, return_counts=True)
    cls = cls.reshape(-1)
    return np.where(ok & (count[cls] >= min_size), cls, MIXED)


_SPAN = 1e8
"""Sort-key room per (set, view): squared distances are capped just below it (10 km)."""
_FAR2 = 0.99 * _SPAN


@functools.lru_cache(maxsize=64)
def _blocks(views: int, planes: int) -> np.ndarray:
    """(V * P, V) bool: row ``v * P + p`` is view v's plane p."""
    return np.kron(np.eye(views, dtype=bool), np.ones((planes, 1), dtype=bool))


class Clusters:
    """A vertex buffer's triangles in clusters: consecutive runs of triangles already in
    Morton order, in one or more sets drawn with back faces culled or not.

    All sets are culled together (one test of every box against every view's planes), so
    the cost of a call in Python stays a handful of numpy operations whatever the number
    of sets and views.

    Args:
        parts: per set, ``(triangles, first, cull)`` or ``(triangles, first, cull,
            classes)``: its (T, 3, 3) corners in buffer order, its first triangle in the
            vertex buffer, whether it is drawn with back faces culled, and optionally each
            triangle's ``normal_classes`` entry, in runs (clusters are cut where the class
            changes, and one-sided clusters of one class are tested for facing away).
    """

    def __init__(self, parts: list[tuple[Any, ...]]) -> None:
        starts, counts, lo, hi, which, self.cull = [], [], [], [], [], []
        facing: list[np.ndarray] = []
        for triangles, first, cull, *rest in parts:
            n = len(triangles)
            clusters = min(MAX_CLUSTERS, max(1, n // MIN_CLUSTER_FACES))
            size = math.ceil(n / clusters)
            classes = rest[0] if rest else None
            start = _cuts(n, size, classes)
            counts.append(np.diff(np.r_[start, n]))
            starts.append(start + first)
            lo.append(np.minimum.reduceat(triangles.min(axis=1), start, axis=0))
            hi.append(np.maximum.reduceat(triangles.max(axis=1), start, axis=0))
            which.append(np.full(len(start), len(self.cull)))
            one_class = classes is not None and bool(cull)
            facing.append(_facing_bounds(triangles, start, classes if one_class else None))
            self.cull.append(bool(cull))
        self.count = np.concatenate(counts) if counts else np.zeros(0, np.int64)
        self.start = np.concatenate(starts) if starts else np.zeros(0, np.int64)
        self.lo = np.concatenate(lo) if lo else np.zeros((0, 3))
        self.hi = np.concatenate(hi) if hi else np.zeros((0, 3))
        self.set = np.concatenate(which) if which else np.zeros(0, np.int64)
        self._centre = 0.5 * (self.hi + self.lo)
        self._half = 0.5 * (self.hi - self.lo)
        self._boxes = np.concatenate([self._centre, self._half], axis=1)  # (K, 6)
        # Per cluster: a normal, the least offset of its corners along it, and how far
        # its triangles' normals stray from it (a zero normal and -inf: never tested).
        bounds = np.concatenate(facing) if facing else np.zeros((0, 5))
        self._normal, self._least, self._stray = bounds[:, :3], bounds[:, 3], bounds[:, 4]
        self._reach = np.linalg.norm(self._half, axis=1)
        self._keys: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._rows = np.zeros((len(self.start), 5), dtype=np.uint32)
        self._rows[:, 0] = 3 * self.count
        self._rows[:, 1] = 1
        self._rows[:, 2] = 3 * self.start

    def __len__(self) -> int:
        return len(self.start)

    def _offsets(self, views: int) -> np.ndarray:
        """(K, V) sort-key offsets of each (cluster, view): set, then view."""
        if views not in self._keys:
            offsets = self.set[:, None] * (views * _SPAN) + np.arange(views) * _SPAN
            edges = np.arange(len(self.cull) + 1) * (views * _SPAN)
            if len(self._keys) >= 16:
                self._keys.pop(next(iter(self._keys)))
            self._keys[views] = (offsets, edges)
        return self._keys[views][0]

    def _edges(self, views: int) -> np.ndarray:
        """Where each set's keys begin, and past the last."""
        return self._keys[views][1]

    def commands(
        self, planes: np.ndarray, eyes: np.ndarray, first_view: int = 0, cull: bool = True
    ) -> tuple[np.ndarray, list[tuple[bool, int, int]]]:
        """The clusters each view's frustum meets, as multi-draw commands by set, view, and
        distance (nearest first), and the runs of them to draw: ``(cull, first, count)``.

        Args:
            planes: (V, P, 4) inward planes ``n . p + d >= 0`` of each view's frustum,
                world frame.
            eyes: (V, 3) the views' eyes, to order clusters by distance.
            first_view: the index of the first view (the base instance of its rows).
            cull: False keeps every cluster.
        """
        v_count = len(eyes)
        # Squared distance from each eye to each box (0 inside it), as a sort key after the
        # set and the view: by set, then view, then nearest first. Few numpy calls: in a
        # frame this runs between llvmpipe's rasterizer threads, with cold caches.
        offset = eyes - self._centre[:, None]  # (K, V, 3)
        gap = np.abs(offset)
        gap -= self._half[:, None]
        np.maximum(gap, 0.0, out=gap)
        key = np.einsum("kvi,kvi->kv", gap, gap)
        np.minimum(key, _FAR2, out=key)
        key += self._offsets(v_count)
        if cull:
            # Facing away: the eye behind every triangle's plane, with room for the
            # normals' spread over the farthest the eye is from any of its corners.
            far = np.sqrt(np.einsum("kvi,kvi->kv", offset, offset))
            far += self._reach[:, None]
            front = self._normal @ eyes.T - self._least[:, None] + self._stray[:, None] * far
            away = front < -FACING_SLACK
            n = planes[..., :3].reshape(-1, 3).T  # (3, V * P)
            # A box is outside a plane when even its corner farthest along the normal is;
            # outside any plane, outside the view (an "any" over each view's planes, as a
            # boolean matrix product: numpy's small-axis reductions cost more).
            reach = self._boxes @ np.concatenate([n, np.abs(n)])
            reach += planes[..., 3].reshape(-1)
            outside = (reach < 0) @ _blocks(v_count, planes.shape[1])  # (K, V)
            outside |= away
            key[outside] = np.inf
            hidden = int(np.count_nonzero(outside))
        else:
            hidden = 0
        flat = key.reshape(-1)
        order = np.argsort(flat, kind="stable")[: flat.size - hidden]
        cluster, view = np.divmod(order, v_count)
        out = self._rows[cluster]
        out[:, 3] = view
        if first_view:
            out[:, 3] += first_view
        bounds = np.searchsorted(flat[order], self._edges(v_count)).tolist()
        runs = [
            (c, a, b - a)
            for c, a, b in zip(self.cull, bounds[:-1], bounds[1:], strict=True)
            if b > a
        ]
        return out, runs


def _cuts(n: int, size: int, classes: np.ndarray | None) -> np.ndarray:
    """First triangle of each cluster: runs of ``size``, restarted where ``classes`` changes."""
    if classes is None or n == 0:
        return np.arange(0, n, size, dtype=np.int64)
    edges = np.r_[0, np.flatnonzero(np.diff(classes)) + 1, n]
    return np.concatenate(
        [np.arange(a, b, math.ceil((b - a) / math.ceil((b - a) / size)), dtype=np.int64)
         for a, b in itertools.pairwise(edges.tolist())]
    )  # fmt: skip


def _facing_bounds(
    triangles: np.ndarray, start: np.ndarray, classes: np.ndarray | None
) -> np.ndarray:
    """(K, 5) per cluster: a unit normal, the least ``normal . corner``, the largest
    distance of a triangle's unit normal from it; zeros and -inf for clusters that are
    never tested (no classes, or the mixed class)."""
    out = np.zeros((len(start), 5))
    out[:, 3] = -np.inf
    if classes is None or not len(start):
        return out
    tri = np.asarray(triangles, dtype=np.float64)
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)
    mean = np.add.reduceat(n, start, axis=0)
    mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-300)
    owner = np.repeat(np.arange(len(start)), np.diff(np.r_[start, len(tri)]))
    least = np.min(np.einsum("tci,ti->tc", tri, mean[owner]), axis=1)
    stray = np.linalg.norm(n - mean[owner], axis=1)
    tested = classes[start] != MIXED
    out[tested, :3] = mean[tested]
    out[tested, 3] = np.minimum.reduceat(least, start)[tested]
    out[tested, 4] = np.maximum.reduceat(stray, start)[tested]
    return out
