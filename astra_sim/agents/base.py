"""The Agent protocol every closed-loop driver implements (expert, baselines, Astra).

It lives with the agents, not with the Ray code that runs them: ``distributed/`` imports
it from here, so the data flows one way (agents know nothing of where they run).

A worker builds its agent once and reuses it for every episode; ``reset`` hands it the
episode's own generator, so what it draws depends on the episode alone and never on which
worker ran which episodes before.

Interface: ``wrap(env)`` (the env the agent acts in, e.g. the SB3 view), ``reset(env, obs,
info, rng)``, ``act(obs, info) -> action``, then ``stop`` (ask the env to end the episode)
and ``label`` (the expert's own command for this step, or None).

An agent that sets ``sensors_only = True`` is run behind ``envs.sensors_only.SensorsOnly``:
its ``env`` is the robot's view and its ``info`` has the ground truth stripped, and
``oracles`` names the ground truth it may still read (attribution rows only).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class Agent:
    """Base: acts in the env as given, never asks to stop, has no expert label."""

    stop = False
    label: np.ndarray | None = None
    sensors_only = False
    oracles: frozenset[str] = frozenset()

    def __init__(self, config: Any = None):
        self.config = config

    def wrap(self, env: gym.Env) -> gym.Env:
        return env

    def reset(self, env: gym.Env, obs: Any, info: dict[str, Any], rng: np.random.Generator):
        self.env, self.rng, self.stop, self.label = env, rng, False, None

    def act(self, obs: Any, info: dict[str, Any]) -> Any:
        raise NotImplementedError
