"""``astra-sim eval nav``: closed-loop navigation episodes over Ray workers, and a report.

    astra-sim eval nav --recipe train/eval_pointnav.yaml --out outputs/eval/expert
    astra-sim eval nav --recipe train/eval_pointnav.yaml agent.name=sb3 \\
        agent.checkpoint=outputs/sb3/ppo.zip --out outputs/eval/ppo

The report folder holds episodes.jsonl, summary.json (per scene kind: success, spl,
soft_spl, collisions_per_m, path_length, time, episodes), summary.md and metrics.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "nav",
        help="evaluate a navigation agent (expert, random, SB3 or RLlib checkpoint) on Ray",
        description="Fan closed-loop episodes out over Ray workers and write a report folder.",
    )
    p.add_argument("--recipe", type=Path, help="YAML recipe (train/eval_*.yaml)")
    p.add_argument("--out", help="report folder (same as the override out=DIR)")
    p.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. ray.workers=4"
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from astra_sim.core.recipe import load_recipe
    from astra_sim.distributed.config import EvalConfig
    from astra_sim.distributed.evaluate import evaluate_nav
    from astra_sim.eval.nav import format_summary

    overrides = list(args.overrides) + ([f"out={args.out}"] if args.out else [])
    config = load_recipe(EvalConfig, args.recipe, overrides)
    summary = evaluate_nav(config)
    print(format_summary(summary), end="")
    print(f"wrote {config.out}/summary.json, summary.md, episodes.jsonl" +
          (", metrics.png" if config.plots else ""))  # fmt: skip
    return 0
