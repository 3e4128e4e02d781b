"""Closed-loop evaluation of the composed Astra agent, with the oracle ladder, on Ray.

Every ladder row plays the same episodes (episode i depends only on the campaign seed and
i); the ``none`` row is the agent itself, the others swap a stage for ground truth so the
report shows what each stage costs. Maps are built once per scene in the driver, before
any worker starts, and then read from the map cache (or ``agent.astra.map_dir``).

Usage::

    from astra_sim.core.recipe import load_recipe
    from astra_sim.distributed.config import EvalAstraConfig
    from astra_sim.distributed.evaluate_astra import evaluate_astra

    summary = evaluate_astra(load_recipe(EvalAstraConfig, "train/eval_astra.yaml"))
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from astra_sim.agents.astra.config import OracleConfig
from astra_sim.core.fileio import atomic_write
from astra_sim.core.recipe import to_dict
from astra_sim.distributed.config import EvalAstraConfig
from astra_sim.distributed.pool import JobPool, init_ray
from astra_sim.distributed.worker import episode_jobs
from astra_sim.eval.astra_report import write_astra_report
from astra_sim.eval.nav import check_report_folder


def astra_recipe(config: EvalAstraConfig) -> dict[str, Any]:
    """What was evaluated (not where it ran, the output folder or the pictures)."""
    recipe = to_dict(config)
    return {"env": recipe["env"], "agent": recipe["agent"], "ladder": recipe["ladder"]}


def prepare_maps(config: EvalAstraConfig) -> float:
    """Build (or find) the map of every scene the episodes can draw; returns seconds."""
    from astra_sim.agents.astra.global_stage import load_building_map

    env = config.env
    scenes = [(k, s) for k in env.scenes for s in env.scene_seeds]
    t0 = time.perf_counter()
    for kind, seed in tqdm(scenes, desc="maps", unit="scene"):
        building = {"kind": kind, "seed": seed, "params": env.scene_params.get(kind) or {}}
        load_building_map(building, config.agent.astra.map_dir)
    return time.perf_counter() - t0


def evaluate_astra(config: EvalAstraConfig) -> dict[str, Any]:
    """Run every ladder row and write ``config.out``; returns the summary.

    Raises:
        ReportExistsError: ``config.out`` holds the report of another evaluation.
        FileNotFoundError: a checkpoint or a map in ``map_dir`` is missing (names the
            command that makes it).
    """
    recipe = astra_recipe(config)
    check_report_folder(config.out, recipe)  # before any work: fail fast, write nothing
    jobs = episode_jobs(config.env)
    map_seconds = prepare_maps(config)
    episodes: dict[tuple[str, int], dict[str, Any]] = {}
    pictures: dict[str, bytes] = {}
    seconds: dict[str, float] = {}
    started = config.ray.workers > 0 and init_ray(config.ray)
    try:
        for row in config.ladder:
            astra = dataclasses.replace(config.agent.astra, oracle=OracleConfig.from_row(row))
            worker_args = {
                "env_cfg": config.env,
                "agent_cfg": dataclasses.replace(config.agent, astra=astra),
                "mode": "eval",
                "fault": config.fault,
                "pictures": config.pictures if row == "none" else 0,
            }

            def on_result(result: dict[str, Any], row: str = row) -> None:
                # A rerun episode replaces its earlier line, never adds one.
                episodes[(row, result["index"])] = {**result["summary"], "ablation": row}
                pictures.update(result.get("pictures") or {})

            t0 = time.perf_counter()
            with JobPool(config.ray, worker_args, desc=f"eval astra [{row}]") as pool:
                pool.run(jobs, on_result)
            seconds[row] = round(time.perf_counter() - t0, 1)
    finally:
        if started:
            import ray

            ray.shutdown()
    title = (
        f"{config.env.task}: Astra agent, {len(jobs)} episodes per row, scene seeds "
        f"{config.env.scene_seeds}, seed {config.env.seed}"
    )
    summary = write_astra_report(config.out, list(episodes.values()), recipe, title, pictures)
    summary["seconds"] = {"maps": round(map_seconds, 1), **seconds}
    body = (json.dumps(summary, indent=1) + "\n").encode()
    atomic_write(Path(config.out) / "summary.json", body)
    return summary
