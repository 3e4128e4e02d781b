"""The planning results table: collision rate, success and mean speed per planner and scene kind.

Reads ``astra-sim eval nav`` report folders (their ``episodes.jsonl``). The paper's
collision rate is the share of episodes with at least one collision; mean speed is path
length over time per episode, averaged.

    python -m astra_sim.agents.astra_local.plan_table flow=outputs/eval/flow_a,outputs/eval/flow_b
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def planner_rows(name: str, *folders: str | Path) -> list[dict[str, Any]]:
    """One row per scene kind plus an ``all`` row over the episodes of the report folders."""
    episodes = []
    for folder in folders:
        lines = (Path(folder) / "episodes.jsonl").read_text().splitlines()
        episodes += [json.loads(line) for line in lines if line.strip()]
    rows = []
    for kind in [*sorted({e["scene_kind"] for e in episodes}), "all"]:
        sel = [e for e in episodes if kind in ("all", e["scene_kind"])]
        speed = [e["path_length"] / e["time"] for e in sel if e["time"] > 0]
        rows.append(
            {
                "planner": name,
                "scenes": kind,
                "episodes": len(sel),
                "collision_rate": float(np.mean([e["collisions"] > 0 for e in sel])),
                "success": float(np.mean([e["success"] for e in sel])),
                "mean_speed": float(np.mean(speed)) if speed else 0.0,
            }
        )
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of ``planner_rows`` output."""
    out = [
        "| planner | scenes | episodes | collision rate | success | mean speed (m/s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['planner']} | {r['scenes']} | {r['episodes']} | {r['collision_rate']:.3f} "
            f"| {r['success']:.3f} | {r['mean_speed']:.3f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    rows = []
    for item in argv if argv is not None else sys.argv[1:]:
        name, _, folders = item.partition("=")
        rows += planner_rows(name, *folders.split(","))
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
