"""A pinhole camera whose principal point is off the image centre.

``PinholeCamera`` puts the optical axis through the image centre, which is what rendering
needs; a real camera's calibration puts it a pixel or two away. Domain randomization
(``astra_sim.sim.randomization``) renders through this model so a policy meets the
intrinsics error it will meet on a robot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from astra_sim.render.cameras import PinholeCamera, _pixel_offsets


@dataclass(frozen=True)
class OffsetPinholeCamera(PinholeCamera):
    """A ``PinholeCamera`` with its principal point at (``cx_px``, ``cy_px``) from the centre.

    Attributes:
        cx_px: principal point offset to the right, pixels.
        cy_px: principal point offset downwards, pixels.
    """

    cx_px: float = 0.0
    cy_px: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("cx_px", "cy_px"):
            value = getattr(self, name)
            ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
                value, bool
            )
            if not ok or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number of pixels, got {value!r}")
            object.__setattr__(self, name, float(value))

    def _directions(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = _pixel_offsets(self.width, self.height)
        xs, ys = xs - self.cx_px, ys - self.cy_px
        dirs = np.stack([np.full_like(xs, self.focal_px), -xs, -ys], axis=-1)
        dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
        return dirs, np.ones(xs.shape, dtype=bool)
