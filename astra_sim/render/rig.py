"""Camera mounts and rigs: where cameras sit on the robot, and all their rays per pose.

The renderer casts every camera's rays in one batch, so the rig is the unit it renders.
Everything that does not depend on the robot's pose (each pixel's ray in the base frame,
which pixels are valid, the depth convention per pixel) is computed once per rig; a pose
then costs one planar rotation of those rays.

The base frame sits on the floor under the robot's centre: x forward, y left, z up.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from astra_sim.core.errors import UnknownNameError
from astra_sim.render.cameras import (
    Camera,
    CameraModel,
    EquirectangularCamera,
    FisheyeCamera,
    PinholeCamera,
)


def _finite(value: Any, what: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a finite number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return out


def parse_pose(pose: Any) -> tuple[float, float, float]:
    """A planar base pose as (x, y, yaw); anything array-like with 3 finite numbers."""
    try:
        arr = np.asarray(pose, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"pose must be (x, y, yaw), got {pose!r}") from None
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"pose must be 3 finite numbers (x, y, yaw), got {pose!r}")
    return float(arr[0]), float(arr[1]), float(arr[2])


def _rot_z(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _rot_y(pitch: float) -> np.ndarray:
    c, s = math.cos(pitch), math.sin(pitch)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


@dataclass(frozen=True)
class CameraMount:
    """A camera's pose on the robot base.

    Attributes:
        camera: the camera model.
        xyz: optical centre in the base frame, metres (z is the height above the floor).
        yaw: heading of the optical axis relative to the base's x axis, radians (+ = left).
        pitch: tilt of the optical axis, radians; positive looks down (a right-handed
            rotation about the camera's y (left) axis, as in REP-103).
        name: label for the camera; a rig names unnamed cameras ``cam<i>``.
    """

    camera: Camera
    xyz: tuple[float, float, float] = (0.0, 0.0, 0.5)
    yaw: float = 0.0
    pitch: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.camera, CameraModel):
            raise ValueError(f"camera must be a camera model, got {type(self.camera).__name__}")
        try:
            xyz = tuple(_finite(v, "xyz") for v in self.xyz)
        except TypeError:
            raise ValueError(f"xyz must be 3 finite numbers, got {self.xyz!r}") from None
        if len(xyz) != 3:
            raise ValueError(f"xyz must be 3 finite numbers, got {self.xyz!r}")
        object.__setattr__(self, "xyz", xyz)
        object.__setattr__(self, "yaw", _finite(self.yaw, "yaw"))
        object.__setattr__(self, "pitch", _finite(self.pitch, "pitch"))
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a string, got {self.name!r}")

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) rotation from the camera frame to the base frame."""
        return _rot_z(self.yaw) @ _rot_y(self.pitch)


@dataclass(frozen=True, eq=False)
class Rig:
    """Cameras fixed on one robot base, rendered together into ``(C, H, W, ...)`` arrays.

    Attributes:
        mounts: the cameras and their poses; all must have the same (H, W) so their images
            stack, and non-empty names must be unique so they can key per-camera data.
    """

    mounts: tuple[CameraMount, ...]

    def __post_init__(self) -> None:
        mounts = tuple(self.mounts)
        if not mounts:
            raise ValueError("mounts must hold at least one CameraMount, got none")
        for i, m in enumerate(mounts):
            if not isinstance(m, CameraMount):
                raise ValueError(f"mounts[{i}] must be a CameraMount, got {type(m).__name__}")
        shapes = {m.camera.shape for m in mounts}
        if len(shapes) > 1:
            raise ValueError(
                f"mounts must all have the same (height, width) to stack, got {sorted(shapes)}"
            )
        names = [m.name for m in mounts if m.name]
        if len(names) != len(set(names)):
            raise ValueError(f"mount names must be unique, got {names}")
        object.__setattr__(self, "mounts", mounts)

    @classmethod
    def from_name(cls, name: str) -> Rig:
        """A named recipe from ``RIG_NAMES``; unknown names raise UnknownNameError."""
        if name not in _RECIPES:
            raise UnknownNameError("rig", name, _RECIPES)
        return _RECIPES[name]()

    # ---------------------------------------------------------------- static layout
    def scaled(self, factor: int) -> Rig:
        """The same cameras with ``factor`` times the pixels along each side.

        Every camera model derives its intrinsics from its size and field of view, so a
        scaled image area-downsampled by ``factor`` lines up with the original pixel for
        pixel: what lets a localizer read signs at a higher query resolution and still match
        features against map images taken at the original one.
        """
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise ValueError(f"factor must be a positive integer, got {factor!r}")
        return Rig(
            tuple(
                dataclasses.replace(
                    m,
                    camera=dataclasses.replace(
                        m.camera, width=m.camera.width * factor, height=m.camera.height * factor
                    ),
                )
                for m in self.mounts
            )
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W): cameras, image height, image width."""
        h, w = self.mounts[0].camera.shape
        return (len(self.mounts), h, w)

    @property
    def names(self) -> list[str]:
        return [m.name or f"cam{i}" for i, m in enumerate(self.mounts)]

    @property
    def valid(self) -> np.ndarray:
        """(C, H, W) bool: the pixels that get a ray."""
        return self._layout[0]

    @property
    def num_rays(self) -> int:
        """How many rays ``rays`` returns: the number of valid pixels over all cameras."""
        return int(self._layout[1].shape[0])

    @property
    def ray_depth_factors(self) -> np.ndarray:
        """(N,) float32 per valid ray: ray distance times this is the depth to store."""
        return self._layout[3]

    @functools.cached_property
    def _layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        valid = np.stack([m.camera.valid for m in self.mounts])
        dirs, factors = [], []
        for m, ok in zip(self.mounts, valid, strict=True):
            cam_dirs = m.camera.ray_directions()[ok].astype(np.float64)
            dirs.append(cam_dirs @ m.rotation.T)
            factors.append(m.camera.depth_factors()[ok])
        centres = np.array([m.xyz for m in self.mounts], dtype=np.float64)
        counts = valid.reshape(len(self.mounts), -1).sum(axis=1)
        out = (
            valid,
            np.concatenate(dirs).astype(np.float32),
            centres,
            np.concatenate(factors),
            counts,
        )
        for a in out:
            a.setflags(write=False)
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_layout", None)
        return state

    # ---------------------------------------------------------------- per pose
    def rays(self, pose: Any) -> tuple[np.ndarray, np.ndarray]:
        """World-frame rays of every valid pixel for a base pose (x, y, yaw) on the floor.

        Returns:
            origins (N, 3) and unit directions (N, 3), float32 and C-contiguous, ordered
            camera by camera, then row-major over each camera's valid pixels (the order of
            ``valid``), so results scatter back with ``image[rig.valid] = values``.
        """
        x, y, yaw = parse_pose(pose)
        _, dirs, centres, _, counts = self._layout
        # Rotate element-wise, not with ``@``: a large matmul wakes OpenBLAS's worker threads,
        # which then spin for milliseconds on the cores Embree's threads need.
        c, s = math.cos(yaw), math.sin(yaw)
        world_dirs = np.empty_like(dirs)
        dx, dy = dirs[:, 0], dirs[:, 1]
        np.multiply(dx, np.float32(c), out=world_dirs[:, 0])
        world_dirs[:, 0] -= np.float32(s) * dy
        np.multiply(dx, np.float32(s), out=world_dirs[:, 1])
        world_dirs[:, 1] += np.float32(c) * dy
        world_dirs[:, 2] = dirs[:, 2]
        cx, cy = centres[:, 0], centres[:, 1]
        world_centres = np.stack([x + c * cx - s * cy, y + s * cx + c * cy, centres[:, 2]], 1)
        return np.repeat(world_centres.astype(np.float32), counts, axis=0), world_dirs


# -------------------------------------------------------------------- recipes
def _default() -> Rig:
    cam = PinholeCamera(128, 128, hfov_deg=90.0)
    names = ("front", "left", "back", "right")
    return Rig(
        tuple(
            CameraMount(cam, xyz=(0.0, 0.0, 0.5), yaw=math.radians(90.0 * i), name=n)
            for i, n in enumerate(names)
        )
    )


ASTRA3_K = (-0.004, 0.039, -0.037, 0.006)
"""Kannala-Brandt coefficients of the ``astra3`` fisheyes: mild, typical of a 190 degree lens."""


def _astra3() -> Rig:
    cam = FisheyeCamera(160, 160, fov_deg=190.0, model="kannala_brandt", k=ASTRA3_K)
    names = ("front", "rear_left", "rear_right")
    return Rig(
        tuple(
            CameraMount(cam, xyz=(0.0, 0.0, 0.6), yaw=math.radians(120.0 * i), name=n)
            for i, n in enumerate(names)
        )
    )


def _equirect() -> Rig:
    cam = EquirectangularCamera(256, 128)
    return Rig((CameraMount(cam, xyz=(0.0, 0.0, 0.5), name="pano"),))


def _default_hires() -> Rig:
    """The default rig at three times its pixels per side: what the Astra agent's robot
    carries, so its landmark localizer reads signs; centre-sampled, it is the default rig."""
    return _default().scaled(3)


_RECIPES: dict[str, Callable[[], Rig]] = {
    "default": _default,
    "default_hires": _default_hires,
    "astra3": _astra3,
    "equirect": _equirect,
}

RIG_NAMES: tuple[str, ...] = tuple(_RECIPES)
"""Names ``Rig.from_name`` accepts."""


def make_rig(mounts: Sequence[CameraMount] | str) -> Rig:
    """A rig from a recipe name or a list of mounts, for configs that allow either."""
    return Rig.from_name(mounts) if isinstance(mounts, str) else Rig(tuple(mounts))
