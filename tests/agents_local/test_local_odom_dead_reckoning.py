"""Dead reckoning: exact on ideal wheel and gyro samples; SE(2) helpers are consistent."""

from __future__ import annotations

import numpy as np
import pytest

from astra_sim.agents.baselines.dead_reckoning import (
    DeadReckoning,
    DeadReckoningConfig,
    compose,
    integrate,
    relative,
)
from astra_sim.physics.base import DiffDriveConfig


def arc_samples(v: float, w: float, steps: int, r: float = 0.05, b: float = 0.3):
    """Ideal wheel increments (steps, 10, 2) and IMU (steps, 20, 6) of a constant (v, w)."""
    wheel = np.empty((steps, 10, 2))
    wheel[..., 0] = (v - w * b / 2) * 0.01 / r
    wheel[..., 1] = (v + w * b / 2) * 0.01 / r
    imu = np.zeros((steps, 20, 6))
    imu[..., 5] = w
    return wheel, imu


def true_arc(v: float, w: float, t: float) -> np.ndarray:
    if abs(w) < 1e-12:
        return np.array([v * t, 0.0, 0.0])
    return np.array([v / w * np.sin(w * t), v / w * (1 - np.cos(w * t)), w * t])


def test_defaults_are_the_robot_calibration():
    cfg = DeadReckoningConfig()
    robot = DiffDriveConfig()
    assert (cfg.wheel_radius, cfg.track_width) == (robot.wheel_radius, robot.track_width)
    with pytest.raises(ValueError, match="track_width"):
        DeadReckoningConfig(track_width=0.0)


@pytest.mark.parametrize("use_gyro", [False, True])
@pytest.mark.parametrize("v,w", [(0.5, 0.0), (0.4, 0.8), (0.0, -1.0)])
def test_integration_is_exact_on_arcs(use_gyro, v, w):
    wheel, imu = arc_samples(v, w, 30)
    steps = DeadReckoning(DeadReckoningConfig(use_gyro=use_gyro)).run(wheel, imu)
    poses = integrate(np.zeros(3), steps)
    end = true_arc(v, w, 3.0)
    assert np.allclose(poses[-1, :2], end[:2], atol=1e-9)
    assert np.isclose(np.angle(np.exp(1j * (poses[-1, 2] - end[2]))), 0.0, atol=1e-9)


def test_gyro_variant_needs_imu():
    wheel, _ = arc_samples(0.3, 0.1, 1)
    with pytest.raises(ValueError, match="IMU"):
        DeadReckoning(DeadReckoningConfig(use_gyro=True)).step_motion(wheel[0])


def test_relative_inverts_compose():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 3))
    b = rng.normal(size=(50, 3))
    back = compose(a, relative(a, b))
    assert np.allclose(back[:, :2], b[:, :2])
    assert np.allclose(np.exp(1j * back[:, 2]), np.exp(1j * b[:, 2]))
