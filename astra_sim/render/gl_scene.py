"""A scene's triangles and surface tables in GL buffers, ready to draw in clusters.

The per-face tables (texture layout, light factor) are the Embree shader's own
(``SurfaceShader``), so both backends colour a surface point from the same numbers. Each
triangle has its own three vertices, which carry its row of them (and its face number, for
the plane table of cube-map faces), so the draw order is free: triangles are stored in two
sets, those that may be drawn one-sided (back faces culled: ``render.winding``) and those
seen from both sides, each in Morton order and cut into clusters (``render.gl_clusters``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from astra_sim.render.gl_clusters import Clusters, morton_key, normal_classes
from astra_sim.render.gl_shaders import (
    ATTRIBUTES,
    SURFACE_ATTRIBUTE,
    TEXEL_SHIFT,
    VIEW_ATTRIBUTES,
)
from astra_sim.render.shading import Shading, SurfaceShader
from astra_sim.render.winding import BOTH, visible_sides
from astra_sim.scenes.model import Scene

TABLES = ("u_texels", "u_planes")
"""The fragment shader's samplers, in texture-unit order."""

VERTEX_DTYPE = np.dtype([("pos", "<f4", 3), ("uv", "<f4", 2), ("face", "<i4")])
"""One vertex: position, UV, and the index of its face in the per-face tables."""


def _table_texture(gl: Any, rows: np.ndarray, dtype: str, what: str) -> Any:
    """(N, 4) rows (bytes of 4 channels each) as a texture ``2^TEXEL_SHIFT`` rows wide,
    row i at (i % width, i // width), read with ``texelFetch`` (never filtered)."""
    width = 1 << TEXEL_SHIFT
    height = max(1, math.ceil(len(rows) / width))
    if height > gl.max_size:
        raise ValueError(f"the scene's {what} hold {len(rows)} entries; max {width * gl.max_size}")
    padded = np.zeros((height * width, *rows.shape[1:]), dtype=rows.dtype)
    padded[: len(rows)] = rows
    tex = gl.ctx.texture((width, height), 4, padded.tobytes(), dtype=dtype)
    tex.filter = (gl.moderngl.NEAREST, gl.moderngl.NEAREST)
    return tex


class GLSceneBuffers:
    """The GL side of one scene: vertex buffer, texel texture, cluster sets.

    Args:
        gl: the process's ``GLContext``.
        scene: the scene to upload (copied; later edits do not show).
        shading: the lighting and texture settings (as the Embree renderer's).
        one_sided: cull back faces of the triangles ``visible_sides`` allows; False draws
            every triangle from both sides.
    """

    def __init__(
        self,
        gl: Any,
        scene: Scene,
        shading: Shading,
        one_sided: bool = True,
        images: list[np.ndarray] | None = None,
    ) -> None:
        self._gl = gl
        self.clusters = Clusters([])
        self.textures: list[Any] = []
        self._vaos: dict[int, Any] = {}
        faces = np.asarray(scene.faces, dtype=np.int64)
        self.num_faces = len(faces)
        if self.num_faces == 0:
            self.bounds = np.zeros((2, 3))
            return
        vertices = np.asarray(scene.vertices, dtype=np.float32)
        tri = vertices[faces].astype(np.float64)  # (F, 3, 3)
        self.bounds = np.stack([tri.reshape(-1, 3).min(0), tri.reshape(-1, 3).max(0)])
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        norm = np.linalg.norm(normal, axis=1, keepdims=True)
        normal = np.divide(normal, norm, out=np.zeros_like(normal), where=norm > 0)
        planes = np.c_[normal, np.einsum("fi,fi->f", normal, tri[:, 0])]
        sides = (
            visible_sides(vertices, scene.faces, scene.face_instance)
            if one_sided
            else np.full(len(faces), BOTH)
        )
        key = morton_key(tri.mean(axis=1))
        parts = [np.flatnonzero(sides != BOTH), np.flatnonzero(sides == BOTH)]
        # One-sided triangles by facing direction, then along the curve; the rest along it.
        classes = normal_classes(normal[parts[0]])
        order = np.lexsort((key[parts[0]], classes))
        parts[0], classes = parts[0][order], classes[order]
        parts[1] = parts[1][np.argsort(key[parts[1]], kind="stable")]
        drawn = np.concatenate(parts)
        verts = np.empty((len(drawn), 3), dtype=VERTEX_DTYPE)
        verts["pos"] = tri[drawn]
        verts["uv"] = np.asarray(scene.uv, dtype=np.float32)[faces[drawn]]
        verts["face"] = drawn[:, None]
        first, sets = 0, []
        for part, cull in zip(parts, (True, False), strict=True):
            if len(part):
                set_classes = (classes,) if cull else ()
                sets.append((tri[drawn[first : first + len(part)]], first, cull, *set_classes))
            first += len(part)
        self.clusters = Clusters(sets)
        self.vbo = gl.ctx.buffer(verts.tobytes())
        self._drawn = drawn
        self._surface = (vertices, scene.faces, scene.uv, scene.face_material, scene.face_instance)
        planes_tex = _table_texture(gl, planes.astype(np.float32), "f4", "triangles")
        own = [m.image for m in scene.materials] if images is None else images
        texels, rows = self._colour_tables(own, shading)
        self.surface = gl.ctx.buffer(rows)
        self.textures = [texels, planes_tex]

    def _colour_tables(self, images: list[np.ndarray], shading: Shading) -> tuple[Any, bytes]:
        """The texel texture and the per-vertex surface rows (instance, texture layout,
        light) for ``images`` lit by ``shading``, from the Embree shader's own tables."""
        vertices, faces, uv, face_material, face_instance = self._surface
        shader = SurfaceShader(vertices, faces, uv, face_material, list(images), shading)
        w, h, base = shader.tex_layout
        if max(int(w.max()), int(h.max())) >= 1 << 16:
            raise ValueError("material images must be under 65536 pixels a side")
        light = np.ascontiguousarray(shader.uv_frames[8], dtype=np.float32).view(np.int32)
        face_table = np.stack([face_instance, w | (h << 16), base, light], axis=1)
        rows = np.repeat(face_table.astype(np.int32)[self._drawn], 3, axis=0)
        texels = shader.texels.view(np.uint8).reshape(-1, 4)
        return _table_texture(self._gl, texels, "u1", "textures"), rows.tobytes()

    def set_appearance(self, images: list[np.ndarray], shading: Shading) -> None:
        """New material images and lighting, same geometry: only the colour tables change."""
        if self.empty:
            return
        texels, rows = self._colour_tables(images, shading)
        self.textures[0].release()
        self.textures[0] = texels
        self.surface.write(rows)

    @property
    def empty(self) -> bool:
        return len(self.clusters) == 0

    def vao(self, program: Any) -> Any:
        """This scene's vertex array for ``program``; attributes the program's variant does
        not read (the compiler drops them) are skipped over as padding."""
        key = id(program)
        if key not in self._vaos:
            fmt, names = [], []
            for name, kind, size in ATTRIBUTES:
                if program.get(name, None) is not None:
                    fmt.append(kind)
                    names.append(name)
                else:
                    fmt.append(f"{size}x")
            content = [
                (self.vbo, " ".join(fmt), *names),
                (self.surface, "4i", SURFACE_ATTRIBUTE),
                (self._gl.views, "4f 4f 4f 4f/i", *VIEW_ATTRIBUTES),
            ]
            self._vaos[key] = self._gl.ctx.vertex_array(program, content)
        return self._vaos[key]

    def bind(self, program: Any) -> None:
        """Bind this scene's texel and plane tables to units 0 and 1 for ``program``."""
        for unit, (name, tex) in enumerate(zip(TABLES, self.textures, strict=True)):
            tex.use(unit)
            if program.get(name, None) is not None:
                program[name].value = unit

    def release(self) -> None:
        if self.empty:
            return
        for obj in (*self._vaos.values(), self.vbo, self.surface, *self.textures):
            obj.release()
        self._vaos.clear()
        self.clusters = Clusters([])
