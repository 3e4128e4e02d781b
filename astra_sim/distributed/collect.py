"""Demonstration collection: Ray actors run the expert over many episodes into a dataset.

``collect(config)`` claims the output folder (or resumes it: finished episodes are
skipped), fans the remaining episodes out over the workers, writes each returned shard
atomically under its episode index as it arrives, and finally rebuilds the meta files
from the shards. Every episode depends only on (seed, index), so 1 worker, N workers or
no Ray at all write the same rows.

Usage::

    from astra_sim.core.recipe import load_recipe
    from astra_sim.distributed.collect import collect
    from astra_sim.distributed.config import CollectConfig

    info = collect(load_recipe(CollectConfig, "train/collect_pointnav.yaml", ["ray.workers=4"]))
"""

from __future__ import annotations

import time
from typing import Any

from astra_sim import __version__
from astra_sim.core.recipe import to_dict
from astra_sim.data.format import CODEBASE_VERSION
from astra_sim.data.writer import DatasetWriter
from astra_sim.distributed.config import CollectConfig
from astra_sim.distributed.pool import JobPool
from astra_sim.distributed.worker import episode_jobs

COLLECT_AGENTS = ("expert", "random")


def dataset_recipe(config: CollectConfig) -> dict[str, Any]:
    """The part of the config that defines the data (not where or how fast it runs)."""
    recipe = to_dict(config)
    for key in ("out", "ray", "fault"):
        recipe.pop(key)
    return recipe


def collect(config: CollectConfig) -> dict[str, Any]:
    """Collect ``config.env.episodes`` episodes into ``config.out``; returns ``info.json``
    plus ``seconds`` and ``new_steps`` (steps collected by this call).

    Raises:
        DatasetExistsError: ``out`` holds another dataset or foreign files.
        ValueError: an agent that cannot collect, or a feature the task lacks.
    """
    if config.agent.name not in COLLECT_AGENTS:
        raise ValueError(
            f"collect runs the {' or '.join(COLLECT_AGENTS)} agent (got {config.agent.name!r}); "
            f"evaluate checkpoints with `astra-sim eval nav`"
        )
    jobs = episode_jobs(config.env)
    writer = DatasetWriter(config.out, dataset_recipe(config))
    # Before starting any worker: a wrong folder fails fast and untouched, a finished one
    # needs no worker at all.
    if writer.check() and writer.done_episodes() >= {j.index for j in jobs}:
        info = writer.finish([j.index for j in jobs])
        return {**info, "seconds": 0.0, "new_steps": 0, "skipped": len(jobs)}
    worker_args = {
        "env_cfg": config.env,
        "agent_cfg": config.agent,
        "mode": "collect",
        "features": config.features,
        "fault": config.fault,
    }
    t0 = time.perf_counter()
    new_steps = 0
    with JobPool(config.ray, worker_args, desc="collect") as pool:
        described = pool.describe(jobs[0])
        info = {
            "codebase_version": CODEBASE_VERSION,
            "astra_sim_version": __version__,
            "task": config.env.task,
            **described,
            "scenes": {
                "kinds": config.env.scenes,
                "seeds": config.env.scene_seeds,
                "params": config.env.scene_params,
                "episodes_file": config.env.episodes_file,
                "split": config.env.split,
            },
            "seeds": {
                "campaign": config.env.seed,
                "episodes": {str(j.index): j.seed for j in jobs},
            },
            "data_path": "data/chunk-{chunk:03d}/episode_{episode_index:06d}.parquet",
            "total_episodes": 0,
            "total_frames": 0,
        }
        done = writer.open(info)
        todo = [j for j in jobs if j.index not in done]

        def on_result(result: dict[str, Any]) -> None:
            nonlocal new_steps
            writer.write_episode(result["index"], result["shard"])
            new_steps += int(result["summary"]["length"])

        if todo:
            pool.run(todo, on_result, total=len(jobs), initial=len(jobs) - len(todo))
    info = writer.finish([j.index for j in jobs])
    seconds = time.perf_counter() - t0
    return {**info, "seconds": seconds, "new_steps": new_steps, "skipped": len(jobs) - len(todo)}
