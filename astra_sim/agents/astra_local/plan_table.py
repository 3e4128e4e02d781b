"""The planning results table: collision rate, success and mean speed per planner and scene kind.

Reads ``astra-sim eval nav`` report folders (their ``episodes.jsonl``). The paper's
collision rate is the share of episodes with at least one collision; mean speed is path
length over time per episode, averaged. ``--paired A,B`` compares two planners on the
episodes both drove (matched by episode id): an ablation run on the same episodes is a
paired experiment, and McNemar's exact test on the episodes where exactly one of them
collided says whether the difference is more than luck.

    python -m astra_sim.agents.astra_local.plan_table flow=outputs/eval/flow_a,outputs/eval/flow_b
    python -m astra_sim.agents.astra_local.plan_table a=DIR b=DIR --paired a,b
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def read_episodes(*folders: str | Path) -> list[dict[str, Any]]:
    """The episode records of report folders, in order."""
    episodes = []
    for folder in folders:
        lines = (Path(folder) / "episodes.jsonl").read_text().splitlines()
        episodes += [json.loads(line) for line in lines if line.strip()]
    return episodes


def paired(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, Any]:
    """Collision rates of two planners on their common episodes and McNemar's exact p.

    Raises:
        ValueError: if the two share no episode id.
    """
    from scipy.stats import binomtest

    hit_a = {e["episode_id"]: e["collisions"] > 0 for e in a}
    hit_b = {e["episode_id"]: e["collisions"] > 0 for e in b}
    common = sorted(set(hit_a) & set(hit_b))
    if not common:
        raise ValueError("the two planners share no episode (different env seeds?)")
    only_a = sum(hit_a[k] and not hit_b[k] for k in common)
    only_b = sum(hit_b[k] and not hit_a[k] for k in common)
    p = binomtest(only_a, only_a + only_b).pvalue if only_a + only_b else 1.0
    return {
        "episodes": len(common),
        "collision_rate_a": float(np.mean([hit_a[k] for k in common])),
        "collision_rate_b": float(np.mean([hit_b[k] for k in common])),
        "only_a_collided": only_a,
        "only_b_collided": only_b,
        "mcnemar_p": float(p),
    }


def planner_rows(name: str, *folders: str | Path) -> list[dict[str, Any]]:
    """One row per scene kind plus an ``all`` row over the episodes of the report folders."""
    episodes = read_episodes(*folders)
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
    args = list(argv if argv is not None else sys.argv[1:])
    pairs = []
    while "--paired" in args:
        i = args.index("--paired")
        pairs.append(args[i + 1].split(","))
        del args[i : i + 2]
    rows, folders = [], {}
    for item in args:
        name, _, paths = item.partition("=")
        folders[name] = paths.split(",")
        rows += planner_rows(name, *folders[name])
    print(format_table(rows))
    for a, b in pairs:
        r = paired(read_episodes(*folders[a]), read_episodes(*folders[b]))
        print(
            f"{a} vs {b}: {r['episodes']} common episodes, collision rate "
            f"{r['collision_rate_a']:.3f} vs {r['collision_rate_b']:.3f}; only {a} collided in "
            f"{r['only_a_collided']}, only {b} in {r['only_b_collided']}; McNemar p = "
            f"{r['mcnemar_p']:.3g}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
