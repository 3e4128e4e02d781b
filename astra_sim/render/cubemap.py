"""Wide-angle cameras on a rasterizer: render a cube map, then look every ray up in it.

A rasterizer projects straight edges to straight edges, which only a pinhole does; a fisheye
or a panorama is six 90-degree pinhole views around the optical centre (the faces of a cube)
and a per-pixel lookup. The lookup is fixed per camera (the cube turns with it), so it is
computed once: for every valid pixel, the face its ray leaves the cube through and the
nearest texel there.

Colour and instance id come from that texel. Depth does not: the texel's ray and the pixel's
ray differ by up to half a texel, which on a floor seen at a grazing angle is centimetres.
Each texel stores the plane of the triangle it hit instead, and the pixel's own ray is
intersected with it, which is exact wherever texel and pixel see the same triangle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from astra_sim.render.cameras import CameraModel, EquirectangularCamera, FisheyeCamera

# Each face as (forward, left, up) axes in the camera frame (x forward, y left, z up), all
# right-handed; a face renders as a square 90-degree pinhole camera along ``forward``.
CUBE_FACES: tuple[tuple[tuple[int, ...], ...], ...] = (
    ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    ((0, 1, 0), (-1, 0, 0), (0, 0, 1)),
    ((-1, 0, 0), (0, -1, 0), (0, 0, 1)),
    ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
    ((0, 0, 1), (0, 1, 0), (-1, 0, 0)),
    ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
)
FACE_ROTATIONS = np.array([np.array(f, dtype=np.float64).T for f in CUBE_FACES])
"""(6, 3, 3): columns forward, left, up of each face, i.e. face frame -> camera frame."""


def pixels_per_radian(camera: CameraModel) -> float:
    """The camera's finest angular sampling, in pixels per radian."""
    if isinstance(camera, EquirectangularCamera):
        return max(camera.width / (2 * math.pi), camera.height / math.pi)
    if isinstance(camera, FisheyeCamera):
        theta = np.linspace(0.0, camera.theta_max, 2049)
        r = camera._radius_norm(theta)
        scale = camera.circle_radius_px / r[-1]
        return float(scale * np.max(np.diff(r) / np.diff(theta)))
    raise ValueError(f"no cube-map sampling for {type(camera).__name__}")


def default_face_size(camera: CameraModel, oversample: float = 1.5) -> int:
    """Cube face side (pixels, a multiple of 8) that samples at least as finely as the camera.

    At a face's centre one texel spans 2 / N radians, so N = 2 x pixels-per-radian matches
    the camera there (texels shrink towards a face's edges); ``oversample`` adds margin.
    """
    n = 2.0 * pixels_per_radian(camera) * oversample
    return int(8 * math.ceil(n / 8))


@dataclass(frozen=True, eq=False)
class CubeLookup:
    """Where each valid pixel of a wide-angle camera finds its ray in a cube map.

    Attributes:
        size: cube face side in pixels.
        faces: indices into ``CUBE_FACES`` of the faces any pixel uses (the others are not
            rendered); the rendered stack follows this order.
        index: (N,) int64 flat index into the (len(faces), size, size) stack per valid pixel.
        rays: (N, 3) float64 unit rays of the valid pixels, camera frame.
        texel_rays: (N, 3) float64 unit rays through the looked-up texels' centres.
    """

    size: int
    faces: tuple[int, ...]
    index: np.ndarray
    rays: np.ndarray
    texel_rays: np.ndarray

    @classmethod
    def build(cls, camera: CameraModel, size: int | None = None) -> CubeLookup:
        """The lookup of ``camera`` (fisheye or equirectangular) on faces of ``size`` px."""
        size = default_face_size(camera) if size is None else int(size)
        if size < 1:
            raise ValueError(f"cube face size must be a positive integer, got {size}")
        rays = camera.ray_directions()[camera.valid].astype(np.float64)
        along = rays @ FACE_ROTATIONS[:, :, 0].T  # (N, 6): component along each forward
        face = np.argmax(along, axis=1)
        local = np.einsum("nij,ni->nj", FACE_ROTATIONS[face], rays)  # (fwd, left, up)
        half = size / 2.0  # focal length in pixels of a 90-degree face
        col = np.clip(np.floor(-local[:, 1] / local[:, 0] * half + half), 0, size - 1)
        row = np.clip(np.floor(-local[:, 2] / local[:, 0] * half + half), 0, size - 1)
        used = tuple(int(f) for f in np.unique(face))
        slot = np.searchsorted(np.array(used), face)
        index = (slot * size + row.astype(np.int64)) * size + col.astype(np.int64)
        xs, ys = col + 0.5 - half, row + 0.5 - half
        texel_local = np.stack([np.full_like(xs, half), -xs, -ys], axis=1)
        texel_local /= np.linalg.norm(texel_local, axis=1, keepdims=True)
        texel_rays = np.einsum("nij,nj->ni", FACE_ROTATIONS[face], texel_local)
        return cls(size, used, index, rays, texel_rays)


def plane_depth(plane: np.ndarray, rays: np.ndarray, texel_rays: np.ndarray) -> np.ndarray:
    """Range along ``rays`` to the texels' planes (n, n . (p - eye)); float32 (N,).

    ``rays`` and ``texel_rays`` are unit vectors in the planes' (world) frame. Falls back
    to the texel's own range where the pixel's ray meets the plane at a very different
    incidence (within a texel of grazing it, or of the triangle's silhouette).
    """
    n, c = plane[:, :3].astype(np.float64), plane[:, 3].astype(np.float64)
    along = np.einsum("ni,ni->n", n, rays)
    along_texel = np.einsum("ni,ni->n", n, texel_rays)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = c / along
        texel = c / along_texel
        ok = (along * along_texel > 0) & (np.abs(along) >= 0.5 * np.abs(along_texel))
    return np.where(ok, exact, texel).astype(np.float32)
