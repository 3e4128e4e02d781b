"""Where a rig's views look, for the ``gl`` backend: built once per rig, placed per pose.

Everything about a view that does not depend on the base pose (its rows of the base ->
eye transform, its frustum's plane normals, its framebuffer group) is computed once per
rig; a pose then costs one 3x3 turn about z of those arrays. Per frame the Python side is
a few small matrix products whatever the number of cameras, which matters because on a
2-core llvmpipe machine a rig frame takes only a few milliseconds in all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from astra_sim.render.cameras import PinholeCamera
from astra_sim.render.cubemap import FACE_ROTATIONS, CubeLookup
from astra_sim.render.rig import Rig, parse_pose

NEAR = 0.02
"""Metres: nearer surfaces are clipped. Cameras sit on a robot, centimetres from nothing."""
FAR = 1000.0
"""Metres: one far plane for every scene. Depth-buffer precision is set by ``NEAR`` (about a
millimetre at 30 m), and depths themselves come from interpolated positions, not from it."""

ViewKey = tuple[int, int, float, int, float, float]
"""A framebuffer group: width, height, focal (px), mode (0 pinhole, 1 cube face), cx, cy."""


@dataclass(frozen=True, eq=False)
class RigViews:
    """What of a rig's views does not depend on the pose, per renderer.

    Attributes:
        rot: (V, 3, 3) rows of the base -> GL eye rotation (x right, y up, z back).
        normals: (V, 5, 3) inward normals of each view's frustum planes, base frame (side
            planes widened by the principal point's offset: conservative).
        offset: (V, 3) optical centres in the base frame.
        rows: (V, 8, 3) ``rot`` and ``normals`` stacked, turned together per pose.
        keys: per view, its framebuffer group.
        mounts: per mount, the range of its views and, for wide-angle cameras, the cube
            lookup with its rays in the base frame.
    """

    rot: np.ndarray
    normals: np.ndarray
    offset: np.ndarray
    rows: np.ndarray
    keys: tuple[ViewKey, ...]
    mounts: tuple[tuple[slice, Any], ...]


def rig_views(rig: Rig, cube_size: int | None) -> RigViews:
    """The pose-independent views of ``rig`` (cube faces of ``cube_size`` px, or the
    cube map's own choice when None)."""
    axes, offset, keys, mounts = [], [], [], []
    for mount in rig.mounts:
        cam, rot, first = mount.camera, mount.rotation, len(keys)
        lookup = None
        if isinstance(cam, PinholeCamera):
            axes.append(rot)
            # An offset principal point (``OffsetPinholeCamera``) shifts the projection.
            centre = (float(getattr(cam, "cx_px", 0.0)), float(getattr(cam, "cy_px", 0.0)))
            keys.append((cam.width, cam.height, cam.focal_px, 0, *centre))
        else:
            cube = CubeLookup.build(cam, cube_size)
            lookup = (cube, cube.rays @ rot.T, cube.texel_rays @ rot.T)
            for f in cube.faces:
                axes.append(rot @ FACE_ROTATIONS[f])
                keys.append((cube.size, cube.size, cube.size / 2.0, 1, 0.0, 0.0))
        offset.extend([mount.xyz] * (len(keys) - first))
        mounts.append((slice(first, len(keys)), lookup))
    a = np.array(axes, dtype=np.float64)  # columns forward, left, up
    forward, left, up = a[:, :, 0], a[:, :, 1], a[:, :, 2]
    tx = np.array([(k[0] / 2 + abs(k[4])) / k[2] for k in keys])[:, None]
    ty = np.array([(k[1] / 2 + abs(k[5])) / k[2] for k in keys])[:, None]
    normals = np.stack(
        [tx * forward - left, tx * forward + left, ty * forward - up, ty * forward + up,
         forward], axis=1,
    )  # fmt: skip
    rot = np.stack([-left, up, -forward], axis=1)
    return RigViews(
        rot=rot,
        normals=normals,
        offset=np.array(offset, dtype=np.float64),
        rows=np.concatenate([rot, normals], axis=1),
        keys=tuple(keys),
        mounts=tuple(mounts),
    )


def place(views: RigViews, pose: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """A rig's views at a base pose (x, y, yaw).

    Returns:
        attributes: (V, 16) float32 per-view attributes: rows of world -> GL eye, then the
            eye and 0 (the strip index, filled in where the view is drawn).
        planes: (V, 5, 4) inward planes ``(n, d)`` of the views' frusta, world frame.
        eyes: (V, 3) the optical centres, world frame.
        c, s: cosine and sine of the yaw.
    """
    x, y, yaw = parse_pose(pose)
    c, s = math.cos(yaw), math.sin(yaw)
    turn_t = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])  # R_z(yaw) transposed
    eyes = views.offset @ turn_t
    eyes += (x, y, 0.0)
    # One product for both: rows of world -> eye and plane normals, then each row's offset
    # -(row . eye). Few numpy calls: in a frame this runs between llvmpipe's rasterizer
    # threads, with cold caches, at several times its cost in isolation.
    both = np.empty((len(eyes), 8, 4))
    both[..., :3] = views.rows @ turn_t
    both[..., 3] = -(both[..., :3] @ eyes[:, :, None])[..., 0]
    both[:, 7, 3] -= NEAR
    out = np.empty((len(eyes), 4, 4), dtype=np.float32)
    out[:, :3] = both[:, :3]
    out[:, 3, :3] = eyes
    out[:, 3, 3] = 0.0
    return out.reshape(-1, 16), both[:, 3:], eyes, c, s


def projection(focal: float, width: int, height: int) -> tuple[float, float, float, float]:
    """``u_proj``: x and y scales (y flipped: row 0 at the top) and the depth terms."""
    return (
        2 * focal / width,
        -2 * focal / height,
        -(FAR + NEAR) / (FAR - NEAR),
        -2 * FAR * NEAR / (FAR - NEAR),
    )
