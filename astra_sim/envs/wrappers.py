"""Wrappers: discrete actions, an SB3-friendly observation, normalised observations.

The base envs speak physical units and return one tensor per sensor, which is what a
robotics user wants; RL libraries want a small discrete action set, or one image plus one
vector. These wrappers give them that without changing what the simulator does.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from astra_sim.envs.spaces import IMU_RANGE, MAX_DEPTH

INSTRUCTION_DIMS = 32
VECTOR_RANGE = 1e3


class DiscreteActions(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Discrete(4): 0 stop, 1 forward ``forward`` m, 2 turn left, 3 turn right ``turn_deg``.

    One discrete action runs several control periods of the continuous env: a closed loop
    on the body's pose drives (or turns) with a speed profile that brakes within the
    acceleration limit, until the move is done (to a centimetre or half a degree), a
    collision stops it, or ``max_steps`` periods have passed. Rewards are summed and the
    last observation returned, so its ``imu`` and ``wheel`` keys cover only the last
    period. ``stop`` ends the episode, successful or not, as in habitat's discrete tasks.
    """

    STOP, FORWARD, LEFT, RIGHT = range(4)

    def __init__(
        self,
        env: gym.Env,
        forward: float = 0.25,
        turn_deg: float = 15.0,
        speed: float = 0.5,
        turn_rate: float = 1.0,
        max_steps: int = 30,
    ):
        gym.utils.RecordConstructorArgs.__init__(
            self,
            forward=forward,
            turn_deg=turn_deg,
            speed=speed,
            turn_rate=turn_rate,
            max_steps=max_steps,
        )
        super().__init__(env)
        if min(forward, turn_deg, speed, turn_rate, max_steps) <= 0:
            raise ValueError("forward, turn_deg, speed, turn_rate and max_steps must be > 0")
        self.forward, self.turn = float(forward), math.radians(turn_deg)
        self.speed, self.turn_rate, self.max_steps = float(speed), float(turn_rate), max_steps
        robot = env.unwrapped.sim_config.robot
        # Brake early enough for the acceleration limit, with margin for the motor lag.
        self.lin_acc, self.ang_acc = 0.7 * robot.max_linear_acc, 0.7 * robot.max_angular_acc
        self.action_space = spaces.Discrete(4)
        self._pose = np.zeros(3)

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._pose = info["pose"].copy()
        return obs, info

    def step(self, action: Any):
        if not self.action_space.contains(action):
            raise ValueError(
                f"action must be one of 0..3 (stop, forward, left, right), got {action!r}"
            )
        action = int(action)
        if action == self.STOP:
            self.env.unwrapped.request_stop()
            return self._step(0.0, 0.0)
        start, total = self._pose.copy(), 0.0
        for _ in range(self.max_steps):
            v, w = self._profile(action, start)
            result = self._step(v, w)
            total += float(result[1])
            if result[2] or result[3] or result[4]["collided"] or (v, w) == (0.0, 0.0):
                break
        return result[0], total, result[2], result[3], result[4]

    def _profile(self, action: int, start: np.ndarray) -> tuple[float, float]:
        """Speed for the rest of the move: braking distance within the acceleration limit."""
        if action == self.FORWARD:
            left = self.forward - float(np.linalg.norm(self._pose[:2] - start[:2]))
            if left < 0.01:
                return 0.0, 0.0
            return min(self.speed, self._stoppable(left, self.lin_acc)), 0.0
        sign = 1.0 if action == self.LEFT else -1.0
        left = self.turn - sign * _wrap(self._pose[2] - start[2])
        if left < math.radians(0.5):
            return 0.0, 0.0
        return 0.0, sign * min(self.turn_rate, self._stoppable(left, self.ang_acc))

    def _stoppable(self, left: float, acc: float) -> float:
        """The speed r held for one period that still stops in ``left``: r dt + r^2/2a = left."""
        dt = 1.0 / self.env.unwrapped.sim_config.control_hz
        return -acc * dt + math.sqrt((acc * dt) ** 2 + 2 * acc * left)

    def _step(self, v: float, w: float) -> tuple:
        command = np.zeros(self.env.action_space.shape, np.float32)
        command[:2] = (v, w)
        result = self.env.step(command)
        self._pose = result[4]["pose"].copy()
        return result


def _wrap(angle: float) -> float:
    return float((angle + math.pi) % (2 * math.pi) - math.pi)


def instruction_embedding(text: str, dims: int = INSTRUCTION_DIMS) -> np.ndarray:
    """A fixed bag-of-words vector: each lower-cased word adds 1 at a hashed index.

    Uses SHA-1 rather than ``hash()`` so the vector is the same in every process.
    """
    vec = np.zeros(dims, np.float32)
    for word in text.lower().replace(".", " ").replace(",", " ").split():
        index = int.from_bytes(hashlib.sha1(word.encode()).digest()[:4], "little") % dims
        vec[index] += 1.0
    return vec


class SB3View(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """One channel-first panorama image and one float vector, the shapes SB3 handles.

    ``image``: the cameras' RGB side by side, (3, H, C*W) uint8 (ImageNav: the goal
    panorama stacked as 3 more channels). ``vector``: the PointNav goal as (distance, cos,
    sin of its bearing), the IMU mean over the period (scaled by full scale), the summed
    wheel increments, and for LanguageNav a hashed bag-of-words of the instruction.
    Depth and semantics are left out: a policy that wants them wraps the env itself.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)
        src = env.observation_space
        c, h, w, _ = src["rgb"].shape
        self.has_goal, self.has_goal_image = "goal" in src.spaces, "goal_image" in src.spaces
        self.has_instruction = "instruction" in src.spaces
        channels = 6 if self.has_goal_image else 3
        size = 3 * self.has_goal + 6 + 2 + INSTRUCTION_DIMS * self.has_instruction
        self.observation_space = spaces.Dict(
            {
                "image": spaces.Box(0, 255, (channels, h, c * w), np.uint8),
                "vector": spaces.Box(-VECTOR_RANGE, VECTOR_RANGE, (size,), np.float32),
            }
        )

    @staticmethod
    def _panorama(rgb: np.ndarray) -> np.ndarray:
        return np.concatenate(list(rgb), axis=1).transpose(2, 0, 1)

    def observation(self, obs: dict[str, Any]) -> dict[str, np.ndarray]:
        image = self._panorama(obs["rgb"])
        if self.has_goal_image:
            image = np.concatenate([image, self._panorama(obs["goal_image"])], axis=0)
        parts = []
        if self.has_goal:
            gx, gy = (float(v) for v in obs["goal"])
            dist, bearing = math.hypot(gx, gy), math.atan2(gy, gx)
            parts.append([dist, math.cos(bearing), math.sin(bearing)])
        parts.append(obs["imu"].mean(axis=0) / IMU_RANGE)
        parts.append(obs["wheel"].sum(axis=0))
        if self.has_instruction:
            parts.append(instruction_embedding(obs["instruction"]))
        vector = np.concatenate([np.asarray(p, np.float32).ravel() for p in parts])
        return {"image": np.ascontiguousarray(image), "vector": vector}


class NormalizeObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """RGB in [0, 1], depth as a fraction of the depth range, IMU as a fraction of full scale."""

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)
        src = env.observation_space
        new = dict(src.spaces)
        new["rgb"] = spaces.Box(0.0, 1.0, src["rgb"].shape, np.float32)
        new["depth"] = spaces.Box(0.0, 1.0, src["depth"].shape, np.float32)
        new["imu"] = spaces.Box(-1.0, 1.0, src["imu"].shape, np.float32)
        if "goal_image" in src.spaces:
            new["goal_image"] = spaces.Box(0.0, 1.0, src["goal_image"].shape, np.float32)
        self.observation_space = spaces.Dict(new)

    def observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        out = dict(obs)
        out["rgb"] = obs["rgb"].astype(np.float32) / 255.0
        out["depth"] = obs["depth"] / np.float32(MAX_DEPTH)
        out["imu"] = (obs["imu"] / IMU_RANGE).astype(np.float32)
        if "goal_image" in obs:
            out["goal_image"] = obs["goal_image"].astype(np.float32) / 255.0
        return out
