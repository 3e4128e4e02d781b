"""Wrappers: discrete actions, an SB3-friendly observation, normalised observations.

The base envs speak physical units and return one array per sensor, which is what a
robotics user wants; RL libraries want a small discrete action set, or one image plus one
vector. These wrappers give them that without changing what the simulator does.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from astra_sim.envs.sensors_only import SensorsOnly  # noqa: F401
from astra_sim.envs.spaces import GOAL_RANGE, IMU_RANGE, INSTRUCTION_LENGTH, MAX_DEPTH, WHEEL_RANGE
from astra_sim.physics.kinematic import WheelShaper

INSTRUCTION_DIMS = 32
"""Size of the hashed bag-of-words of a LanguageNav instruction in ``SB3View``."""
_SETTLED = 1e-3  # m/s or rad/s below which a discrete move counts as finished
_NO_PROGRESS = 1e-3  # m or rad per period below which a colliding move counts as blocked

StepResult = tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]


class DiscreteActions(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Discrete(4): 0 stop, 1 forward ``forward`` m, 2 turn left, 3 turn right ``turn_deg``.

    One discrete action spans several control periods of the continuous env, as a motor
    controller would execute it: each period the wrapper picks the fastest command (up to
    ``speed`` or ``turn_rate``) after which the robot can still brake to rest within the
    rest of the move, predicted with the body's own ``WheelShaper`` (acceleration limits
    and motor lag), and closes the loop on the true pose in ``info`` (the wrapper plays
    the robot's motion controller, part of the env, so ground truth is fair here; the
    agent still sees only the observation). The move ends once the robot is at rest at
    the target (within a millimetre and a tenth of a degree on both bodies), when a
    collision blocks it (turning in place never is), after ``max_steps`` periods, or when
    the episode ends; each move thus starts from rest. Rewards are summed; the last
    observation and info are returned, so the ``imu`` and ``wheel`` keys cover only the
    last period, and ``info["control_steps"]`` says how many periods the action took
    (about 12 for a forward move and 9 for a turn with the defaults). The time limit of
    ``gymnasium.make`` still counts control periods: pass ``max_episode_steps`` for more.
    ``stop`` ends the episode, successful or not, as in habitat.

    Args:
        env: a navigation env whose action is (v, w); the localization task's action also
            carries a pose estimate, which a discrete action cannot give.
        forward: distance of one forward move in metres.
        turn_deg: angle of one turn in degrees.
        speed: top linear speed of a forward move in m/s (moderate, to limit motion blur
            and braking distance).
        turn_rate: top angular speed of a turn in rad/s.
        max_steps: most control periods one action may take (a bound for odd bodies).
    """

    STOP, FORWARD, LEFT, RIGHT = range(4)

    def __init__(
        self,
        env: gym.Env,
        forward: float = 0.25,
        turn_deg: float = 15.0,
        speed: float = 0.5,
        turn_rate: float = 1.0,
        max_steps: int = 40,
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
        if env.action_space.shape != (2,):
            raise ValueError(
                f"DiscreteActions needs an env whose action is (v, w), got action shape "
                f"{env.action_space.shape} (the localization task also asks for a pose estimate)"
            )
        if not min(forward, turn_deg, speed, turn_rate, max_steps) > 0:
            raise ValueError("forward, turn_deg, speed, turn_rate and max_steps must be > 0")
        base = env.unwrapped
        robot = base.sim_config.robot
        self.forward, self.turn = float(forward), math.radians(turn_deg)
        self.speed = min(float(speed), robot.max_linear)
        self.turn_rate = min(float(turn_rate), robot.max_angular)
        self.max_steps = int(max_steps)
        self.action_space = spaces.Discrete(4)
        self._dt = 1.0 / base.sim_config.control_hz
        self._shaper = WheelShaper(robot)  # a model of the motors, synced to the body
        self._pose, self._velocity = np.zeros(3), np.zeros(2)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env and the motor model (the body starts at rest)."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._shaper.reset()
        self._pose, self._velocity = info["pose"].copy(), info["velocity"].copy()
        return obs, info

    def step(self, action: Any) -> StepResult:
        """Execute one discrete action as a sequence of (v, w) control periods.

        Raises:
            ValueError: if ``action`` is not one of 0..3.
        """
        if not self.action_space.contains(action):
            raise ValueError(
                f"action must be one of 0..3 (stop, forward, left, right), got {action!r}"
            )
        action = int(action)
        if action == self.STOP:
            self.env.unwrapped.request_stop()
            obs, reward, terminated, truncated, info = self._step(0, 0.0)
            return obs, reward, terminated, truncated, {**info, "control_steps": 1}
        axis = 0 if action == self.FORWARD else 1
        sign = -1.0 if action == self.RIGHT else 1.0
        target = self.forward if axis == 0 else self.turn
        limit = self.speed if axis == 0 else self.turn_rate
        start, total, steps = self._pose.copy(), 0.0, 0
        done = 0.0
        command = self._command(axis, sign, target, limit)
        while steps < self.max_steps:
            obs, reward, terminated, truncated, info = self._step(axis, sign * command)
            total, steps = total + float(reward), steps + 1
            before, done = done, self._progress(axis, sign, start)
            command = self._command(axis, sign, target - done, limit)
            blocked = info["collided"] and done - before < _NO_PROGRESS
            finished = command == 0.0 and abs(self._velocity[axis]) < _SETTLED
            if terminated or truncated or blocked or finished:
                break
        return obs, total, terminated, truncated, {**info, "control_steps": steps}

    # ------------------------------------------------------------------ helpers
    def _progress(self, axis: int, sign: float, start: np.ndarray) -> float:
        """Distance driven along the start heading, or angle turned the asked way."""
        if axis == 0:
            heading = np.array([math.cos(start[2]), math.sin(start[2])])
            return float((self._pose[:2] - start[:2]) @ heading)
        return sign * math.remainder(self._pose[2] - start[2], math.tau)

    def _travel(self, axis: int, sign: float, command: float) -> float:
        """How far the motors carry the robot for ``command`` this period, then braking."""
        shaper = copy.copy(self._shaper)
        vw = [0.0, 0.0]
        vw[axis] = sign * command
        now = shaper.step(np.array(vw), self._dt)[axis] * self._dt
        coast = 5.0  # seconds: far longer than any stop from a moderate speed
        return sign * (now + shaper.step(np.zeros(2), coast)[axis] * coast)

    def _command(self, axis: int, sign: float, remaining: float, limit: float) -> float:
        """The fastest speed (<= limit) from which the robot still stops within ``remaining``.

        The travel grows with the command, so a bisection finds it; 0 when even braking now
        reaches the target.
        """
        if self._travel(axis, sign, 0.0) >= remaining:
            return 0.0
        if self._travel(axis, sign, limit) <= remaining:
            return limit
        low, high = 0.0, limit
        for _ in range(20):
            mid = 0.5 * (low + high)
            low, high = (mid, high) if self._travel(axis, sign, mid) <= remaining else (low, mid)
        return low

    def _step(self, axis: int, value: float) -> StepResult:
        """One control period with ``value`` on ``axis`` (0: v, 1: w); syncs pose and motors."""
        command = np.zeros(2, np.float32)
        command[axis] = value
        self._shaper.step(command.astype(np.float64), self._dt)
        result = self.env.step(command)
        info = result[4]
        self._pose, self._velocity = info["pose"].copy(), info["velocity"].copy()
        if info["collided"] and not self._velocity.any():
            self._shaper.reset()  # a bumper stop turned the motors off
        self._shaper.vw = (float(self._velocity[0]), float(self._velocity[1]))
        return result


def instruction_embedding(text: str, dims: int = INSTRUCTION_DIMS) -> np.ndarray:
    """A bag-of-words vector: each lower-cased word adds 1 at a hashed index.

    SHA-1 rather than ``hash()``, which is salted per process: the vector must be the same
    in every Ray worker and every run.
    """
    vec = np.zeros(dims, np.float32)
    for word in re.findall(r"[a-z0-9']+", text.lower()):
        vec[int.from_bytes(hashlib.sha1(word.encode()).digest()[:4], "little") % dims] += 1.0
    return vec


class SB3View(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """One channel-first panorama and one float vector: the observation SB3 and RLlib encode.

    SB3 treats only 3-D uint8 boxes as images, so the cameras' RGB are tiled side by side
    into ``image`` (3, H, C*W) uint8; for ImageNav the goal panorama is stacked as 3 more
    channels. ``vector`` (float32) holds the PointNav goal as (distance, cos, sin of its
    bearing) when there is one, the IMU mean over the period as a fraction of full scale
    (6), the summed wheel increments of the period (2), and for LanguageNav a hashed
    bag-of-words of the instruction (``INSTRUCTION_DIMS``). Depth and semantics are
    dropped: they would double the CNN's input for little gain on these tasks; a policy
    that wants them wraps the base env itself. SB3's default CNN needs images of at least
    36x36 pixels, so use cameras of that size or more.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)
        src = env.observation_space
        c, h, w, _ = src["rgb"].shape
        self.has_goal, self.has_goal_image = "goal" in src.spaces, "goal_image" in src.spaces
        self.has_instruction = "instruction" in src.spaces
        m = src["wheel"].shape[0]
        low, high = [], []
        if self.has_goal:
            low += [0.0, -1.0, -1.0]
            high += [GOAL_RANGE * math.sqrt(2.0), 1.0, 1.0]
        low += [-1.0] * 6 + [-WHEEL_RANGE * m] * 2
        high += [1.0] * 6 + [WHEEL_RANGE * m] * 2
        if self.has_instruction:
            low += [0.0] * INSTRUCTION_DIMS
            high += [float(INSTRUCTION_LENGTH)] * INSTRUCTION_DIMS
        channels = 6 if self.has_goal_image else 3
        self.observation_space = spaces.Dict(
            {
                "image": spaces.Box(0, 255, (channels, h, c * w), np.uint8),
                "vector": spaces.Box(np.array(low, np.float32), np.array(high, np.float32)),
            }
        )

    @staticmethod
    def panorama(rgb: np.ndarray) -> np.ndarray:
        """(C, H, W, 3) camera images -> (3, H, C*W), cameras left to right in rig order."""
        return np.concatenate(list(rgb), axis=1).transpose(2, 0, 1)

    def observation(self, observation: dict[str, Any]) -> dict[str, np.ndarray]:
        """The base env's observation in this view (see the class docstring)."""
        image = self.panorama(observation["rgb"])
        if self.has_goal_image:
            image = np.concatenate([image, self.panorama(observation["goal_image"])], axis=0)
        parts = []
        if self.has_goal:
            gx, gy = (float(v) for v in observation["goal"])
            bearing = math.atan2(gy, gx)
            parts.append([math.hypot(gx, gy), math.cos(bearing), math.sin(bearing)])
        parts.append(observation["imu"].mean(axis=0) / IMU_RANGE)
        parts.append(observation["wheel"].sum(axis=0))
        if self.has_instruction:
            parts.append(instruction_embedding(observation["instruction"]))
        vector = np.concatenate([np.asarray(p, np.float32).ravel() for p in parts])
        return {"image": np.ascontiguousarray(image), "vector": vector}


class NormalizeObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """RGB in [0, 1], depth as a fraction of ``MAX_DEPTH``, IMU as a fraction of full scale.

    Fixed physical scales rather than running statistics (gymnasium's own
    ``NormalizeObservation``): the same input gives the same output in every worker and
    every run, and the bounds of the space stay exact. Other keys pass through unchanged.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)
        src = env.observation_space
        new = dict(src.spaces)
        for key in ("rgb", "depth", "goal_image"):
            if key in src.spaces:
                new[key] = spaces.Box(0.0, 1.0, src[key].shape, np.float32)
        new["imu"] = spaces.Box(-1.0, 1.0, src["imu"].shape, np.float32)
        self.observation_space = spaces.Dict(new)

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        """Scaled copies of the image, depth and IMU arrays; the others as they were."""
        out = dict(observation)
        out["rgb"] = observation["rgb"].astype(np.float32) / np.float32(255.0)
        out["depth"] = (observation["depth"] / np.float32(MAX_DEPTH)).astype(np.float32)
        out["imu"] = (observation["imu"] / IMU_RANGE).astype(np.float32)
        if "goal_image" in observation:
            out["goal_image"] = observation["goal_image"].astype(np.float32) / np.float32(255.0)
        return out
