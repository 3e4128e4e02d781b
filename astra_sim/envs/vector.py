"""A vector env that renders the rigs of all its envs in one batch.

``gymnasium.make_vec("AstraSim/PointNav-v0", num_envs=N)`` builds this by default (the ids
register it as their ``vector_entry_point``); ``vectorization_mode="sync"`` or ``"async"``
give gymnasium's own. It is gymnasium's ``SyncVectorEnv`` (same autoreset modes, infos,
copies), except that a step runs every env's physics and sensors first and renders their
rigs afterwards in one call (``sim.deferred``): with the ``gl`` backend all N rigs are one
framebuffer pass and one read-back, so per-env rendering overhead is paid once per step.
Observations are exactly those of stepping the envs one by one. ``reset`` is gymnasium's
(one render per env): it is not the hot path.
"""

from __future__ import annotations

import functools
from copy import deepcopy
from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.vector.utils import concatenate, iterate

from astra_sim.sim.deferred import deferred_rendering


class BatchedVectorEnv(SyncVectorEnv):
    """``SyncVectorEnv`` whose step renders all sub-envs' rigs in one batch.

    Args:
        env_fns: callables that each make one sub-env (as for ``SyncVectorEnv``).
        **kwargs: ``copy``, ``observation_mode``, ``autoreset_mode`` of ``SyncVectorEnv``.
    """

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step every sub-env (resetting those that ended, per the autoreset mode), then
        render all their rigs at once and batch the observations."""
        infos: dict[str, Any] = {}
        mode = self.autoreset_mode
        with deferred_rendering():
            for i, action in enumerate(iterate(self.action_space, actions)):
                env = self.envs[i]
                if mode == AutoresetMode.NEXT_STEP and self._autoreset_envs[i]:
                    self._env_obs[i], info = env.reset()
                    self._rewards[i] = 0.0
                    self._terminations[i] = self._truncations[i] = False
                else:
                    if mode == AutoresetMode.DISABLED:
                        assert not self._autoreset_envs[i], f"{self._autoreset_envs=}"
                    (self._env_obs[i], self._rewards[i], self._terminations[i],
                     self._truncations[i], info) = env.step(action)  # fmt: skip
                    if mode == AutoresetMode.SAME_STEP and (
                        self._terminations[i] or self._truncations[i]
                    ):
                        final = {"final_obs": self._env_obs[i], "final_info": info}
                        infos = self._add_info(infos, final, i)
                        self._env_obs[i], info = env.reset()
                infos = self._add_info(infos, info, i)
        # Leaving the block rendered every queued rig into the observations above.
        self._observations = concatenate(
            self.single_observation_space, self._env_obs, self._observations
        )
        self._autoreset_envs = np.logical_or(self._terminations, self._truncations)
        obs = self._observations
        return (
            deepcopy(obs) if self.copy else obs,
            np.copy(self._rewards),
            np.copy(self._terminations),
            np.copy(self._truncations),
            infos,
        )


def make_batched(env_id: str, num_envs: int = 1, **kwargs: Any) -> BatchedVectorEnv:
    """``num_envs`` envs of ``env_id`` (each ``gymnasium.make(env_id, **kwargs)``), batched.

    ``max_episode_steps`` in ``kwargs`` is the sub-envs' time limit, as ``make_vec`` passes
    it; ``copy``, ``observation_mode`` and ``autoreset_mode`` go to the vector env.
    """
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
    vector_keys = ("copy", "observation_mode", "autoreset_mode")
    vector_kwargs = {k: kwargs.pop(k) for k in vector_keys if k in kwargs}
    make = functools.partial(gymnasium.make, env_id, **kwargs)
    return BatchedVectorEnv([make] * num_envs, **vector_kwargs)


def _creator(env_id: str) -> Any:
    def create(num_envs: int = 1, **kwargs: Any) -> BatchedVectorEnv:
        return make_batched(env_id, num_envs, **kwargs)

    create.__doc__ = f"``make_vec`` entry point of {env_id}: ``make_batched`` for it."
    return create


pointnav = _creator("AstraSim/PointNav-v0")
imagenav = _creator("AstraSim/ImageNav-v0")
languagenav = _creator("AstraSim/LanguageNav-v0")
localization = _creator("AstraSim/Localization-v0")
