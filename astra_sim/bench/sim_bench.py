"""``astra-sim bench``: how fast the simulator renders, steps and vectorizes, on this machine.

One run measures, in this order:

- every render backend (``embree``, ``gl``) and pybullet's TinyRenderer on the same views
  of each scene: the default home and warehouse, and a heavy row (the home split to a
  scan's density, ~290k triangles, ``bench.heavy_scene``);
- the ``gl`` / ``embree`` crossover in triangle count (the home subdivided 0-3 times), the
  measurement behind ``backend="auto"``;
- full env steps per second on one core, with the breakdown of a step
  (``bench.env_step_bench``, in a pinned child process);
- vector env steps per second for N envs in one process, batched and not
  (``bench.vector_bench``).

Figures are keyed by scene, then backend. Ratios against pybullet come from the same run,
so they survive a busy machine better than raw frame rates; the load average at the start
and end is in the report.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from astra_sim.bench import render_bench as rb
from astra_sim.core.fileio import atomic_write

HEAVY = "home_dense"
"""The heavy row's scene key: the default home split until no edge exceeds ``heavy_edge``."""


@dataclass(frozen=True)
class BenchConfig:
    """Benchmark settings.

    Attributes:
        kinds: scene kinds to measure on (default scenes, seed ``seed``).
        seed: scene and pose seed.
        frames: rig frames rendered per scene and backend.
        pybullet_frames: rig frames rendered per scene by pybullet's TinyRenderer: the
            first of the backends' views; speedups compare the backends on the same ones.
        rounds: passes of every backend and pybullet, taking turns; figures are medians
            over rounds, speedups medians of the ratios within a round.
        min_pass_s: seconds a pass runs at least (its views repeated), for every renderer.
        sim_steps: simulator steps per scene and backend.
        rig: camera rig name.
        threads: ray-casting / rasterizer threads.
        backends: render backends to compare (``gl`` is skipped, with the reason in the
            report, where EGL is missing).
        heavy: add the heavy row.
        heavy_edge: longest triangle edge (metres) of the heavy scene.
        crossover_levels: subdivision levels of the home the crossover is measured on
            (empty: skip).
        env_steps: timed env steps of the per-core measurement (0: skip).
        vector_envs: N of the vector env measurement (empty: skip).
        vector_steps: timed vector steps per N.
    """

    kinds: tuple[str, ...] = ("home", "warehouse")
    seed: int = 0
    frames: int = 60
    pybullet_frames: int = 15
    rounds: int = 5
    min_pass_s: float = 1.0
    sim_steps: int = 40
    rig: str = "default"
    threads: int = 2
    backends: tuple[str, ...] = ("embree", "gl")
    heavy: bool = True
    heavy_edge: float = 0.15
    crossover_levels: tuple[int, ...] = (0, 1, 2, 3)
    env_steps: int = 300
    vector_envs: tuple[int, ...] = (1, 4, 16)
    vector_steps: int = 30


def _backends(cfg: BenchConfig) -> tuple[list[str], dict[str, str]]:
    """The backends that can run here, and why the others cannot."""
    from astra_sim.render.gl_context import gl_unavailable_reason

    usable, skipped = [], {}
    for b in cfg.backends:
        reason = gl_unavailable_reason() if b == "gl" else None
        if reason is None:
            usable.append(b)
        else:
            skipped[b] = reason
    return usable, skipped


def bench_scene(
    key: str, scene: Any, pose_scene: Any, cfg: BenchConfig, backends: list[str]
) -> dict[str, Any]:
    """Every backend and pybullet on one scene; simulator steps unless it is the heavy row."""
    from astra_sim.render.rig import Rig

    rig = Rig.from_name(cfg.rig)
    views = rb.poses(pose_scene, cfg.frames, cfg.seed)
    out: dict[str, Any] = {"triangles": len(scene.faces)}
    ticks = rb.cpu_ticks()
    out.update(rb.interleaved(scene, backends, rig, views, cfg.pybullet_frames, cfg.threads,
                              cfg.rounds, cfg.min_pass_s))  # fmt: skip
    out["cpu_steal"] = rb.steal_share(ticks, rb.cpu_ticks())
    if key != HEAVY:
        for backend in backends:
            out["backends"][backend]["sim_steps_per_s"] = rb.sim_steps_per_s(
                scene, backend, cfg.rig, cfg.sim_steps, views[0], cfg.threads
            )
    return out


def _crossover(cfg: BenchConfig, backends: list[str]) -> dict[str, Any]:
    from astra_sim.bench.heavy_scene import subdivided
    from astra_sim.render.auto import GL_MAX_TRIANGLES
    from astra_sim.render.rig import Rig
    from astra_sim.scenes import generate_scene

    base = generate_scene("home", cfg.seed)
    rig = Rig.from_name(cfg.rig)
    views = rb.poses(base, max(10, cfg.frames), cfg.seed)
    fps: dict[int, dict[str, float]] = {}
    for level in cfg.crossover_levels:
        scene = subdivided(base, level)
        fps[len(scene.faces)] = {
            b: round(rb.backend_fps(scene, b, rig, views, cfg.threads)["render_fps"], 1)
            for b in backends
        }
    found = rb.crossover(fps) if {"gl", "embree"} <= set(backends) else None
    return {
        "render_fps": {str(n): v for n, v in fps.items()},
        "crossover_triangles": None if found is None else round(found),
        "auto_gl_max_triangles": GL_MAX_TRIANGLES,
    }


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def run_benchmark(cfg: BenchConfig, out_path: str | Path | None = None) -> dict[str, Any]:
    """Run every measurement in ``cfg`` and (optionally) write the JSON report."""
    from astra_sim.bench.env_step_bench import EnvStepConfig, measure
    from astra_sim.bench.heavy_scene import dense_scan
    from astra_sim.bench.vector_bench import VectorBenchConfig, run_vector_bench
    from astra_sim.render.auto import choose_backend
    from astra_sim.render.rig import Rig
    from astra_sim.scenes import generate_scene

    load_start, ticks = _load(), rb.cpu_ticks()
    backends, skipped = _backends(cfg)
    scenes: dict[str, Any] = {}
    for kind in tqdm(cfg.kinds, desc="bench", unit="scene"):
        scene = generate_scene(kind, cfg.seed)
        scenes[kind] = bench_scene(kind, scene, scene, cfg, backends)
    if cfg.heavy:
        home = generate_scene("home", cfg.seed)
        scenes[HEAVY] = bench_scene(HEAVY, dense_scan(home, cfg.heavy_edge), home, cfg, backends)
    report: dict[str, Any] = {
        "render_fps": _by_backend(scenes, "render_fps", 1),
        "pybullet_fps": {
            k: round(v["pybullet_fps"], 2) for k, v in scenes.items() if "pybullet_fps" in v
        },
        "speedup": _by_backend(scenes, "speedup", 2),
        "sim_steps_per_s": _by_backend(scenes, "sim_steps_per_s", 1),
        "rays_per_s": {
            k: round(v["backends"]["embree"]["rays_per_s"])
            for k, v in scenes.items()
            if "embree" in v["backends"]
        },
        "triangles": {k: v["triangles"] for k, v in scenes.items()},
    }
    report["fastest"] = {k: max(fps, key=fps.get) for k, fps in report["render_fps"].items() if fps}
    if cfg.crossover_levels and backends:
        report["crossover"] = _crossover(cfg, backends)
    if cfg.env_steps > 0:
        rig = Rig.from_name(cfg.rig)
        auto = choose_backend(generate_scene("home", cfg.seed), rig)
        per_core = {}
        for backend in dict.fromkeys([auto, *backends]):
            env_cfg = EnvStepConfig(renderer=backend, rig=cfg.rig, steps=cfg.env_steps)
            per_core[backend] = measure(env_cfg)
        report["env_steps_per_core"] = {
            "auto_picks": auto,
            "steps_per_s": {b: round(r["steps_per_s"], 1) for b, r in per_core.items()},
            "breakdown_ms": {b: r["breakdown_ms"] for b, r in per_core.items()},
        }
    if cfg.vector_envs:
        vcfg = VectorBenchConfig(num_envs=tuple(cfg.vector_envs), steps=cfg.vector_steps)
        report["vector"] = run_vector_bench(vcfg)
    if skipped:
        report["skipped_backends"] = skipped
    report["scenes"] = scenes
    report["config"] = asdict(cfg)
    report["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_average_start": load_start,
        "load_average_end": _load(),
        "cpu_steal": rb.steal_share(ticks, rb.cpu_ticks()),
        "gl_renderer": _gl_name() if "gl" in backends else None,
    }
    if out_path is not None:
        atomic_write(out_path, (json.dumps(report, indent=1) + "\n").encode())
    return report


def _gl_name() -> str:
    from astra_sim.render.gl_context import shared_context

    return shared_context().renderer_name


def _by_backend(scenes: dict[str, Any], key: str, digits: int) -> dict[str, dict[str, float]]:
    return {
        k: {b: round(r[key], digits) for b, r in v["backends"].items() if key in r}
        for k, v in scenes.items()
    }


def _spread(values: list[float] | None) -> str:
    """The lowest and highest of a figure's rounds, as "lo-hi"."""
    return f"{min(values):.1f}-{max(values):.1f}" if values else ""


def format_report(report: dict[str, Any]) -> str:
    """The report as text tables: per scene and backend, the env step, the vector env."""
    lines = [
        f"{'scene':<11} {'triangles':>9} {'backend':<7} {'render fps':>10} {'pybullet fps':>12} "
        f"{'speedup':>8} {'(rounds)':>13} {'sim steps/s':>11}"
    ]
    for key, row in report["scenes"].items():
        for backend, r in row["backends"].items():
            lines.append(
                f"{key:<11} {row['triangles']:>9} {backend:<7} {r['render_fps']:>10.1f} "
                f"{row.get('pybullet_fps', float('nan')):>12.1f} "
                f"{r.get('speedup', float('nan')):>8.1f} {_spread(r.get('speedup_rounds')):>13} "
                f"{r.get('sim_steps_per_s', float('nan')):>11.1f}"
            )
    steal = {k: v["cpu_steal"] for k, v in report["scenes"].items() if v.get("cpu_steal")}
    if steal:
        cells = ", ".join(f"{k} {100 * v:.1f} %" for k, v in steal.items())
        lines.append(f"CPU time taken by other guests of the machine (steal): {cells}")
    if "crossover" in report:
        c = report["crossover"]
        sizes = ", ".join(f"{n}: {v}" for n, v in c["render_fps"].items())
        lines.append(f"gl/embree crossover: {c['crossover_triangles']} triangles ({sizes})")
    if "env_steps_per_core" in report:
        e = report["env_steps_per_core"]
        lines.append(f"env steps/s on one core (auto picks {e['auto_picks']}):")
        for backend, rate in e["steps_per_s"].items():
            parts = ", ".join(f"{k} {v:.2f}" for k, v in e["breakdown_ms"][backend].items())
            lines.append(f"  {backend:<7} {rate:>7.1f}  ms/step: {parts}")
    if "vector" in report:
        v = report["vector"]
        for mode, rates in v["env_steps_per_s"].items():
            cells = ", ".join(f"N={n}: {r}" for n, r in rates.items())
            lines.append(f"vector env ({mode}, {v['renderer']}) env steps/s: {cells}")
    if report.get("skipped_backends"):
        for b, why in report["skipped_backends"].items():
            lines.append(f"skipped {b}: {why}")
    return "\n".join(lines)
