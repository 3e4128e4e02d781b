"""``astra-sim eval localization``: VPR against the landmark localizer on held-out scenes.

Prints a table per kind side by side and, with ``--out DIR``, writes ``summary.json``,
``localization.png`` and the run's settings. The landmark localizer's headline variant sees
pixels only; the semantic-sensor oracle is reported beside it as an upper bound.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from astra_sim.core.shipped import shipped_checkpoints

CHECKPOINTS = shipped_checkpoints()


def add_parser(sub: Any) -> None:
    p = sub.add_parser("localization", help="score Astra-Global localizers on held-out scenes")
    p.add_argument("--kind", default="home,office,warehouse", help="scene kinds, comma list")
    p.add_argument("--seeds", default="0", help="held-out scene seeds, e.g. 0-2 (default 0)")
    p.add_argument("--queries", type=int, default=40, help="queries per scene (default 40)")
    p.add_argument(
        "--query-scale", type=int, default=3, help="query pixels per map pixel per side (3)"
    )
    p.add_argument("--vpr", type=Path, default=CHECKPOINTS / "vpr.pt", help="VPR checkpoint")
    p.add_argument(
        "--detector",
        type=Path,
        default=CHECKPOINTS / "landmark_detector.pt",
        help="pixel landmark detector checkpoint",
    )
    p.add_argument(
        "--sign-reader",
        type=Path,
        default=CHECKPOINTS / "sign_reader.pt",
        help="sign reader checkpoint",
    )
    p.add_argument(
        "--localizer",
        default="vpr,pixel,oracle",
        help="comma list of vpr, pixel (the landmark localizer on pixels), oracle (its "
        "semantic-sensor upper bound), mllm (needs --model); default vpr,pixel,oracle",
    )
    p.add_argument("--model", type=Path, help="local image-text checkpoint for --localizer mllm")
    p.add_argument("--max-prompt-tokens", type=int, default=4096, help="MLLM prompt budget (4096)")
    p.add_argument("--no-goals", action="store_true", help="skip goal localization")
    p.add_argument(
        "--pose-source",
        choices=("gt", "sfm"),
        default="gt",
        help="map node poses from ground truth or from SfM (pycolmap), to measure its effect",
    )
    p.add_argument("--seed", type=int, default=0, help="seeds the query poses")
    p.add_argument("--cache-dir", type=Path, help="map cache (default ~/.cache/astra-sim)")
    p.add_argument("--out", type=Path, help="report folder (summary.json, localization.png)")
    p.set_defaults(func=run)


def _need(path: Path, what: str, command: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{what} checkpoint {path} does not exist; make it with: {command}")
    return path


LOCALIZERS = ("vpr", "pixel", "oracle", "mllm")


def _make(name: str, args: argparse.Namespace, seeds: list[int]) -> Any:
    """One localizer by name, from the checkpoints the arguments point at."""
    if name == "vpr":
        from astra_sim.agents.astra_global.vpr import VPRLocalizer

        path = _need(args.vpr, "VPR", f"astra-sim train vpr --out {args.vpr}")
        _check_heldout(path, seeds)
        return VPRLocalizer.load(path)
    from astra_sim.agents.astra_global.landmarks import LandmarkLocalizer

    if name == "oracle":
        return LandmarkLocalizer("oracle", name="landmarks-oracle (upper bound)")
    if name == "mllm":
        from astra_sim.agents.astra_global.mllm.localizer import MLLMConfig, load_mllm_localizer

        if args.model is None:
            raise ValueError("--localizer mllm needs --model PATH (a local image-text checkpoint)")
        config = MLLMConfig(max_prompt_tokens=args.max_prompt_tokens)
        return load_mllm_localizer(args.model, config)
    from astra_sim.agents.astra_global.landmark_detector import LandmarkDetector

    det = _need(args.detector, "detector", f"astra-sim train detector --out {args.detector}")
    _check_heldout(det, seeds)
    reader = None
    if args.sign_reader.is_file():
        from astra_sim.agents.astra_global.sign_reader import SignReader

        reader = SignReader.load(args.sign_reader)
    else:
        print(f"note: no sign reader at {args.sign_reader}; landmarks-pixel reads no text")
    return LandmarkLocalizer(
        "pixel", landmark_detector=LandmarkDetector.load(det), sign_reader=reader
    )


def _check_heldout(path: Path, seeds: list[int]) -> None:
    """Refuse held-out seeds a checkpoint was trained on (its JSON sidecar lists them)."""
    meta = path.with_suffix(".json")
    if meta.is_file():
        trained = set(json.loads(meta.read_text()).get("train_seeds", []))
        if trained & set(seeds):
            raise ValueError(
                f"seeds {sorted(trained & set(seeds))} were used to train {path}; "
                "evaluate on held-out seeds"
            )


def run(args: argparse.Namespace) -> int:
    import torch

    from astra_sim.core.fileio import atomic_write
    from astra_sim.core.seeding import parse_seeds
    from astra_sim.eval.localization import QueryConfig, evaluate, format_table, summarize
    from astra_sim.eval.localization_plot import save_localization_plot
    from astra_sim.mapping.build import MapConfig
    from astra_sim.mapping.cache import cached_map
    from astra_sim.render.rig import Rig
    from astra_sim.scenes.generators import generate_scene, parse_kinds

    kinds = parse_kinds(args.kind)
    seeds = parse_seeds(args.seeds)
    query_config = QueryConfig(per_scene=args.queries, query_scale=args.query_scale, seed=args.seed)
    names = [n.strip() for n in args.localizer.split(",") if n.strip()]
    unknown = sorted(set(names) - set(LOCALIZERS))
    if unknown or not names:
        raise ValueError(f"unknown localizer(s) {unknown or names}; valid: {list(LOCALIZERS)}")
    torch.set_num_threads(1)
    localizers = [_make(name, args, seeds) for name in names]
    map_config = MapConfig(pose_source=args.pose_source)
    t0 = time.perf_counter()
    worlds = {
        k: [
            (generate_scene(k, s), cached_map(k, s, map_config, None, args.cache_dir))
            for s in seeds
        ]
        for k in kinds
    }
    t_maps = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = evaluate(localizers, worlds, query_config, Rig.from_name(MapConfig().rig))
    t_eval = time.perf_counter() - t0
    summary = summarize(result)
    for loc in localizers:
        if hasattr(loc, "stats"):  # the MLLM's parse failures per stage
            summary[loc.name]["parse_stats"] = dict(loc.stats)
    print(format_table(summary, kinds))
    if not args.no_goals:
        from astra_sim.eval.goal_eval import goal_summary

        summary["goal_localization"] = goal_summary(worlds, seed=args.seed)
        print(f"goal localization success: {summary['goal_localization']['success']:.2f}")
    summary["settings"] = {
        "kinds": kinds,
        "heldout_seeds": seeds,
        "queries_per_scene": args.queries,
        "query_rig": f"{MapConfig().rig} x{args.query_scale}",
        "pose_source": args.pose_source,
        "localizers": [loc.name for loc in localizers],
        "map_seconds": round(t_maps, 1),
        "eval_seconds": round(t_eval, 1),
    }
    print(f"maps {t_maps:.0f} s, evaluation {t_eval:.0f} s")
    if args.out is not None:
        atomic_write(args.out / "summary.json", (json.dumps(summary, indent=1) + "\n").encode())
        save_localization_plot(result, args.out / "localization.png")
        print(f"wrote {args.out / 'summary.json'} and {args.out / 'localization.png'}")
    return 0
