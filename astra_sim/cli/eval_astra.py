"""``astra-sim eval astra``: the composed Astra agent in closed loop, with its oracle ladder.

    astra-sim eval astra --recipe train/eval_astra.yaml --out outputs/eval/astra
    astra-sim eval astra --recipe train/eval_astra.yaml env.episodes=3 ladder=[none] \\
        --pictures 3 --out outputs/eval/astra_smoke

The report folder holds summary.json (per scene kind: end_to_end_sr, goal_localization_sr,
self_localization_sr, fallback_rate, spl, collisions_per_m; the ladder under "ablations"),
summary.md (the paper's Table 1 beside ours), episodes.jsonl (each episode's outcome and
failure cause), ladder.png and, with --pictures N, pictures/ of the first N episodes.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "astra",
        help="evaluate the composed Astra agent (Astra-Global + Astra-Local) on Ray",
        description="LanguageNav/ImageNav episodes driven by the Astra agent from the robot's "
        "senses, every oracle row of the ladder on the same episodes, and a report folder.",
    )
    p.add_argument("--recipe", type=Path, help="YAML recipe (train/eval_astra.yaml)")
    p.add_argument("--out", help="report folder (same as the override out=DIR)")
    p.add_argument("--pictures", type=int, help="pictures of the first N episodes (pictures=N)")
    p.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. ray.workers=4"
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from astra_sim.core.recipe import load_recipe
    from astra_sim.distributed.config import EvalAstraConfig
    from astra_sim.distributed.evaluate_astra import evaluate_astra
    from astra_sim.eval.astra_report import format_astra_summary

    overrides = list(args.overrides)
    overrides += [f"out={args.out}"] if args.out else []
    overrides += [f"pictures={args.pictures}"] if args.pictures is not None else []
    config = load_recipe(EvalAstraConfig, args.recipe, overrides)
    summary = evaluate_astra(config)
    print(format_astra_summary(summary), end="")
    print(f"seconds: {summary['seconds']}")
    print(f"wrote {config.out}/summary.json, summary.md, episodes.jsonl, ladder.png")
    return 0
