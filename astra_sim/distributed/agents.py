"""Agents that drive closed-loop episodes: the expert (with noise and recovery), a random
agent, and SB3 or RLlib checkpoints, behind the interface of ``astra_sim.agents.base.Agent``
(re-exported here), and ``make_agent``, which builds the one an ``AgentConfig`` names.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from astra_sim.agents.base import Agent
from astra_sim.agents.expert import ExpertAgent
from astra_sim.core.errors import UnknownNameError
from astra_sim.distributed.config import AGENT_ALIASES, AGENTS, AgentConfig

SB3_ALGOS = ("a2c", "ddpg", "dqn", "ppo", "sac", "td3")


class RandomAgent(Agent):
    """Uniform actions from the episode's generator: the floor of every table."""

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        space = self.env.action_space
        return self.rng.uniform(space.low, space.high).astype(np.float32)


class NoisyExpert(Agent):
    """The geodesic expert; optionally noisy and pushed off course, then recovering.

    The executed action is the expert's command plus Gaussian noise, or during a push a
    uniform random command; ``label`` always holds the expert's own command, which is
    what a policy should learn to output from the states the pushes lead to (DART).
    """

    def __init__(self, config: AgentConfig):
        self.config = config
        # Planning grids are costly: one expert per scene, kept with the scene itself, so
        # the id used as key cannot be reused by another scene while the entry lives.
        self._experts: dict[int, tuple[Any, ExpertAgent]] = {}

    def reset(self, env: gym.Env, obs: Any, info: dict[str, Any], rng: np.random.Generator):
        super().reset(env, obs, info, rng)
        base = env.unwrapped
        scene = base.sim.scene
        if id(scene) not in self._experts:
            if len(self._experts) >= 8:
                self._experts.clear()
            self._experts[id(scene)] = (scene, ExpertAgent(scene))
        self.expert = self._experts[id(scene)][1]
        self.expert.reset(info["pose"], base.episode.goal.positions)
        self._push = 0

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        cfg, space = self.config, self.env.action_space
        command = self.expert.act(info["pose"], info["collided"])
        self.label = command.astype(np.float32)
        if self._push == 0 and cfg.recovery_prob > 0 and self.rng.random() < cfg.recovery_prob:
            self._push = cfg.recovery_steps
        if self._push > 0:
            self._push -= 1
            return self.rng.uniform(space.low, space.high).astype(np.float32)
        self.stop = self.expert.done
        if max(cfg.action_noise) > 0 and not self.stop:
            command = command + self.rng.normal(0.0, cfg.action_noise)
        return np.clip(command, space.low, space.high).astype(np.float32)


class SB3Agent(Agent):
    """A Stable-Baselines3 checkpoint acting deterministically in the SB3 view."""

    def __init__(self, config: AgentConfig):
        import stable_baselines3

        if config.algo not in SB3_ALGOS:
            raise UnknownNameError("SB3 algorithm", config.algo, SB3_ALGOS)
        path = Path(config.checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"SB3 checkpoint {path} does not exist")
        cls = getattr(stable_baselines3, config.algo.upper())
        self.model = cls.load(path, device="cpu")
        self.discrete = config.discrete

    def wrap(self, env: gym.Env) -> gym.Env:
        return _view(env, self.discrete)

    def act(self, obs: Any, info: dict[str, Any]) -> Any:
        action, _ = self.model.predict(obs, deterministic=True)
        return int(action) if self.discrete else np.asarray(action, np.float32)


class RLlibAgent(Agent):
    """An RLlib (new API stack) module checkpoint: the mean action, or the likeliest one.

    ``checkpoint`` is an algorithm checkpoint (``algo.save()``) or the module folder
    inside it; continuous actions are unsquashed from [-1, 1] to the action bounds, as
    RLlib's env runners do by default.
    """

    def __init__(self, config: AgentConfig):
        import torch
        from ray.rllib.core.rl_module.rl_module import RLModule

        path = Path(config.checkpoint)
        if not path.is_dir():
            raise FileNotFoundError(f"RLlib checkpoint folder {path} does not exist")
        module_dir = path / "learner_group" / "learner" / "rl_module" / "default_policy"
        if not module_dir.is_dir():
            module_dir = path
        self.module = RLModule.from_checkpoint(str(module_dir))
        self.discrete = config.discrete
        self._torch = torch

    def wrap(self, env: gym.Env) -> gym.Env:
        return _view(env, self.discrete)

    def act(self, obs: Any, info: dict[str, Any]) -> Any:
        from ray.rllib.core.columns import Columns

        torch = self._torch
        batch = {k: torch.from_numpy(np.asarray(v)[None]) for k, v in obs.items()}
        with torch.no_grad():
            out = self.module.forward_inference({Columns.OBS: batch})
        inputs = out[Columns.ACTION_DIST_INPUTS][0].numpy()
        if self.discrete:
            return int(np.argmax(inputs))
        space = self.env.action_space
        mean = np.clip(inputs[: len(inputs) // 2], -1.0, 1.0)
        return (space.low + (mean + 1.0) * 0.5 * (space.high - space.low)).astype(np.float32)


def _view(env: gym.Env, discrete: bool) -> gym.Env:
    from astra_sim.envs.wrappers import DiscreteActions, SB3View

    return SB3View(DiscreteActions(env) if discrete else env)


def make_agent(config: AgentConfig) -> Agent:
    """The agent ``config.name`` names (checkpoints are loaded here, once per worker)."""
    if config.name == "expert":
        return NoisyExpert(config)
    if config.name == "random":
        return RandomAgent(config)
    if config.name == "sb3":
        return SB3Agent(config)
    if config.name == "rllib":
        return RLlibAgent(config)
    if config.name in AGENT_ALIASES:
        return _import_agent(dataclasses.replace(config, name=AGENT_ALIASES[config.name]))
    if ":" in config.name:
        return _import_agent(config)
    raise UnknownNameError("agent", config.name, AGENTS)


def _import_agent(config: AgentConfig) -> Agent:
    """An agent class named ``package.module:Class``, built with ``config``."""
    import importlib

    module_name, _, class_name = config.name.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"agent {config.name!r} cannot be imported: {e}") from e
    agent = cls(config)
    missing = [m for m in ("wrap", "reset", "act") if not callable(getattr(agent, m, None))]
    if missing:
        raise ValueError(f"agent {config.name!r} lacks the agent method(s) {', '.join(missing)}")
    return agent
