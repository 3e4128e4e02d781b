"""Command latency and actuation error between the policy's command and the wheels.

A real base executes a command some milliseconds after it was sent, a little faster or
slower than asked (motor gains), and with some jitter. ``ActuatedBody`` puts these in
front of any body backend (kinematic or pybullet): it delays each physics tick's command
by whole ticks, scales it, and adds noise drawn once per control period. Unlike the
sensor errors these change the true motion: that is what they model.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from astra_sim.physics.base import Body, BodyState, check_command


class ActuatedBody:
    """A ``Body`` whose commands arrive late, scaled and noisy.

    Args:
        body: the body that moves (its other attributes are reached through this one).
        latency_ticks: physics ticks between a command and its execution; the robot holds
            still (zero command) for the first ones after a reset, as it stood there.
        gains: executed over commanded (v, w).
        noise_std: std of the (v, w) noise, one draw per control period; a component
            commanded to 0 gets none, so a stopped robot stays stopped.
        ticks_per_period: physics ticks per control period (how often noise is drawn).
        rng: the noise's only source.
    """

    def __init__(
        self,
        body: Body,
        latency_ticks: int,
        gains: tuple[float, float],
        noise_std: tuple[float, float],
        ticks_per_period: int,
        rng: np.random.Generator,
    ) -> None:
        if isinstance(body, ActuatedBody):
            raise ValueError("body is an ActuatedBody already; wrap its inner body")
        if int(latency_ticks) < 0 or int(ticks_per_period) < 1:
            raise ValueError(
                f"latency_ticks must be >= 0 and ticks_per_period >= 1, got "
                f"{latency_ticks} and {ticks_per_period}"
            )
        self.inner = body
        self.latency_ticks = int(latency_ticks)
        self.gains = np.asarray(gains, dtype=np.float64)
        self.noise_std = np.asarray(noise_std, dtype=np.float64)
        self.ticks_per_period = int(ticks_per_period)
        self._rng = rng
        self._queue: deque[np.ndarray] = deque()
        self._tick = 0
        self._noise = np.zeros(2)

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this class lacks (config, state, grid, ...).
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def reset(self, pose: np.ndarray) -> BodyState:
        self._queue = deque(np.zeros(2) for _ in range(self.latency_ticks))
        self._tick = 0
        self._noise = np.zeros(2)
        return self.inner.reset(pose)

    def step(self, command: np.ndarray, dt: float) -> BodyState:
        cmd = check_command(command)
        if self._tick % self.ticks_per_period == 0 and self.noise_std.any():
            self._noise = self.noise_std * self._rng.standard_normal(2)
        self._tick += 1
        if self.latency_ticks:
            self._queue.append(cmd)
            cmd = self._queue.popleft()
        executed = cmd * self.gains + np.where(cmd != 0.0, self._noise, 0.0)
        return self.inner.step(executed, dt)

    def close(self) -> None:
        self.inner.close()
