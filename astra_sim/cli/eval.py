"""``astra-sim eval``: one parent command; each evaluation lives in its own module.

``eval localization`` scores Astra-Global localizers on held-out scenes, ``eval nav`` runs
closed-loop navigation episodes over Ray workers, ``eval odometry`` scores odometry
methods on held-out trajectories with evo's APE/RPE, ``eval astra`` drives the composed
Astra agent with its oracle ladder.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    from astra_sim.cli import eval_astra, eval_compare, eval_localization, eval_nav, eval_odometry

    p = sub.add_parser("eval", help="evaluate localizers or navigation agents")
    evsub = p.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    eval_astra.add_parser(evsub)
    eval_localization.add_parser(evsub)
    eval_nav.add_parser(evsub)
    eval_odometry.add_parser(evsub)
    eval_compare.add_parser(evsub)
