"""``astra-sim train global-sft|global-grpo``: train Astra-Global's MLLM from a recipe.

Both take ``--recipe FILE`` and dotted ``key=value`` overrides (``train.max_steps=2
model=outputs/global_sft/final``); the recipe schemas are `SFTRecipe` and `GRPORecipe` in
`astra_sim.agents.astra_global.mllm`. TRL prints its log every ``train.logging_steps``
(GRPO: ``rewards/<name>/mean`` per reward); a summary and the per-reward means over the
run follow, and ``<output_dir>/report.json`` keeps them with the checkpoint path.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parsers(tsub: Any) -> None:
    """Add ``global-sft`` and ``global-grpo`` to the ``astra-sim train`` subparsers."""
    for name, what, func in (
        ("global-sft", "SFT of the Astra-Global MLLM on the task mixture (TRL)", run_sft_cli),
        ("global-grpo", "GRPO of the Astra-Global MLLM on coarse/filter rewards", run_grpo_cli),
    ):
        p = tsub.add_parser(name, help=what)
        p.add_argument("--recipe", type=Path, required=True, help="YAML recipe (train/global_*)")
        p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides")
        p.set_defaults(func=func)


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("recipe", "losses")}


def run_sft_cli(args: argparse.Namespace) -> int:
    from astra_sim.agents.astra_global.mllm.sft import SFTRecipe, run_sft
    from astra_sim.core.recipe import load_recipe

    recipe = load_recipe(SFTRecipe, args.recipe, args.overrides)
    report = run_sft(recipe)
    print(json.dumps(_summary(report), indent=1))
    print("losses per logging step: " + ", ".join(f"{x:.4f}" for x in report["losses"]))
    return 0


def run_grpo_cli(args: argparse.Namespace) -> int:
    from astra_sim.agents.astra_global.mllm.grpo import GRPORecipe, run_grpo
    from astra_sim.core.recipe import load_recipe

    recipe = load_recipe(GRPORecipe, args.recipe, args.overrides)
    report = run_grpo(recipe)
    print(json.dumps(_summary(report), indent=1))
    print("per-reward means over the run:")
    for name in report["reward_weights"]:
        mean = report["reward_means"].get(name)
        print(f"  {name:<28} " + ("n/a (no row of its stage)" if mean is None else f"{mean:.4f}"))
    return 0
