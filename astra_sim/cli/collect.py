"""``astra-sim collect``: Ray actors run the expert over many episodes into a dataset.

    astra-sim collect --recipe train/collect_pointnav.yaml env.episodes=200 ray.workers=8
    astra-sim collect --recipe train/collect_pointnav.yaml ray.address=auto   # a cluster

Running the same command again resumes an interrupted collection: finished episodes are
kept and skipped. A folder holding another dataset is refused.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "collect",
        help="collect expert demonstrations into a Parquet episode dataset (on Ray)",
        description="Collect episodes with Ray actors (one env each) into a dataset folder.",
    )
    p.add_argument("--recipe", type=Path, help="YAML recipe (train/collect_*.yaml)")
    p.add_argument("--out", help="dataset folder (same as the override out=DIR)")
    p.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. env.episodes=8"
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from astra_sim.core.recipe import load_recipe
    from astra_sim.distributed.collect import collect
    from astra_sim.distributed.config import CollectConfig

    overrides = list(args.overrides) + ([f"out={args.out}"] if args.out else [])
    config = load_recipe(CollectConfig, args.recipe, overrides)
    info = collect(config)
    rate = info["new_steps"] / max(info["seconds"], 1e-9)
    print(
        f"{config.out}: {info['total_episodes']} episodes, {info['total_frames']} steps "
        f"({info['skipped']} episodes already there); {info['new_steps']} new steps in "
        f"{info['seconds']:.1f} s = {rate:.0f} steps/s"
    )
    stats = json.loads((Path(config.out) / "meta" / "stats.json").read_text())
    print(f"features with statistics: {', '.join(stats)}")
    return 0
