"""Scenes of a real scan's size, made from generated ones, for the benchmark's heavy row.

Our generated scenes have 1k-7k triangles; a scanned home (HM3D, Matterport) has a few
hundred thousand, and that is where a rasterizer's cost per triangle shows. Splitting every
triangle of a generated scene until no edge is longer than ``max_edge`` keeps its shape,
textures (UVs interpolated), instances and materials, and gives the triangle density of a
scan: 0.15 m turns the default home into about 290k triangles, as
``tests/scenes/habitat_files.write_dense_scan`` does for the habitat tests. Uniform
subdivision (``subdivided``) gives the intermediate sizes the ``auto`` crossover is measured
on.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import trimesh

from astra_sim.scenes.model import Scene


def _rebuild(scene: Scene, vertices: np.ndarray, faces: np.ndarray, index: np.ndarray) -> Scene:
    """``scene`` with new triangles (``index``: each one's original triangle), UVs taken
    from barycentric coordinates in the original triangle, grouped by material."""
    tri = scene.vertices[scene.faces].astype(np.float64)[index]  # (N, 3, 3) originals
    tri_uv = scene.uv[scene.faces].astype(np.float64)[index]  # (N, 3, 2)
    corners = vertices[faces]  # (N, 3, 3) new corners
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    gram = np.stack(
        [np.einsum("ni,ni->n", e1, e1), np.einsum("ni,ni->n", e1, e2),
         np.einsum("ni,ni->n", e2, e2)], axis=1,
    )  # fmt: skip
    det = gram[:, 0] * gram[:, 2] - gram[:, 1] ** 2
    det = np.where(np.abs(det) > 1e-18, det, 1.0)
    rel = corners - tri[:, None, 0]
    d1, d2 = np.einsum("nki,ni->nk", rel, e1), np.einsum("nki,ni->nk", rel, e2)
    u = (gram[:, 2, None] * d1 - gram[:, 1, None] * d2) / det[:, None]
    v = (gram[:, 0, None] * d2 - gram[:, 1, None] * d1) / det[:, None]
    uv = tri_uv[:, None, 0] + u[..., None] * (tri_uv[:, None, 1] - tri_uv[:, None, 0])
    uv += v[..., None] * (tri_uv[:, None, 2] - tri_uv[:, None, 0])
    order = np.argsort(scene.face_material[index], kind="stable")
    n = len(order)
    return dataclasses.replace(
        scene,
        vertices=corners[order].reshape(-1, 3).astype(np.float32),
        faces=np.arange(3 * n, dtype=np.int32).reshape(n, 3),
        uv=uv[order].reshape(-1, 2).astype(np.float32),
        face_instance=scene.face_instance[index][order],
        face_material=scene.face_material[index][order],
        metadata={**scene.metadata, "dense_from": scene.kind},
    )


def dense_scan(scene: Scene, max_edge: float = 0.15) -> Scene:
    """``scene`` split until no triangle edge exceeds ``max_edge`` metres (a scan's density)."""
    v, f, index = trimesh.remesh.subdivide_to_size(
        scene.vertices.astype(np.float64), scene.faces, max_edge=max_edge, max_iter=12,
        return_index=True,
    )  # fmt: skip
    return _rebuild(scene, v, f, index)


def subdivided(scene: Scene, levels: int) -> Scene:
    """``scene`` with every triangle split in four, ``levels`` times (4^levels as many)."""
    v = scene.vertices.astype(np.float64)
    f = np.asarray(scene.faces)
    index = np.arange(len(f))
    for _ in range(levels):
        v, f, children = trimesh.remesh.subdivide(v, f, return_index=True)
        parent = np.empty(len(f), dtype=np.int64)  # children: {old face: its new faces}
        for old, new in children.items():
            parent[new] = old
        index = index[parent]
    return _rebuild(scene, v, f, index)
