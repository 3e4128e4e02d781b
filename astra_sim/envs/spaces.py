"""Observation and action spaces of the navigation envs, with explicit dtypes."""

from __future__ import annotations

import string

import numpy as np
from gymnasium import spaces

from astra_sim.physics.base import DiffDriveConfig
from astra_sim.render.rig import Rig

MAX_DEPTH = 100.0
"""Upper bound of the depth space in metres; misses read 0."""
IMU_RANGE = np.array([160.0] * 3 + [35.0] * 3, np.float32)
"""Accelerometer +-16 g (m/s^2) and gyroscope +-2000 deg/s (rad/s): a MEMS IMU's full scale."""
WHEEL_RANGE = 50.0
"""Bound of one wheel-angle increment in radians, far above any reachable wheel speed."""
GOAL_RANGE = 1000.0
INSTRUCTION_LENGTH = 128
INSTRUCTION_CHARSET = string.ascii_letters + string.digits + " .,'-?!"


def sensor_spaces(rig: Rig, imu_samples: int, wheel_samples: int) -> dict[str, spaces.Space]:
    """The keys every env observation has: cameras, IMU and wheel encoders."""
    c, h, w = rig.shape
    return {
        "rgb": spaces.Box(0, 255, (c, h, w, 3), np.uint8),
        "depth": spaces.Box(0.0, MAX_DEPTH, (c, h, w), np.float32),
        "semantic": spaces.Box(0, np.iinfo(np.int32).max, (c, h, w), np.int32),
        "imu": spaces.Box(
            np.tile(-IMU_RANGE, (imu_samples, 1)),
            np.tile(IMU_RANGE, (imu_samples, 1)),
            dtype=np.float32,
        ),
        "wheel": spaces.Box(-WHEEL_RANGE, WHEEL_RANGE, (wheel_samples, 2), np.float32),
    }


def task_spaces(task: str, rig: Rig) -> dict[str, spaces.Space]:
    """The task's own keys: the goal in the robot frame, a goal image, an instruction."""
    if task == "pointnav":
        return {"goal": spaces.Box(-GOAL_RANGE, GOAL_RANGE, (2,), np.float32)}
    if task == "imagenav":
        c, h, w = rig.shape
        return {"goal_image": spaces.Box(0, 255, (c, h, w, 3), np.uint8)}
    if task == "languagenav":
        return {"instruction": spaces.Text(INSTRUCTION_LENGTH, charset=INSTRUCTION_CHARSET)}
    return {}


def action_space(task: str, robot: DiffDriveConfig) -> spaces.Box:
    """(v, w) in m/s and rad/s; the localization task appends the pose estimate (x, y, yaw)."""
    low = [-robot.max_linear, -robot.max_angular]
    high = [robot.max_linear, robot.max_angular]
    if task == "localization":
        low += [-1e4, -1e4, -np.pi]
        high += [1e4, 1e4, np.pi]
    return spaces.Box(np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32)


def clean_instruction(text: str) -> str:
    """An instruction in the Text space's charset and length (unknown characters dropped)."""
    kept = "".join(ch for ch in text if ch in INSTRUCTION_CHARSET)
    return kept[:INSTRUCTION_LENGTH]
