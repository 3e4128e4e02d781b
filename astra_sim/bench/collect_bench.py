"""``astra-sim bench --collect``: collection throughput without Ray and on 1..N Ray workers.

Each setting collects the same episodes (same recipe, same seeds) into a fresh temporary
folder, and the figure is recorded steps over wall-clock seconds from the start of
``collect`` to its end: worker start-up, scene generation, rendering, PNG encoding and
the shard writes all count, as they do for a user. Ray itself is started once, before
any setting, and is not counted. The ratios to the single process without Ray say what
Ray costs on one worker and what it gains on several; on a machine shared with other
jobs, compare the ratios of one run rather than raw numbers across runs, and use
``repeats``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astra_sim.core.fileio import atomic_write
from astra_sim.core.recipe import from_dict


@dataclass(frozen=True)
class CollectBenchConfig:
    """Benchmark settings.

    Attributes:
        workers: Ray worker counts to measure (the no-Ray process is always measured).
        episodes: episodes per setting.
        max_steps: step limit of an episode.
        scenes: scene kinds (episode i in ``scenes[i % len]``).
        rig: camera rig name or recipe.
        seed: campaign seed.
        repeats: runs per setting, interleaved; the best is reported (a shared machine
            only ever slows a run down, so the fastest is the least disturbed).
        features: observation keys stored.
    """

    workers: tuple[int, ...] = (1, 2)
    episodes: int = 12
    max_steps: int = 120
    scenes: tuple[str, ...] = ("home",)
    rig: str = "default"
    seed: int = 0
    repeats: int = 1
    features: tuple[str, ...] = field(default=("rgb", "depth", "imu", "wheel", "goal"))

    def __post_init__(self) -> None:
        if not self.workers or min(self.workers) < 1:
            raise ValueError(f"workers must be Ray worker counts >= 1, got {self.workers}")
        if min(self.episodes, self.max_steps, self.repeats) < 1:
            raise ValueError("episodes, max_steps and repeats must be >= 1")


def _collect_config(cfg: CollectBenchConfig, out: Path, workers: int) -> Any:
    from astra_sim.distributed.config import CollectConfig

    env = {"scenes": list(cfg.scenes), "scene_seeds": [cfg.seed], "rig": cfg.rig,
           "max_steps": cfg.max_steps, "episodes": cfg.episodes, "seed": cfg.seed}  # fmt: skip
    data = {"out": str(out), "env": env, "features": list(cfg.features),
            "ray": {"workers": workers, "num_cpus": max(cfg.workers)}}  # fmt: skip
    return from_dict(CollectConfig, data)


def run_collect_bench(cfg: CollectBenchConfig, out: str | Path | None = None) -> dict[str, Any]:
    """Measure every setting; returns (and writes to ``out`` as JSON) the figures."""
    import ray

    from astra_sim.distributed.collect import collect

    tmp = Path(tempfile.mkdtemp(prefix="astra-bench-"))
    settings: dict[str, dict[str, Any]] = {}

    def measure(name: str, workers: int, run: int) -> None:
        info = collect(_collect_config(cfg, tmp / f"{name}-{run}", workers))
        rate = round(info["new_steps"] / info["seconds"], 1)
        entry = settings.setdefault(name, {"workers": workers, "runs": [], "steps_per_s": 0.0})
        entry["runs"].append(rate)
        if rate >= entry["steps_per_s"]:
            entry.update(
                steps=info["new_steps"], seconds=round(info["seconds"], 3), steps_per_s=rate
            )

    started = False
    try:
        if not ray.is_initialized():
            ray.init(num_cpus=max(cfg.workers), include_dashboard=False, log_to_driver=False)
            started = True
        for run in range(cfg.repeats):
            measure("no_ray", 0, run)
            for n in cfg.workers:
                measure(f"ray_{n}", n, run)
    finally:
        if started:
            ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    base = settings["no_ray"]["steps_per_s"]
    report = {
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.__dict__.items()},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "settings": settings,
        "steps_per_s": {k: v["steps_per_s"] for k, v in settings.items()},
        "ratio_to_no_ray": {k: round(v["steps_per_s"] / base, 2) for k, v in settings.items()},
    }
    if out is not None:
        atomic_write(out, (json.dumps(report, indent=1) + "\n").encode())
    return report


def format_collect_report(report: dict[str, Any]) -> str:
    """The figures as a small table."""
    rows = [
        f"{'setting':<10} {'workers':>7} {'steps':>6} {'seconds':>8} {'steps/s':>8} {'ratio':>6}"
    ]
    for name, s in report["settings"].items():
        rows.append(
            f"{name:<10} {s['workers']:>7} {s['steps']:>6} {s['seconds']:>8.2f} "
            f"{s['steps_per_s']:>8.1f} {report['ratio_to_no_ray'][name]:>6.2f}"
        )
    return "\n".join(rows)
