"""Closed-loop navigation evaluation fanned out over Ray workers.

``evaluate_nav(config)`` plays the campaign's episodes with the configured agent (expert,
random, SB3 or RLlib checkpoint) on ``ray.workers`` actors and writes the report folder
of ``astra_sim.eval.nav``. Episode i depends only on (seed, i), and the summary is made
in index order, so 1 worker and N workers give the same report.

Usage::

    from astra_sim.core.recipe import load_recipe
    from astra_sim.distributed.config import EvalConfig
    from astra_sim.distributed.evaluate import evaluate_nav

    summary = evaluate_nav(load_recipe(EvalConfig, "train/eval_pointnav.yaml"))
"""

from __future__ import annotations

from typing import Any

from astra_sim.core.recipe import to_dict
from astra_sim.distributed.config import EvalConfig
from astra_sim.distributed.pool import JobPool
from astra_sim.distributed.worker import episode_jobs
from astra_sim.eval.nav import check_report_folder, write_report


def eval_recipe(config: EvalConfig) -> dict[str, Any]:
    """What was evaluated: env and agent (not where it ran or the output folder)."""
    recipe = to_dict(config)
    return {"env": recipe["env"], "agent": recipe["agent"]}


def evaluate_nav(config: EvalConfig) -> dict[str, dict[str, float]]:
    """Run the evaluation and write ``config.out``; returns the summary per scene kind.

    Raises:
        ReportExistsError: ``config.out`` holds the report of another evaluation.
    """
    recipe = eval_recipe(config)
    check_report_folder(config.out, recipe)  # before any work: fail fast, write nothing
    jobs = episode_jobs(config.env)
    worker_args = {
        "env_cfg": config.env,
        "agent_cfg": config.agent,
        "mode": "eval",
        "fault": config.fault,
    }
    episodes: dict[int, dict[str, Any]] = {}

    def on_result(result: dict[str, Any]) -> None:
        episodes[result["index"]] = result["summary"]  # a rerun episode replaces, never adds

    with JobPool(config.ray, worker_args, desc="eval nav") as pool:
        pool.run(jobs, on_result)
    agent = config.agent.name + (f" ({config.agent.checkpoint})" if config.agent.checkpoint else "")
    title = f"{config.env.task}: {agent}, {len(jobs)} episodes, seed {config.env.seed}"
    return write_report(config.out, list(episodes.values()), recipe, config.plots, title)
