"""``astra-sim eval compare``: Sim2Real predictivity (SRCC) of two evaluation reports.

    astra-sim eval compare outputs/eval/sim outputs/eval/real.json --out outputs/eval/srcc

Over the agents both reports hold: Spearman's rank correlation of success and of SPL
(Pearson's r beside it), printed and written to ``DIR/compare.json`` / ``compare.md``,
with the scatter plot ``DIR/compare.png``. What a REPORT may be (a folder of ``eval nav``
reports, an ``eval astra`` report, a hand-written ``{"agents": ...}`` file) is in
``astra_sim.eval.compare``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="rank correlation (SRCC) of success and SPL between two reports, e.g. sim vs real",
        description="Sim2Real predictivity: Spearman correlation over the agents both hold.",
    )
    p.add_argument("report_a", type=Path, metavar="REPORT_A", help="e.g. the simulator's")
    p.add_argument("report_b", type=Path, metavar="REPORT_B", help="e.g. the real robot's")
    p.add_argument("--out", type=Path, required=True, help="folder for compare.json/.md/.png")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from astra_sim.eval.compare import compare_reports, format_comparison

    result = compare_reports(args.report_a, args.report_b, args.out)
    print(format_comparison(result), end="")
    print(f"wrote {args.out / 'compare.json'}, compare.md, compare.png")
    return 0


__all__ = ["add_parser", "run"]
