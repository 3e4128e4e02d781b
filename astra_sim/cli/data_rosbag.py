"""``astra-sim data import-rosbag``: real robot logs (ROS 1 / ROS 2 bags) -> a dataset.

    astra-sim data import-rosbag run1.bag run2.bag --config topics.yaml --out outputs/data/real
    astra-sim eval odometry --data outputs/data/real --out outputs/eval/odometry_real \\
        --tum outputs/eval/odometry_real/tum

One episode per bag (ROS 1 ``.bag``, a ROS 2 bag folder, or its ``.db3`` / ``.mcap``
file). ``topics.yaml`` says which topic is which sensor (see
``astra_sim.data.rosbag.topics``); dotted ``key=value`` overrides change it (``max_gap=0.5``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(dsub: Any) -> None:
    """Add ``import-rosbag`` to the ``astra-sim data`` subparsers."""
    p = dsub.add_parser(
        "import-rosbag",
        help="import ROS 1 / ROS 2 bags (no ROS install) as an episode dataset",
        description="Read, synchronise and write bags as one dataset, one episode per bag.",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="BAG",
        help="bags (.bag, .db3, .mcap or a ROS 2 bag folder), then any KEY=VALUE overrides",
    )
    p.add_argument("--config", type=Path, required=True, help="topics.yaml: topic roles, rates")
    p.add_argument("--out", type=Path, required=True, help="new dataset folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from astra_sim.data.rosbag.importer import import_rosbag
    from astra_sim.data.rosbag.topics import load_topics

    # A bag path holds no "=", an override always does.
    bags = [Path(x) for x in args.inputs if "=" not in x]
    overrides = [x for x in args.inputs if "=" in x]
    info = import_rosbag(bags, load_topics(args.config, overrides), args.out)
    rates = {
        topic: t["rate_hz"] for bag in info["rosbag"]["bags"] for topic, t in bag["topics"].items()
    }
    print(
        json.dumps(
            {
                "out": str(args.out),
                "episodes": info["total_episodes"],
                "frames": info["total_frames"],
                "control_hz": info["fps"],
                "topic_rates_hz": rates,
            },
            indent=1,
        )
    )
    return 0


__all__ = ["add_parser", "run"]
