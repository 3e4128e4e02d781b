"""Sensors whose calibration is off: wheels of another radius and track width than the
robot believes, an IMU with scale factor errors.

Both wrap the simulator's own sensor models and change only what they read: the body
moves exactly as before (the true pose is untouched), the sensors report what a robot
with these errors would. A downstream estimator that converts wheel angles with the
calibrated radius and track width (``DiffDriveConfig``) then sees the systematic odometry
error of a miscalibrated robot, which per-episode calibration error is there to teach.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from astra_sim.physics.base import BodyState
from astra_sim.sensors.imu import Imu, ImuConfig
from astra_sim.sensors.wheel_encoder import WheelEncoder, WheelEncoderConfig


def wheel_calibration_matrix(
    radius_error: tuple[float, float] = (0.0, 0.0), track_width_error: float = 0.0
) -> np.ndarray:
    """(2, 2) map from the wheel angles of the calibrated robot to those of the true one.

    The body integrates its wheel angles with the calibrated radius r0 and track width b0
    (``DiffDriveConfig``).
    The same motion (ds forward, dtheta turned) on wheels of radius ``r0 (1 + e_i)`` and
    track ``b0 (1 + e_b)`` turns wheel i by ``(ds -+ dtheta b / 2) / r_i``; the map is
    linear, so it applies to cumulative angles as well as to increments. With no error it
    is exactly the identity.
    """
    k = 1.0 + float(track_width_error)
    mix = np.array([[1.0 + k, 1.0 - k], [1.0 - k, 1.0 + k]]) / 2.0
    ratio = np.array([1.0 / (1.0 + float(e)) for e in radius_error])
    return ratio[:, None] * mix


class CalibratedWheelEncoder(WheelEncoder):
    """A ``WheelEncoder`` on wheels whose true geometry differs from the calibrated one."""

    def __init__(
        self, config: WheelEncoderConfig, rng: np.random.Generator, matrix: np.ndarray
    ) -> None:
        super().__init__(config, rng)
        self.matrix = np.asarray(matrix, dtype=np.float64)
        if self.matrix.shape != (2, 2) or not np.isfinite(self.matrix).all():
            raise ValueError(f"matrix must be a finite (2, 2) array, got {matrix!r}")

    def _true_wheels(self, state: BodyState) -> BodyState:
        angles = np.asarray(state.wheel_angles, dtype=np.float64)
        return dataclasses.replace(state, wheel_angles=self.matrix @ angles)

    def reset(self, state: BodyState, rng: np.random.Generator | None = None) -> None:
        super().reset(self._true_wheels(state), rng)

    def update(self, state: BodyState) -> np.ndarray | None:
        return super().update(self._true_wheels(state))


def scaled_imu_config(config: ImuConfig, noise_scale: float) -> ImuConfig:
    """``config`` with every noise figure (white noise, bias walk, initial bias) scaled."""
    k = float(noise_scale)
    return dataclasses.replace(
        config,
        accel_noise_density=tuple(k * v for v in config.accel_noise_density),
        gyro_noise_density=tuple(k * v for v in config.gyro_noise_density),
        accel_bias_random_walk=k * config.accel_bias_random_walk,
        gyro_bias_random_walk=k * config.gyro_bias_random_walk,
        accel_bias_init_std=k * config.accel_bias_init_std,
        gyro_bias_init_std=k * config.gyro_bias_init_std,
    )


class CalibratedImu(Imu):
    """An ``Imu`` whose accelerometer and gyroscope read ``1 + error`` times the truth."""

    def __init__(
        self,
        config: ImuConfig,
        rate_hz: float,
        rng: np.random.Generator,
        accel_scale_error: float = 0.0,
        gyro_scale_error: float = 0.0,
    ) -> None:
        super().__init__(config, rate_hz, rng)
        self.scale = np.array(
            [1.0 + float(accel_scale_error)] * 3 + [1.0 + float(gyro_scale_error)] * 3
        )

    def measure(self, state: BodyState) -> np.ndarray:
        sample = super().measure(state)
        return (sample * self.scale).astype(np.float32)
