"""``astra-sim bench``: render, ray-cast and simulator-step speed, against pybullet; data
collection throughput (``--collect``); the leak soak (``--soak``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure render, ray-cast and simulator speed")
    p.add_argument("--out", type=Path, help="write the figures as JSON to this file")
    p.add_argument(
        "--kinds",
        nargs="+",
        default=None,
        help="scene kinds to measure on (default: home warehouse; all three with --soak)",
    )
    p.add_argument("--seed", type=int, default=0, help="scene and pose seed")
    p.add_argument("--frames", type=int, default=60, help="rig frames per scene")
    p.add_argument(
        "--pybullet-frames",
        type=int,
        default=15,
        help="rig frames per scene for pybullet's TinyRenderer (the first of --frames)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="render passes per backend and pybullet, taking turns (medians reported)",
    )
    p.add_argument(
        "--min-pass-s",
        type=float,
        default=1.0,
        help="seconds each render pass runs at least, its views repeated (every renderer)",
    )
    p.add_argument("--sim-steps", type=int, default=40, help="simulator steps per scene")
    p.add_argument("--rig", default="default", help="camera rig (default, astra3, equirect)")
    p.add_argument(
        "--collect",
        action="store_true",
        help="measure data-collection throughput instead: no Ray, then Ray workers",
    )
    p.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="with --collect: Ray worker counts to measure (default: 1 2)",
    )
    p.add_argument("--episodes", type=int, default=12, help="with --collect: episodes per setting")
    p.add_argument(
        "--max-steps", type=int, default=120, help="with --collect: step limit per episode"
    )
    p.add_argument(
        "--repeats", type=int, default=1, help="with --collect: runs per setting (best kept)"
    )
    p.add_argument(
        "--soak",
        action="store_true",
        help="run the leak soak instead: random actions, frequent resets, memory/handles/threads",
    )
    p.add_argument("--steps", type=int, default=100_000, help="with --soak: env steps")
    p.add_argument(
        "--warmup", type=int, default=10_000, help="with --soak: steps before the baseline"
    )
    p.add_argument(
        "--bodies", nargs="+", default=["kinematic", "pybullet"], help="with --soak: body backends"
    )
    p.add_argument(
        "--backends", nargs="+", default=["embree", "gl"], help="render backends to compare"
    )
    p.add_argument(
        "--no-heavy", action="store_true", help="leave out the heavy (~290k triangle) row"
    )
    p.add_argument(
        "--env-steps", type=int, default=300, help="env steps timed on one core (0: skip)"
    )
    p.add_argument(
        "--vector-envs", type=int, nargs="*", default=[1, 4, 16],
        help="N of the vector env measurement (none: skip)",
    )  # fmt: skip
    p.add_argument(
        "--crossover-levels", type=int, nargs="*", default=[0, 1, 2, 3],
        help="subdivision levels of the home for the gl/embree crossover (none: skip)",
    )  # fmt: skip
    p.set_defaults(func=run_bench)


def run_soak_bench(args: argparse.Namespace) -> int:
    from astra_sim.bench.soak import SoakConfig, format_soak_report, run_soak

    kinds = tuple(args.kinds) if args.kinds else ("home", "office", "warehouse")
    cfg = SoakConfig(
        steps=args.steps,
        warmup=args.warmup,
        kinds=kinds,
        bodies=tuple(args.bodies),
        rig=args.rig,
        seed=args.seed,
    )
    report = run_soak(cfg, args.out)
    print(format_soak_report(report))
    if args.out:
        print(f"wrote {args.out}")
    return 0 if report["passed"] else 1


def run_collect_bench(args: argparse.Namespace) -> int:
    from astra_sim.bench.collect_bench import (
        CollectBenchConfig,
        format_collect_report,
        run_collect_bench,
    )

    cfg = CollectBenchConfig(
        workers=tuple(args.workers),
        episodes=args.episodes,
        max_steps=args.max_steps,
        scenes=tuple(args.kinds),
        rig=args.rig,
        seed=args.seed,
        repeats=args.repeats,
    )
    report = run_collect_bench(cfg, args.out)
    print(format_collect_report(report))
    print(json.dumps({k: report[k] for k in ("steps_per_s", "ratio_to_no_ray")}))
    if args.out:
        print(f"wrote {args.out}")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    if args.soak:
        return run_soak_bench(args)
    args.kinds = args.kinds or ["home", "warehouse"]
    if args.collect:
        return run_collect_bench(args)
    from astra_sim.bench.sim_bench import BenchConfig, format_report, run_benchmark
    from astra_sim.scenes.generators import SCENE_KINDS

    for name in ("frames", "pybullet_frames", "sim_steps", "rounds"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1")
    if args.pybullet_frames > args.frames:
        raise ValueError("--pybullet-frames must be <= --frames (it renders the first of them)")
    if not args.min_pass_s >= 0:
        raise ValueError("--min-pass-s must be >= 0")
    bad = [k for k in args.kinds if k not in SCENE_KINDS]
    if bad:
        raise ValueError(f"unknown scene kind(s) {', '.join(bad)}; valid: {', '.join(SCENE_KINDS)}")
    cfg = BenchConfig(
        kinds=tuple(args.kinds),
        seed=args.seed,
        frames=args.frames,
        pybullet_frames=args.pybullet_frames,
        rounds=args.rounds,
        min_pass_s=args.min_pass_s,
        sim_steps=args.sim_steps,
        rig=args.rig,
        backends=tuple(args.backends),
        heavy=not args.no_heavy,
        env_steps=args.env_steps,
        vector_envs=tuple(args.vector_envs),
        crossover_levels=tuple(args.crossover_levels),
    )
    report = run_benchmark(cfg, args.out)
    print(format_report(report))
    print(json.dumps({k: report[k] for k in ("render_fps", "speedup", "sim_steps_per_s")}))
    if args.out:
        print(f"wrote {args.out}")
    return 0
