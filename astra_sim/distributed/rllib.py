"""RLlib PPO on the AstraSim envs: env registration and a CNN + MLP ``TorchRLModule``.

RLlib's default model catalog cannot encode a Dict observation that holds images, so the
envs are seen through ``SB3View`` (one channel-first uint8 panorama and one float vector)
and encoded by ``PanoramaModule``: a small CNN over the panorama and an MLP over the
vector, shared by the policy head and the value head (RLlib's new API stack). The same
view serves SB3, so the two libraries train on the same inputs.

Usage::

    import ray
    from astra_sim.distributed.rllib import ppo_config

    ray.init()
    algo = ppo_config(env_config={"scene": "office"}, num_env_runners=8).build_algo()
    for _ in range(100):
        result = algo.train()
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import (
    TorchCategorical,
    TorchDiagGaussian,
)
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.tune.registry import register_env
from torch import nn

RLLIB_ENV = "astra_sim_sb3view"
"""The name ``ppo_config`` registers ``env_creator`` under with ``tune.register_env``."""


def env_creator(config: dict[str, Any]) -> gym.Env:
    """An AstraSim env in the SB3 view, built in each env runner from its ``env_config``.

    Keys: ``env_id`` (default ``AstraSim/PointNav-v0``), ``discrete`` (wrap in
    ``DiscreteActions`` first, default False); the rest are the env's constructor kwargs.
    ``astra_sim`` is imported here, in the worker, which registers the ids there.
    """
    import astra_sim  # noqa: F401
    from astra_sim.envs.wrappers import DiscreteActions, SB3View

    kwargs = dict(config)  # RLlib passes an EnvContext: keep only the plain keys
    env_id = kwargs.pop("env_id", "AstraSim/PointNav-v0")
    discrete = bool(kwargs.pop("discrete", False))
    env = gym.make(env_id, **kwargs)
    return SB3View(DiscreteActions(env) if discrete else env)


class PanoramaModule(TorchRLModule, ValueFunctionAPI):
    """CNN over the uint8 panorama + MLP over the vector -> a policy and a value.

    The CNN ends in adaptive pooling, so one module fits any rig's panorama size. A Box
    action gets a diagonal Gaussian (means and log-stds from one head; RLlib scales its
    samples to the action bounds), a Discrete action a categorical. ``model_config``
    keys: ``hidden`` (width of the shared layer, default 128).
    """

    def setup(self) -> None:
        """Build the encoder and heads from the observation and action spaces."""
        image = self.observation_space["image"]
        vector = self.observation_space["vector"]
        hidden = int(self.model_config.get("hidden", 128))
        self._cnn = nn.Sequential(
            nn.Conv2d(image.shape[0], 16, 5, stride=2),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((2, 4)),
            nn.Flatten(),
        )
        self._mlp = nn.Sequential(nn.Linear(vector.shape[0], 64), nn.ReLU())
        self._trunk = nn.Sequential(nn.Linear(32 * 2 * 4 + 64, hidden), nn.ReLU())
        if isinstance(self.action_space, gym.spaces.Discrete):
            self.action_dist_cls, outputs = TorchCategorical, int(self.action_space.n)
        else:
            self.action_dist_cls = TorchDiagGaussian
            outputs = 2 * int(np.prod(self.action_space.shape))
        self._pi = nn.Linear(hidden, outputs)
        self._vf = nn.Linear(hidden, 1)
        # Small initial policy outputs: near-uniform actions and unit std to start with.
        nn.init.normal_(self._pi.weight, std=0.01)
        nn.init.zeros_(self._pi.bias)

    def _embed(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        image = obs["image"].float() / 255.0
        features = [self._cnn(image), self._mlp(obs["vector"].float())]
        return self._trunk(torch.cat(features, dim=-1))

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Action distribution inputs, for acting in the env runners."""
        return {Columns.ACTION_DIST_INPUTS: self._pi(self._embed(batch[Columns.OBS]))}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Also return the embeddings, so the value head reuses them in the learner."""
        embeddings = self._embed(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: self._pi(embeddings), Columns.EMBEDDINGS: embeddings}

    def compute_values(
        self, batch: dict[str, Any], embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        """State values (B,), from ``embeddings`` when the train pass already made them."""
        if embeddings is None:
            embeddings = self._embed(batch[Columns.OBS])
        return self._vf(embeddings).squeeze(-1)


def ppo_config(
    env_id: str = "AstraSim/PointNav-v0",
    env_config: dict[str, Any] | None = None,
    num_env_runners: int = 2,
    *,
    discrete: bool = False,
    train_batch_size: int = 4000,
    minibatch_size: int = 256,
    num_epochs: int = 4,
    lr: float = 3e-4,
    hidden: int = 128,
    seed: int = 0,
) -> PPOConfig:
    """A PPO config that trains ``PanoramaModule`` on an AstraSim env in the SB3 view.

    Registers ``env_creator`` as ``RLLIB_ENV`` (idempotent), so the returned config builds
    anywhere Ray runs. Change anything else on the returned config before ``build_algo()``.

    Args:
        env_id: a registered AstraSim id (or ``"astra_sim:AstraSim/PointNav-v0"``).
        env_config: the env's constructor kwargs (scene, scene_params, rig, sim, ...).
        num_env_runners: sampling actors, one env each (0 samples in the driver, to debug).
        discrete: act through ``DiscreteActions`` (stop, forward, left, right).
        train_batch_size: env steps per training iteration, over all runners.
        minibatch_size: SGD minibatch size.
        num_epochs: passes over each train batch.
        lr: Adam learning rate.
        hidden: width of the module's shared layer.
        seed: RLlib's seed; env runners derive their env seeds from it.

    Returns:
        A ``PPOConfig`` on the new API stack.
    """
    register_env(RLLIB_ENV, env_creator)
    config = {**(env_config or {}), "env_id": env_id, "discrete": discrete}
    return (
        PPOConfig()
        .environment(RLLIB_ENV, env_config=config)
        .env_runners(num_env_runners=num_env_runners, num_envs_per_env_runner=1)
        .training(
            train_batch_size=train_batch_size,
            minibatch_size=minibatch_size,
            num_epochs=num_epochs,
            lr=lr,
        )
        .rl_module(
            rl_module_spec=RLModuleSpec(
                module_class=PanoramaModule, model_config={"hidden": hidden}
            )
        )
        .debugging(seed=seed)
    )
