"""The Body protocol and the state every body reports at each physics tick.

Sensors (IMU, wheel encoders) read only ``BodyState``, so they work the same on every
backend; the simulator calls ``step`` once per physics tick (default 200 Hz).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

GRAVITY = 9.80665


@dataclass(frozen=True)
class DiffDriveConfig:
    """A differential-drive base: geometry, limits and motor response.

    Attributes:
        radius: footprint radius in metres (collision and navigability).
        height: body height in metres.
        wheel_radius: metres.
        track_width: distance between the wheel contact points in metres.
        max_linear: |v| limit in m/s.
        max_angular: |w| limit in rad/s.
        max_linear_acc: |dv/dt| limit in m/s^2.
        max_angular_acc: |dw/dt| limit in rad/s^2.
        motor_time_constant: first-order lag of the wheel speeds in seconds (0 = none).
        mass: kilograms (pybullet).

    The IMU's position on the body is part of ``ImuConfig`` (sensors own their mounts).
    """

    radius: float = 0.18
    height: float = 0.4
    wheel_radius: float = 0.05
    track_width: float = 0.3
    max_linear: float = 1.0
    max_angular: float = 2.0
    max_linear_acc: float = 1.0
    max_angular_acc: float = 3.0
    motor_time_constant: float = 0.05
    mass: float = 8.0

    def __post_init__(self) -> None:
        for name in (
            "radius",
            "height",
            "wheel_radius",
            "track_width",
            "max_linear",
            "max_angular",
            "max_linear_acc",
            "max_angular_acc",
            "mass",
        ):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"DiffDriveConfig.{name} must be a positive number, got {value}")
        if not np.isfinite(self.motor_time_constant) or self.motor_time_constant < 0:
            raise ValueError(
                f"DiffDriveConfig.motor_time_constant must be >= 0, got {self.motor_time_constant}"
            )


@dataclass
class BodyState:
    """Ground truth of the base after a physics tick (map frame, z up, SI units).

    Attributes:
        t: simulated time in seconds since reset.
        pose: (x, y, yaw) of the base centre on the floor.
        velocity: (v, w): forward speed in m/s and yaw rate in rad/s.
        accel_body: linear acceleration of the base centre in the body frame (x forward,
            y left, z up), gravity not included, m/s^2.
        ang_vel_body: angular velocity in the body frame, rad/s.
        wheel_angles: cumulative (left, right) wheel rotation in radians.
        wheel_rates: (left, right) wheel angular speed in rad/s.
        collided: True if this tick ended in contact with the scene.
    """

    t: float = 0.0
    pose: np.ndarray = field(default_factory=lambda: np.zeros(3))
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    accel_body: np.ndarray = field(default_factory=lambda: np.zeros(3))
    ang_vel_body: np.ndarray = field(default_factory=lambda: np.zeros(3))
    wheel_angles: np.ndarray = field(default_factory=lambda: np.zeros(2))
    wheel_rates: np.ndarray = field(default_factory=lambda: np.zeros(2))
    collided: bool = False

    def copy(self) -> BodyState:
        return BodyState(
            self.t,
            self.pose.copy(),
            self.velocity.copy(),
            self.accel_body.copy(),
            self.ang_vel_body.copy(),
            self.wheel_angles.copy(),
            self.wheel_rates.copy(),
            self.collided,
        )


@runtime_checkable
class Body(Protocol):
    """A robot base that follows (v, w) commands in a scene, one physics tick at a time."""

    config: DiffDriveConfig
    state: BodyState

    def reset(self, pose: np.ndarray) -> BodyState:
        """Place the base at rest at ``pose`` (x, y, yaw); raise ValueError if it does not fit."""
        ...

    def step(self, command: np.ndarray, dt: float) -> BodyState:
        """Advance one physics tick of ``dt`` seconds under the command (v, w)."""
        ...

    def close(self) -> None:
        """Release backend resources (pybullet client); idempotent."""
        ...


def check_command(command: np.ndarray) -> np.ndarray:
    """(v, w) as float64; NaN or infinite values raise a ValueError naming them."""
    cmd = np.asarray(command, dtype=np.float64).reshape(-1)
    if cmd.shape != (2,):
        raise ValueError(f"command must be (v, w), got shape {np.shape(command)}")
    if not np.isfinite(cmd).all():
        raise ValueError(f"command must be finite, got (v, w) = ({cmd[0]}, {cmd[1]})")
    return cmd
