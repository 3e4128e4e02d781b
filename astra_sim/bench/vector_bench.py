"""Vector env throughput: env steps per second for N envs in one process.

``BatchedVectorEnv`` (what ``gymnasium.make_vec`` builds for our ids) renders the rigs of
all N envs in one call; gymnasium's ``SyncVectorEnv`` renders them one by one. Both run in
this process on every core it has (llvmpipe's rasterizer threads, Embree's threads), with
seeded random actions and autoreset, so the ratio between them is what batching buys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class VectorBenchConfig:
    """Attributes:
    num_envs: the N to measure.
    steps: timed vector steps per N (after 3 untimed ones).
    renderer: render backend of every sub-env.
    scene: scene kind (seed 0) of every sub-env.
    modes: ``batched`` (ours) and/or ``sync`` (gymnasium's).
    seed: reset and action seed.
    """

    num_envs: tuple[int, ...] = (1, 4, 16)
    steps: int = 30
    renderer: str = "auto"
    scene: str = "home"
    modes: tuple[str, ...] = ("batched", "sync")
    seed: int = 0


def _steps_per_s(mode: str, n: int, cfg: VectorBenchConfig) -> float:
    import gymnasium as gym

    import astra_sim  # noqa: F401  (registers the ids)

    env = gym.make_vec(
        "AstraSim/PointNav-v0", num_envs=n, vectorization_mode=None if mode == "batched" else mode,
        scene=cfg.scene, sim={"renderer": cfg.renderer},
    )  # fmt: skip
    try:
        env.reset(seed=cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        space = env.action_space
        actions = rng.uniform(space.low, space.high, (cfg.steps + 3, *space.shape))
        actions = actions.astype(np.float32)
        for a in actions[:3]:
            env.step(a)
        t0 = time.perf_counter()
        for a in actions[3:]:
            env.step(a)
        return n * cfg.steps / (time.perf_counter() - t0)
    finally:
        env.close()


def run_vector_bench(cfg: VectorBenchConfig) -> dict[str, Any]:
    """``{"env_steps_per_s": {mode: {N: steps/s}}, "speedup": {N: batched / sync}}``."""
    rates: dict[str, dict[str, float]] = {m: {} for m in cfg.modes}
    for n in cfg.num_envs:
        for mode in cfg.modes:
            rates[mode][str(n)] = round(_steps_per_s(mode, n, cfg), 1)
    out: dict[str, Any] = {"env_steps_per_s": rates, "renderer": cfg.renderer}
    if {"batched", "sync"} <= set(cfg.modes):
        out["batched_over_sync"] = {
            n: round(rates["batched"][n] / rates["sync"][n], 2) for n in rates["batched"]
        }
    return out
