"""RLlib PPO on the AstraSim envs: env registration and a CNN + MLP RLModule.

RLlib's default catalog cannot encode a Dict observation with images, so the envs are
seen through ``SB3View`` (one channel-first panorama and one vector) and encoded by
``PanoramaModule``: a small CNN over the panorama and an MLP over the vector, shared by a
diagonal-Gaussian policy head and a value head (new API stack).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchDiagGaussian
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.tune.registry import register_env
from torch import nn

RLLIB_ENV = "astra_sim_sb3view"


def make_env(config: dict[str, Any]) -> gym.Env:
    """Build ``config["env_id"]`` with the remaining keys as kwargs, in the SB3 view.

    Importing ``astra_sim`` inside the function registers the ids in each Ray worker.
    """
    import astra_sim  # noqa: F401
    from astra_sim.envs.wrappers import SB3View

    config = dict(config)
    env_id = config.pop("env_id", "AstraSim/PointNav-v0")
    return SB3View(gym.make(env_id, **config))


class PanoramaModule(TorchRLModule, ValueFunctionAPI):
    """CNN over the uint8 panorama + MLP over the vector -> Gaussian policy and a value."""

    def setup(self) -> None:
        image = self.observation_space["image"]
        vector = self.observation_space["vector"]
        channels = image.shape[0]
        hidden = int(self.model_config.get("hidden", 128))
        self._cnn = nn.Sequential(
            nn.Conv2d(channels, 16, 5, stride=2),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((2, 4)),
            nn.Flatten(),
        )
        self._mlp = nn.Sequential(nn.Linear(vector.shape[0], 64), nn.ReLU())
        self._trunk = nn.Sequential(nn.Linear(32 * 8 + 64, hidden), nn.ReLU())
        n_actions = int(np.prod(self.action_space.shape))
        self._pi = nn.Linear(hidden, 2 * n_actions)  # means and log-stds
        self._vf = nn.Linear(hidden, 1)
        self.action_dist_cls = TorchDiagGaussian

    def _embed(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        image = obs["image"].float() / 255.0
        return self._trunk(torch.cat([self._cnn(image), self._mlp(obs["vector"].float())], -1))

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        embeddings = self._embed(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: self._pi(embeddings), Columns.EMBEDDINGS: embeddings}

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        if embeddings is None:
            embeddings = self._embed(batch[Columns.OBS])
        return self._vf(embeddings).squeeze(-1)


def ppo_config(
    env_id: str = "AstraSim/PointNav-v0",
    env_config: dict[str, Any] | None = None,
    num_env_runners: int = 2,
    train_batch_size: int = 4000,
    minibatch_size: int = 256,
    num_epochs: int = 4,
    hidden: int = 128,
    seed: int = 0,
) -> PPOConfig:
    """A PPO config on ``env_id`` (env kwargs in ``env_config``) with ``PanoramaModule``."""
    register_env(RLLIB_ENV, make_env)
    return (
        PPOConfig()
        .environment(RLLIB_ENV, env_config={"env_id": env_id, **(env_config or {})})
        .env_runners(num_env_runners=num_env_runners, num_envs_per_env_runner=1)
        .training(
            train_batch_size=train_batch_size, minibatch_size=minibatch_size, num_epochs=num_epochs
        )
        .rl_module(
            rl_module_spec=RLModuleSpec(
                module_class=PanoramaModule, model_config={"hidden": hidden}
            )
        )
        .debugging(seed=seed)
    )
