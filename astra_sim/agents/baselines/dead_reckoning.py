"""Classical dead reckoning from the wheel encoders, alone or with the gyroscope's yaw rate.

The reference every learned odometry head must beat. It uses the calibrated wheel radius
and track width (``DiffDriveConfig``: the values the simulated robot has), integrates
every encoder sample with the exact arc of a differential drive, and, in the wheel + gyro
variant, takes the heading change from the IMU's z rate (the 200 Hz samples of each
encoder interval summed, rectangle rule) while the wheels give the distance: the usual fix
for headings that wheel slip corrupts. The gyro's residual bias is left in (the IMU model
already describes a sensor zeroed at rest at start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astra_sim.physics.base import DiffDriveConfig


@dataclass(frozen=True)
class DeadReckoningConfig:
    """Attributes:
    wheel_radius: metres (calibrated).
    track_width: metres between the wheel contact points (calibrated).
    imu_hz: IMU sample rate.
    use_gyro: heading from the gyro's z rate instead of the wheel difference.
    """

    wheel_radius: float = DiffDriveConfig().wheel_radius
    track_width: float = DiffDriveConfig().track_width
    imu_hz: float = 200.0
    use_gyro: bool = False

    def __post_init__(self) -> None:
        for name in ("wheel_radius", "track_width", "imu_hz"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"DeadReckoningConfig.{name} must be > 0, got {value}")


def arc_step(ds: np.ndarray, dyaw: np.ndarray) -> np.ndarray:
    """Relative poses (..., 3) of arcs of length ``ds`` turning by ``dyaw`` (exact)."""
    half = 0.5 * dyaw
    # chord length = ds * sinc(dyaw / 2), pointing along half the turn.
    chord = ds * np.sinc(half / np.pi)
    return np.stack([chord * np.cos(half), chord * np.sin(half), dyaw], axis=-1)


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SE(2) product a * b of poses (..., 3) (b expressed in a's frame)."""
    c, s = np.cos(a[..., 2]), np.sin(a[..., 2])
    x = a[..., 0] + c * b[..., 0] - s * b[..., 1]
    y = a[..., 1] + s * b[..., 0] + c * b[..., 1]
    return np.stack(
        [x, y, np.arctan2(np.sin(a[..., 2] + b[..., 2]), np.cos(a[..., 2] + b[..., 2]))], -1
    )


def relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The pose of b in a's frame, a^-1 * b, for poses (..., 3)."""
    c, s = np.cos(a[..., 2]), np.sin(a[..., 2])
    dx, dy = b[..., 0] - a[..., 0], b[..., 1] - a[..., 1]
    dyaw = np.arctan2(np.sin(b[..., 2] - a[..., 2]), np.cos(b[..., 2] - a[..., 2]))
    return np.stack([c * dx + s * dy, -s * dx + c * dy, dyaw], -1)


def integrate(start: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Poses (T+1, 3) from a start pose (3,) and relative steps (T, 3)."""
    poses = [np.asarray(start, dtype=np.float64)]
    for step in steps:
        poses.append(compose(poses[-1], step))
    return np.stack(poses)


class DeadReckoning:
    """Per-control-step relative poses from raw wheel (and IMU) samples."""

    def __init__(self, cfg: DeadReckoningConfig | None = None) -> None:
        self.cfg = cfg or DeadReckoningConfig()

    def step_motion(self, wheel: np.ndarray, imu: np.ndarray | None = None) -> np.ndarray:
        """Relative pose (3,) over one control step.

        Args:
            wheel: (M, 2) left/right wheel angle increments, radians.
            imu: (K, 6) samples [ax ay az gx gy gz]; needed when ``use_gyro``. K must be a
                multiple of M (each wheel sample covers K/M IMU samples).
        """
        cfg = self.cfg
        wheel = np.asarray(wheel, dtype=np.float64)
        dl, dr = wheel[:, 0] * cfg.wheel_radius, wheel[:, 1] * cfg.wheel_radius
        ds = 0.5 * (dl + dr)
        if cfg.use_gyro:
            if imu is None:
                raise ValueError("DeadReckoning with use_gyro needs the IMU samples")
            imu = np.asarray(imu, dtype=np.float64)
            k, m = imu.shape[0], wheel.shape[0]
            if k % m:
                raise ValueError(f"IMU samples ({k}) must be a multiple of wheel samples ({m})")
            dyaw = imu[:, 5].reshape(m, k // m).sum(axis=1) / cfg.imu_hz
        else:
            dyaw = (dr - dl) / cfg.track_width
        rel = np.zeros(3)
        for step in arc_step(ds, dyaw):
            rel = compose(rel, step)
        return rel

    def run(self, wheel: np.ndarray, imu: np.ndarray | None = None) -> np.ndarray:
        """Relative poses (T, 3) for steps (T, M, 2) [and (T, K, 6)]."""
        return np.stack(
            [self.step_motion(w, None if imu is None else imu[t]) for t, w in enumerate(wheel)]
        )


__all__ = [
    "DeadReckoning",
    "DeadReckoningConfig",
    "arc_step",
    "compose",
    "integrate",
    "relative",
]
