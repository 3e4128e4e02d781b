"""Surface colour of ray hits: texture lookup plus simple, fixed lighting.

Ray casting gives, per pixel, the hit triangle, the distance and barycentric (u, v). The
colour is the triangle's texture at the interpolated UV times a light factor. To keep that
one vectorised pass over all hits, everything per triangle that the colour needs (its UV
frame, its texture's place in one packed texel array, its light factor) is gathered into
flat per-face tables once per scene, and every material image is packed into a single
array of RGBX texels addressed by an offset table, so textures of different sizes (128 px
tiles, a 2048 px sign atlas) need no padding.

Lighting is deliberately simple: scenes carry no lights, and the aim is that surfaces of
different orientation and distance look different (as they do under real room light), not
photorealism. The light factor of a face is ``ambient + diffuse * |n . l|`` for a fixed
world light direction (two-sided, since generated quads face either way), times a mild
distance fall-off ``1 / (1 + attenuation * t)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from astra_sim.core.errors import UnknownNameError

FILTERS = ("nearest", "bilinear")


@dataclass(frozen=True)
class Shading:
    """How hits are coloured.

    Attributes:
        ambient: light factor of a surface facing away from the light, in [0, 1].
        diffuse: extra factor for a surface facing the light; ambient + diffuse <= 1 keeps
            textures from clipping.
        light_dir: direction towards the light in the world frame (normalised here); mostly
            from above, a little from +x and +y, so floor, ceiling and each wall orientation
            get distinct brightness.
        attenuation: distance fall-off per metre; 0 turns it off.
        filtering: texture sampling, ``"nearest"`` (fastest) or ``"bilinear"`` (smoother
            close-ups, e.g. sign text, for about twice the texture cost).
    """

    ambient: float = 0.6
    diffuse: float = 0.4
    light_dir: tuple[float, float, float] = (0.3, 0.2, 1.0)
    attenuation: float = 0.03
    filtering: str = "nearest"

    def __post_init__(self) -> None:
        for name in ("ambient", "diffuse", "attenuation"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.ambient + self.diffuse > 1.0 + 1e-9:
            raise ValueError(f"ambient + diffuse must be <= 1, got {self.ambient} + {self.diffuse}")
        light = np.asarray(self.light_dir, dtype=np.float64)
        if light.shape != (3,) or not np.all(np.isfinite(light)) or not light.any():
            raise ValueError(
                f"light_dir must be 3 finite numbers, not all 0, got {self.light_dir!r}"
            )
        if self.filtering not in FILTERS:
            raise UnknownNameError("texture filtering", self.filtering, FILTERS)


class SurfaceShader:
    """Per-scene tables that turn (triangle, t, u, v) hits into RGB.

    Args:
        vertices: (V, 3) float32 scene vertices.
        faces: (F, 3) int32 triangles.
        uv: (V, 2) per-vertex UVs in texture tiles, v up (OpenGL), repeating.
        face_material: (F,) material row per triangle.
        images: one (H, W, 3) uint8 image per material.
        shading: the lighting and filtering settings.
    """

    def __init__(
        self,
        vertices: np.ndarray,
        faces: np.ndarray,
        uv: np.ndarray,
        face_material: np.ndarray,
        images: list[np.ndarray],
        shading: Shading,
    ) -> None:
        self.shading = shading
        sizes = np.array([img.shape[:2] for img in images], dtype=np.int64).reshape(-1, 2)
        counts = sizes[:, 0] * sizes[:, 1]
        offsets = np.cumsum(counts) - counts
        rgbx = np.zeros((int(counts.sum()), 4), dtype=np.uint8)
        for img, off, (h, w) in zip(images, offsets, sizes, strict=True):
            if img.ndim != 3 or img.shape[2] < 3 or img.dtype != np.uint8:
                raise ValueError(f"material images must be (H, W, 3) uint8, got {img.shape}")
            rgbx[off : off + h * w, :3] = img[..., :3].reshape(-1, 3)
        self.texels = rgbx.view(np.uint32).reshape(-1)

        tri_uv = uv[faces].astype(np.float64)  # (F, 3, 2)
        tri = vertices[faces].astype(np.float64)
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        norm = np.linalg.norm(normal, axis=1, keepdims=True)
        normal = np.divide(normal, norm, out=np.zeros_like(normal), where=norm > 0)
        light = np.asarray(shading.light_dir, dtype=np.float64)
        light /= np.linalg.norm(light)
        face_light = shading.ambient + shading.diffuse * np.abs(normal @ light)
        fh, fw = sizes[face_material, 0], sizes[face_material, 1]
        # One contiguous row per quantity (structure of arrays), so a batch of hits costs a
        # single ``take`` and then only contiguous arithmetic.
        self.uv_frames = np.stack(
            [
                tri_uv[:, 0, 0],
                tri_uv[:, 0, 1],
                tri_uv[:, 1, 0] - tri_uv[:, 0, 0],
                tri_uv[:, 1, 1] - tri_uv[:, 0, 1],
                tri_uv[:, 2, 0] - tri_uv[:, 0, 0],
                tri_uv[:, 2, 1] - tri_uv[:, 0, 1],
                fw,
                fh,
                face_light,
            ]
        ).astype(np.float32)
        index = np.int32 if len(self.texels) < 2**31 else np.int64
        self.tex_layout = np.stack([fw, fh, offsets[face_material]]).astype(index)

    def shade(self, prim: np.ndarray, t: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(N, 3) uint8 colours of hits; ``prim`` must hold valid triangle ids only."""
        u0, v0, du1, dv1, du2, dv2, w, h, light = np.take(self.uv_frames, prim, axis=1)
        x = du1 * u
        x += u0
        x += du2 * v
        y = dv1 * u
        y += v0
        y += dv2 * v
        # Wrap the repeating UVs into [0, 1), flip v (row 0 of an image is its top), scale
        # to texels.
        x -= np.floor(x)
        y -= np.floor(y)
        np.subtract(1.0, y, out=y)
        x *= w
        y *= h
        layout = np.take(self.tex_layout, prim, axis=1)
        if self.shading.filtering == "nearest":
            texel = self._nearest(layout, x, y)
        else:
            texel = self._bilinear(layout, x, y)
        if self.shading.attenuation:
            light /= 1.0 + np.float32(self.shading.attenuation) * t
        # Fixed-point light (8 fractional bits) keeps the multiply in uint16, twice as fast as
        # float and exact to well under one grey level.
        light *= 256.0
        light += 0.5
        texel *= light.astype(np.uint16)[:, None]
        texel += 128
        texel >>= 8
        return texel[:, :3].astype(np.uint8)

    def _nearest(self, layout: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(N, 4) uint16 RGBX of the texel under each point."""
        w, h, base = layout
        col = x.astype(w.dtype)
        np.minimum(col, w - 1, out=col)
        row = y.astype(w.dtype)
        np.minimum(row, h - 1, out=row)
        row *= w
        row += col
        row += base
        return self.texels.take(row).view(np.uint8).reshape(-1, 4).astype(np.uint16)

    def _bilinear(self, layout: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(N, 4) uint16 RGBX blended from the four nearest texels (wrapping, as UVs repeat)."""
        w, h, base = layout
        x -= 0.5  # texel centres sit at half-integers
        y -= 0.5
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = (x - x0)[:, None], (y - y0)[:, None]
        c0, r0 = x0.astype(w.dtype) % w, y0.astype(w.dtype) % h
        c1, r1 = (c0 + 1) % w, (r0 + 1) % h
        rows0, rows1 = base + r0 * w, base + r1 * w

        def fetch(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
            return self.texels.take(rows + cols).view(np.uint8).reshape(-1, 4)

        top = fetch(rows0, c0) * (1 - fx) + fetch(rows0, c1) * fx
        bottom = fetch(rows1, c0) * (1 - fx) + fetch(rows1, c1) * fx
        blend = top * (1 - fy) + bottom * fy
        blend += 0.5
        return blend.astype(np.uint16)
