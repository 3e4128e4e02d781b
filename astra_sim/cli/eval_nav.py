"""``astra-sim eval nav``: closed-loop navigation episodes over Ray workers, and a report.

    astra-sim eval nav --recipe train/eval_pointnav.yaml --out outputs/eval/expert
    astra-sim eval nav --recipe train/eval_pointnav.yaml agent.name=sb3 \\
        agent.checkpoint=outputs/sb3/ppo.zip --out outputs/eval/ppo
    astra-sim eval nav --recipe train/eval_pointnav.yaml --agent planner_fallback \\
        --out outputs/eval/flow_fallback

``--agent``/``--checkpoint`` are short for ``agent.name=``/``agent.checkpoint=``; a
planner agent given no checkpoint drives the shipped flow-matching head
(``agents/checkpoints/planner/flow_esdf.pt``).

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
        "--agent",
        help="agent name, as agent.name= (expert, random, sb3, rllib, planner, "
        "planner_fallback or module:Class)",
    )
    p.add_argument("--checkpoint", help="the agent's checkpoint, as agent.checkpoint=")
    p.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. ray.workers=4"
    )
    p.set_defaults(func=_run)


PLANNERS = ("planner", "planner_fallback")
DEFAULT_PLANNER = "planner/flow_esdf.pt"
"""The shipped planner a planner agent drives when no checkpoint is named."""


def agent_overrides(args: argparse.Namespace) -> list[str]:
    """``--agent``/``--checkpoint`` as overrides, with the shipped planner as default."""
    from astra_sim.core.shipped import shipped_checkpoints

    out = [f"agent.name={args.agent}"] if args.agent else []
    if args.checkpoint:
        out.append(f"agent.checkpoint={args.checkpoint}")
    elif args.agent in PLANNERS and not any(
        o.startswith("agent.checkpoint=") for o in args.overrides
    ):
        out.append(f"agent.checkpoint={shipped_checkpoints() / DEFAULT_PLANNER}")
    return out


def _run(args: argparse.Namespace) -> int:
    from astra_sim.core.recipe import load_recipe
    from astra_sim.distributed.config import EvalConfig
    from astra_sim.distributed.evaluate import evaluate_nav
    from astra_sim.eval.nav import format_summary

    overrides = [*agent_overrides(args), *args.overrides]
    overrides += [f"out={args.out}"] if args.out else []
    config = load_recipe(EvalConfig, args.recipe, overrides)
    summary = evaluate_nav(config)
    print(format_summary(summary), end="")
    print(f"wrote {config.out}/summary.json, summary.md, episodes.jsonl" +
          (", metrics.png" if config.plots else ""))  # fmt: skip
    return 0
