"""Camera models as ray generators: pinhole, fisheye and equirectangular.

A ray-casting renderer needs no projection matrix, only one unit ray per pixel, so every
model here reduces to "which direction does pixel (row, col) look in". That keeps exotic
lenses (190 degree fisheyes, full panoramas) exactly as cheap as a pinhole.

All directions are in the CAMERA frame, which follows the robot convention (REP-103):
x forward along the optical axis, y left, z up. Image columns grow to the right (towards
-y) and rows grow downwards (towards -z), so a rendered image looks like a photo.
Directions are computed once per camera and cached read-only, since rigs reuse them for
every frame.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

FISHEYE_MODELS = ("equidistant", "kannala_brandt")


def _check_size(obj: object, name: str) -> None:
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    object.__setattr__(obj, name, int(value))


def _check_angle(obj: object, name: str, lo: float, hi: float, hi_closed: bool) -> None:
    value = getattr(obj, name)
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and lo < value and (value <= hi if hi_closed else value < hi)
    if not ok:
        closing = "]" if hi_closed else ")"
        raise ValueError(f"{name} must be in ({lo:g}, {hi:g}{closing} degrees, got {value!r}")
    object.__setattr__(obj, name, float(value))


def _pixel_offsets(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre offsets from the image centre: right-positive x, down-positive y."""
    xs = np.arange(width, dtype=np.float64) + 0.5 - width / 2
    ys = np.arange(height, dtype=np.float64) + 0.5 - height / 2
    return np.meshgrid(xs, ys)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


class CameraModel:
    """What every camera model offers; subclasses only say how pixels map to rays.

    ``depth_is_range`` says what a renderer should store as depth: the distance along the
    optical axis (pinhole; what depth sensors and most learning code expect) or the distance
    along the ray (wide-angle models, where z-depth is zero or negative beyond 90 degrees).
    """

    width: int
    height: int
    depth_is_range: ClassVar[bool] = True

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width), the order images are stored in."""
        return (self.height, self.width)

    def _directions(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    @functools.cached_property
    def _cache(self) -> tuple[np.ndarray, np.ndarray]:
        dirs, valid = self._directions()
        dirs = np.where(valid[..., None], dirs, 0.0).astype(np.float32)
        return _read_only(dirs), _read_only(np.ascontiguousarray(valid, dtype=bool))

    def ray_directions(self) -> np.ndarray:
        """(H, W, 3) float32 unit rays in the camera frame; zero vectors where not ``valid``."""
        return self._cache[0]

    @property
    def valid(self) -> np.ndarray:
        """(H, W) bool: pixels that see the world (False outside a fisheye's image circle)."""
        return self._cache[1]

    def depth_factors(self) -> np.ndarray:
        """(H, W) float32 factors turning ray distance into stored depth (0 where invalid)."""
        if self.depth_is_range:
            return self.valid.astype(np.float32)
        return np.ascontiguousarray(self.ray_directions()[..., 0])

    def __getstate__(self) -> dict[str, Any]:
        # The cached rays are derived data; keep pickles (e.g. to Ray workers) small.
        state = dict(self.__dict__)
        state.pop("_cache", None)
        return state


@dataclass(frozen=True)
class PinholeCamera(CameraModel):
    """An ideal perspective camera with square pixels.

    Attributes:
        width: image width in pixels.
        height: image height in pixels.
        hfov_deg: horizontal field of view in degrees, in (0, 180); the vertical one follows
            from the aspect ratio.
    """

    width: int
    height: int
    hfov_deg: float
    depth_is_range: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _check_size(self, "width")
        _check_size(self, "height")
        _check_angle(self, "hfov_deg", 0.0, 180.0, hi_closed=False)

    @property
    def focal_px(self) -> float:
        """Focal length in pixels: the image edge (not the last pixel centre) is at hfov/2."""
        return (self.width / 2) / math.tan(math.radians(self.hfov_deg) / 2)

    @property
    def vfov_deg(self) -> float:
        """Vertical field of view in degrees, implied by hfov and the aspect ratio."""
        return math.degrees(2 * math.atan((self.height / 2) / self.focal_px))

    def _directions(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = _pixel_offsets(self.width, self.height)
        dirs = np.stack([np.full_like(xs, self.focal_px), -xs, -ys], axis=-1)
        dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
        return dirs, np.ones(xs.shape, dtype=bool)


@dataclass(frozen=True)
class FisheyeCamera(CameraModel):
    """A fisheye lens whose image circle is inscribed in the image's shorter side.

    The angle from the optical axis, theta, maps to a radius in pixels: ``r = f * theta``
    (equidistant) or ``r = f * (theta + k1 theta^3 + k2 theta^5 + k3 theta^7 + k4 theta^9)``
    (Kannala-Brandt, OpenCV's fisheye model), with f chosen so that theta = fov/2 lands on
    the circle's edge. Pixels outside the circle see nothing and are marked invalid.

    Attributes:
        width: image width in pixels.
        height: image height in pixels.
        fov_deg: full field of view across the image circle in degrees, in (0, 360]; above
            180 the lens sees behind its own image plane.
        model: ``"equidistant"`` or ``"kannala_brandt"``.
        k: the four Kannala-Brandt coefficients (ignored by ``"equidistant"``); they must keep
            the radius strictly increasing in theta up to fov/2, or the image would fold.
    """

    width: int
    height: int
    fov_deg: float
    model: str = "equidistant"
    k: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        _check_size(self, "width")
        _check_size(self, "height")
        _check_angle(self, "fov_deg", 0.0, 360.0, hi_closed=True)
        if self.model not in FISHEYE_MODELS:
            from astra_sim.core.errors import UnknownNameError

            raise UnknownNameError("fisheye model", self.model, FISHEYE_MODELS)
        try:
            k = tuple(float(c) for c in self.k)
        except (TypeError, ValueError):
            raise ValueError(f"k must be 4 finite numbers, got {self.k!r}") from None
        if len(k) != 4 or not all(math.isfinite(c) for c in k):
            raise ValueError(f"k must be 4 finite numbers, got {self.k!r}")
        object.__setattr__(self, "k", k)
        theta = np.linspace(0.0, self.theta_max, 4097)
        if np.any(np.diff(self._radius_norm(theta)) <= 0):
            raise ValueError(
                f"k={k} makes the Kannala-Brandt radius non-increasing within "
                f"fov_deg={self.fov_deg:g}; the projection would fold over itself"
            )

    @property
    def theta_max(self) -> float:
        """Half the field of view in radians: the angle seen at the image circle's edge."""
        return math.radians(self.fov_deg) / 2

    @property
    def circle_radius_px(self) -> float:
        return min(self.width, self.height) / 2

    def _radius_norm(self, theta: np.ndarray) -> np.ndarray:
        """Radius over focal length as a function of theta."""
        if self.model == "equidistant":
            return theta
        k1, k2, k3, k4 = self.k
        t2 = theta * theta
        return theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))

    def _directions(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = _pixel_offsets(self.width, self.height)
        r = np.hypot(xs, ys)
        radius = self.circle_radius_px
        valid = r <= radius
        # Invert the monotonic radius function by table lookup: exact enough (the table step
        # is below 1e-3 rad and interpolation is linear) and robust for any valid k.
        table = np.linspace(0.0, self.theta_max, 8193)
        rn = self._radius_norm(table)
        theta = np.interp(r / radius * rn[-1], rn, table)
        sin_t = np.sin(theta)
        with np.errstate(invalid="ignore", divide="ignore"):
            lateral = np.where(r > 0, sin_t / r, 0.0)
        dirs = np.stack([np.cos(theta), -xs * lateral, -ys * lateral], axis=-1)
        return dirs, valid


@dataclass(frozen=True)
class EquirectangularCamera(CameraModel):
    """A full 360 x 180 degree panorama in latitude-longitude layout.

    Column u looks at azimuth ``pi - (u + 0.5) / W * 2 pi`` (the image centre looks forward,
    the left and right edges both look backwards), so columns 0 and W-1 are neighbours across
    the seam and the image is continuous when wrapped. Row v looks at elevation
    ``pi/2 - (v + 0.5) / H * pi``. Every pixel is valid.

    Attributes:
        width: image width in pixels (360 degrees).
        height: image height in pixels (180 degrees).
    """

    width: int
    height: int

    def __post_init__(self) -> None:
        _check_size(self, "width")
        _check_size(self, "height")

    def _directions(self) -> tuple[np.ndarray, np.ndarray]:
        az = np.pi - (np.arange(self.width) + 0.5) / self.width * 2 * np.pi
        el = np.pi / 2 - (np.arange(self.height) + 0.5) / self.height * np.pi
        az, el = np.meshgrid(az, el)
        dirs = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)
        return dirs, np.ones(az.shape, dtype=bool)


Camera = PinholeCamera | FisheyeCamera | EquirectangularCamera
"""Any camera model a rig can carry."""


def __getattr__(name: str) -> Any:
    # Mounts and rigs live in their own module; exposing them here lazily keeps
    # ``from astra_sim.render.cameras import Rig`` working without a circular import.
    if name in ("CameraMount", "Rig", "RIG_NAMES"):
        from astra_sim.render import rig

        return getattr(rig, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
