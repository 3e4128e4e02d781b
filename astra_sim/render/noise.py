"""Sensor noise for rendered images, so policies do not learn from perfect pixels.

Both models draw every random number from the generator passed to ``apply``, so the same
seed gives the same noisy image bit for bit, and a zero noise level returns the input
untouched (no draws, no copy), which keeps noiseless runs exactly noiseless.

``RedwoodDepthNoise`` follows the idea of the Redwood / Kinect-style depth noise used by
habitat (Choi et al., 2015), written here from the published sensor behaviour rather than
from that code: a structured-light sensor matches a speckle pattern over a small window, so
(1) depth is picked up a little off the pixel (a lateral jitter, wider for far surfaces,
which frays object edges), (2) axial noise grows with the square of depth (Nguyen et al.,
2012: sigma = a + b (z - z0)^2), and (3) depth comes from disparity measured in sub-pixel
steps, so it is quantised with steps that also grow with depth^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np


def _check_nonneg(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, bool
        )
        if not ok or math.isnan(value) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        object.__setattr__(obj, name, float(value))


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


@dataclass(frozen=True)
class GaussianNoise:
    """Additive, independent Gaussian noise per pixel and channel on uint8 colour images.

    Attributes:
        sigma: standard deviation in grey levels (0-255 scale); 0 is noiseless.
    """

    sigma: float = 2.0

    def __post_init__(self) -> None:
        _check_nonneg(self, "sigma")
        if math.isinf(self.sigma):
            raise ValueError(f"sigma must be finite, got {self.sigma}")

    @property
    def noiseless(self) -> bool:
        return self.sigma == 0

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``image`` (any shape, uint8) plus noise, rounded and clipped back to uint8."""
        _check_rng(rng)
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            raise ValueError(f"image must be a uint8 array, got {getattr(image, 'dtype', image)}")
        if self.noiseless:
            return image
        noise = rng.standard_normal(image.shape, dtype=np.float32)
        noise *= np.float32(self.sigma)
        noise += image
        np.rint(noise, out=noise)
        return np.clip(noise, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class RedwoodDepthNoise:
    """Kinect-like depth noise: lateral jitter, depth^2 axial noise, disparity quantisation.

    Defaults resemble a first-generation Kinect (7.5 cm baseline, 580 px focal length, 1/8
    pixel disparity steps), whose noise is what the Redwood data sets recorded.

    Attributes:
        scale: multiplies both noise levels (not the quantisation); 0 makes ``apply`` a
            pass-through.
        axial_base: axial noise sigma in metres at ``axial_z0``.
        axial_quadratic: growth of the axial sigma in metres per square metre.
        axial_z0: depth in metres where the axial sigma is smallest.
        lateral_px: sigma of the lateral pixel jitter next to the sensor, pixels.
        lateral_px_per_m: growth of that sigma per metre of depth.
        baseline_focal: baseline times focal length, metre pixels: disparity = this / depth.
        disparity_step: disparity quantum in pixels; 0 turns quantisation off.
        max_depth: readings beyond this many metres are dropped (set to 0).
    """

    scale: float = 1.0
    axial_base: float = 0.0012
    axial_quadratic: float = 0.0019
    axial_z0: float = 0.4
    lateral_px: float = 0.25
    lateral_px_per_m: float = 0.1
    baseline_focal: float = 0.075 * 580.0
    disparity_step: float = 1.0 / 8.0
    max_depth: float = math.inf

    def __post_init__(self) -> None:
        _check_nonneg(self, *(f.name for f in fields(self)))
        for f in fields(self):
            if f.name != "max_depth" and math.isinf(getattr(self, f.name)):
                raise ValueError(f"{f.name} must be finite, got {getattr(self, f.name)}")
        if self.baseline_focal <= 0:
            raise ValueError(f"baseline_focal must be > 0, got {self.baseline_focal}")
        if self.max_depth <= 0:
            raise ValueError(f"max_depth must be > 0, got {self.max_depth}")

    @property
    def noiseless(self) -> bool:
        return self.scale == 0

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Noisy float32 depth in metres for ``image`` of shape (..., H, W); 0 stays 0.

        A pixel with no reading (0) stays 0, and a pixel whose jitter lands on a pixel with
        no reading loses its own, as real sensors drop readings at depth edges.
        """
        _check_rng(rng)
        if not isinstance(image, np.ndarray) or image.ndim < 2:
            raise ValueError(f"image must be a depth array (..., H, W), got {image!r:.80}")
        if image.dtype.kind != "f":
            raise ValueError(f"image must be a float depth array, got dtype {image.dtype}")
        if np.isnan(image).any() or (image < 0).any():
            raise ValueError(
                "image must hold depths >= 0 in metres (0 = no reading), found NaN or < 0"
            )
        if self.noiseless:
            return image
        depth = image.astype(np.float32, copy=False)
        h, w = depth.shape[-2:]
        lead = depth.shape[:-2]
        # (1) Lateral jitter: read the depth a rounded Gaussian offset away, within the image.
        sigma_px = self.scale * (self.lateral_px + self.lateral_px_per_m * depth)
        dr = np.rint(rng.standard_normal(depth.shape, dtype=np.float32) * sigma_px)
        dc = np.rint(rng.standard_normal(depth.shape, dtype=np.float32) * sigma_px)
        rows = np.clip(np.arange(h)[:, None] + dr.astype(np.int64), 0, h - 1)
        cols = np.clip(np.arange(w)[None, :] + dc.astype(np.int64), 0, w - 1)
        flat = depth.reshape(-1, h * w)
        picked = np.take_along_axis(flat, (rows * w + cols).reshape(-1, h * w), axis=1)
        z = picked.reshape(depth.shape)
        # (2) Axial noise growing with depth squared.
        sigma_z = self.scale * (self.axial_base + self.axial_quadratic * (z - self.axial_z0) ** 2)
        noisy = z + rng.standard_normal(depth.shape, dtype=np.float32) * sigma_z
        # (3) Disparity quantisation: depth = bf / (k * step) for an integer k.
        if self.disparity_step > 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                k = np.rint(self.baseline_focal / noisy / self.disparity_step)
                noisy = self.baseline_focal / (k * self.disparity_step)
        keep = (z > 0) & (depth > 0) & np.isfinite(noisy) & (noisy > 0)
        keep &= noisy <= self.max_depth
        out = np.where(keep, noisy, 0.0).astype(np.float32)
        return out.reshape((*lead, h, w))
