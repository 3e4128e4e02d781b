"""``astra-sim train local --recipe R [key=value ...]``: one entry for the Astra-Local trainers.

The recipe says what it trains by its keys, so one command serves the three recipe
families in ``agents/``: a ``planner`` section (planning heads), an ``odometry`` section or
``method`` (odometry head, BEV-ODOM), a ``stage`` (3D/4D encoders).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

KINDS = {
    "planner": "astra_sim.agents.astra_local.train_planner",
    "odometry": "astra_sim.agents.astra_local.train_odometry",
    "encoder": "astra_sim.agents.astra_local.train_encoder",
}


def recipe_kind(path: str | Path) -> str:
    """Which trainer a recipe is for, from its top-level keys.

    Raises:
        FileNotFoundError: if the recipe does not exist.
        ValueError: if its keys match no trainer.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe {path} does not exist")
    doc = yaml.safe_load(path.read_text()) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"recipe {path} must be a mapping at the top level")
    if "planner" in doc:
        return "planner"
    if "odometry" in doc or "method" in doc:
        return "odometry"
    if "stage" in doc:
        return "encoder"
    raise ValueError(
        f"recipe {path} names no trainer: expected a 'planner' or 'odometry' section or a "
        "'stage' key (see agents/astra_local_*.yaml)"
    )


def add_parsers(tsub: Any) -> None:
    p = tsub.add_parser("local", help="train an Astra-Local model (planner, odometry, encoder)")
    p.add_argument("--recipe", type=Path, required=True, help="agents/astra_local_*.yaml")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import importlib

    module = importlib.import_module(KINDS[recipe_kind(args.recipe)])
    return int(module.main(["--recipe", str(args.recipe), *args.overrides]) or 0)
