"""Gymnasium environments, registered on import of ``astra_sim`` (ids ``AstraSim/*-v0``).

``gymnasium.make("astra_sim:AstraSim/PointNav-v0")`` imports this package first, which is
what Ray workers need; the entry points are strings, so registering imports nothing heavy.
"""

from __future__ import annotations

import gymnasium

MAX_EPISODE_STEPS = 1000
"""Step limit (100 s at the default 10 Hz control rate) of the continuous-action envs."""

ENV_IDS = {
    "AstraSim/PointNav-v0": "astra_sim.envs.nav_env:PointNavEnv",
    "AstraSim/ImageNav-v0": "astra_sim.envs.nav_env:ImageNavEnv",
    "AstraSim/LanguageNav-v0": "astra_sim.envs.nav_env:LanguageNavEnv",
    "AstraSim/Localization-v0": "astra_sim.envs.nav_env:LocalizationEnv",
}


VECTOR_ENTRY_POINTS = {
    env_id: "astra_sim.envs.vector:" + env_id.split("/")[1].split("-")[0].lower()
    for env_id in ENV_IDS
}
"""``gymnasium.make_vec(id, num_envs=N)`` builds ``envs.vector.BatchedVectorEnv`` (one batched
render per step); ``vectorization_mode="sync"`` / ``"async"`` still give gymnasium's own."""


def register_envs() -> None:
    """Register every id once (idempotent, so re-imports in workers are harmless)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(
                env_id,
                entry_point=entry_point,
                vector_entry_point=VECTOR_ENTRY_POINTS[env_id],
                max_episode_steps=MAX_EPISODE_STEPS,
            )


register_envs()
