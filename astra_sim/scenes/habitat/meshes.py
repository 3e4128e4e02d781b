"""Render meshes of a habitat scene as textured parts in our frame.

trimesh reads the geometry, UVs and PNG/JPEG textures of glTF, PLY and OBJ files. What it
cannot decode (HM3D's Basis/KTX2 textures) falls back to the material's base colour, or to
vertex colours when the file has them; vertex and face colours become a small palette
texture with one texel per distinct colour, so the renderer's single texture path serves
every kind of mesh.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from astra_sim.core.errors import SceneFormatError
from astra_sim.scenes.habitat import frames
from astra_sim.scenes.habitat.dataset import Placement
from astra_sim.scenes.habitat.gltf import gltf_json, ktx2_images

UV_QUANTUM = 2.0**-16
"""UVs are kept on this lattice: glTF's v -> 1 - v flip is then exact, so a saved import
loads back bit for bit."""
FALLBACK_GREY = (180, 180, 180)


class TextureFallbackWarning(UserWarning):
    """A mesh's textures could not be decoded; it is shown in flat or vertex colours."""


@dataclass
class Part:
    """One textured piece of a scene in our frame (before the floor shift).

    Attributes:
        name: the GLB node it came from (sorted on, so the order is deterministic).
        vertices: (N, 3) float64 metres, our frame.
        faces: (F, 3) int64.
        uv: (N, 2) float64 texture coordinates (v up).
        image: (H, W, 3) uint8 texture.
        kind: ``texture``, ``vertex_colour`` or ``flat``: what the look came from.
    """

    name: str
    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    image: np.ndarray
    kind: str


def placement_matrix(p: Placement, extent: tuple[np.ndarray, np.ndarray] | None = None):
    """(3x3, 3) affine map of asset points to our frame for placement ``p``.

    ``extent`` (the asset's bounding box) is needed only for centre-of-mass placements.
    """
    linear = frames.quat_wxyz_matrix(p.rotation) @ frames.frame_to_world(p.up, p.front)
    linear = linear * np.asarray(p.scale, dtype=np.float64)[None, :]
    offset = np.asarray(p.translation, dtype=np.float64)
    if p.com and extent is not None:
        corners = np.array(np.meshgrid(*zip(*extent, strict=True))).reshape(3, -1).T
        placed = corners @ (frames.frame_to_world(p.up, p.front) * np.asarray(p.scale)).T
        centre = (placed.min(0) + placed.max(0)) / 2
        offset = offset - frames.quat_wxyz_matrix(p.rotation) @ centre
    return frames.WORLD_TO_OURS @ linear, frames.WORLD_TO_OURS @ offset


def read_parts(placement: Placement) -> list[Part]:
    """The render mesh of ``placement`` as parts in our frame, warning once per file about
    textures that could not be decoded."""
    import trimesh

    path = placement.render
    if not path.is_file():
        raise SceneFormatError(f"{path}: render mesh does not exist")
    undecoded = ktx2_images(gltf_json(path)) if path.suffix.lower() in (".glb", ".gltf") else 0
    try:
        loaded = trimesh.load(path, force="scene", process=False)
    except Exception as e:  # trimesh raises many types on a broken file
        raise SceneFormatError(f"{path}: cannot read the mesh ({e})") from e
    raw = []
    for node in sorted(loaded.graph.nodes_geometry):
        transform, geom_name = loaded.graph[node]
        mesh = loaded.geometry[geom_name]
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            continue
        v = np.asarray(mesh.vertices, dtype=np.float64)
        v = v @ np.asarray(transform)[:3, :3].T + np.asarray(transform)[:3, 3]
        raw.append((node, v, mesh))
    if not raw:
        raise SceneFormatError(f"{path}: holds no triangles")
    extent = None
    if placement.com:
        allv = np.concatenate([v for _, v, _ in raw])
        extent = (allv.min(0), allv.max(0))
    linear, offset = placement_matrix(placement, extent)
    parts = [_part(node, v @ linear.T + offset, mesh) for node, v, mesh in raw]
    if undecoded:
        looks = sorted({p.kind for p in parts if p.kind != "texture"})
        warnings.warn(
            f"{path}: {undecoded} Basis/KTX2 texture(s) cannot be decoded here; the mesh is "
            f"shown in {' and '.join(looks) or 'flat'} colours instead",
            TextureFallbackWarning,
            stacklevel=3,
        )
    return parts


def _part(name: str, vertices: np.ndarray, mesh: Any) -> Part:
    faces = np.asarray(mesh.faces, dtype=np.int64)
    visual = mesh.visual
    material = getattr(visual, "material", None)
    texture = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
    uv = getattr(visual, "uv", None)
    if texture is not None and uv is not None and len(uv) == len(vertices):
        image = np.asarray(texture.convert("RGB"), dtype=np.uint8).copy()
        uv = np.round(np.asarray(uv, dtype=np.float64) / UV_QUANTUM) * UV_QUANTUM
        return Part(name, vertices, faces, uv, image, "texture")
    colours = _vertex_colours(mesh, visual)
    if colours is not None:
        return _palette_part(name, vertices, faces, colours[faces].mean(1))
    flat = np.array(FALLBACK_GREY, dtype=np.uint8)
    factor = getattr(material, "baseColorFactor", None)
    if factor is not None:
        flat = np.asarray(factor, dtype=np.float64)[:3]
        flat = (flat * 255 if flat.max() <= 1.0 else flat).astype(np.uint8)
    elif getattr(material, "main_color", None) is not None:
        flat = np.asarray(material.main_color, dtype=np.uint8)[:3]
    image = np.broadcast_to(flat, (4, 4, 3)).copy()
    return Part(name, vertices, faces, np.full((len(vertices), 2), 0.5), image, "flat")


def _vertex_colours(mesh: Any, visual: Any) -> np.ndarray | None:
    """(N, 3) float vertex colours when the file had some (vertex or face colours)."""
    kind = getattr(visual, "kind", None)
    if kind == "vertex":
        return np.asarray(visual.vertex_colors, dtype=np.float64)[:, :3]
    if kind == "face":
        face = np.asarray(visual.face_colors, dtype=np.float64)[:, :3]
        out = np.zeros((len(mesh.vertices), 3))
        out[np.asarray(mesh.faces)] = face[:, None, :]  # last face wins; faces unshared below
        return out
    return None


def _palette_part(name: str, vertices: np.ndarray, faces: np.ndarray, face_rgb: np.ndarray):
    """Flat-coloured faces as a palette texture; vertices are unshared (each face its own)."""
    q = (np.clip(face_rgb, 0, 255).astype(np.int64) // 4) * 4 + 2  # 6 bits a channel
    colours, index = np.unique(q, axis=0, return_inverse=True)
    index = index.reshape(-1)
    side = max(1, math.ceil(math.sqrt(len(colours))))
    rows = math.ceil(len(colours) / side)
    image = np.zeros((rows * side, 3), dtype=np.uint8)
    image[: len(colours)] = colours.astype(np.uint8)
    image = image.reshape(rows, side, 3)
    u = (index % side + 0.5) / side
    v = 1.0 - (index // side + 0.5) / rows
    uv = np.round(np.repeat(np.stack([u, v], 1), 3, axis=0) / UV_QUANTUM) * UV_QUANTUM
    unshared = vertices[faces].reshape(-1, 3)
    new_faces = np.arange(len(unshared), dtype=np.int64).reshape(-1, 3)
    return Part(name, unshared, new_faces, uv, image, "vertex_colour")
