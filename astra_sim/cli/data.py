"""``astra-sim data global``: write Astra-Global's training datasets from the simulator.

``--recipe FILE`` (schema `DataRecipe` in `astra_sim.agents.astra_global.mllm.data`) plus
dotted ``key=value`` overrides; one Hugging Face ``datasets`` folder per task (train and
test splits by scene seed) under the recipe's ``out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Add ``data`` (with ``global``) to the top-level ``astra-sim`` subparsers."""
    p = sub.add_parser("data", help="write training datasets from the simulator")
    dsub = p.add_subparsers(dest="data_command", metavar="DATASET", required=True)
    g = dsub.add_parser("global", help="Astra-Global MLLM tasks (coarse, fine, covis, ...)")
    g.add_argument("--recipe", type=Path, required=True, help="YAML recipe (train/global_data_*)")
    g.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides")
    g.set_defaults(func=run_global)
    from astra_sim.cli import data_rosbag

    data_rosbag.add_parser(dsub)


def run_global(args: argparse.Namespace) -> int:
    from astra_sim.agents.astra_global.mllm.data import DataRecipe, write_global_datasets
    from astra_sim.core.recipe import load_recipe

    recipe = load_recipe(DataRecipe, args.recipe, args.overrides)
    counts = write_global_datasets(recipe)
    print(json.dumps({"out": recipe.out, "rows": counts}, indent=1))
    return 0
