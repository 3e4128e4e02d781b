"""Goal localization from language over the held-out scenes of a localization run.

Each scene's generated instructions (objects, rooms, shelves, functions, each in several
paraphrases) are localized from a few seeded start nodes with the offline MiniLM model; the
report pools all trials and breaks them down per scene kind and per instruction type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from astra_sim.mapping.graph import TopoSemanticMap
from astra_sim.scenes.model import Scene


def goal_summary(
    worlds: dict[str, list[tuple[Scene, TopoSemanticMap]]],
    seed: int = 0,
    starts: int = 4,
    localizer: Any = None,
) -> dict[str, Any]:
    """``{"success": fraction, "count": trials, "per_kind": {kind: {...}}}``."""
    from astra_sim.agents.astra_global.goal_localization import GoalLocalizer
    from astra_sim.agents.astra_global.instructions import (
        evaluate_goal_localization,
        generate_instructions,
        sample_starts,
    )

    localizer = localizer or GoalLocalizer()
    per_kind: dict[str, Any] = {}
    every: list[tuple[float, int]] = []
    for kind, pairs in worlds.items():
        rows = []
        for scene, topo in pairs:
            instructions = generate_instructions(scene, topo, seed=seed)
            if not instructions:
                continue
            res = evaluate_goal_localization(
                localizer, topo, instructions, sample_starts(topo, starts, seed)
            )
            rows.append(res)
        if not rows:
            continue
        count = sum(r["count"] for r in rows)
        success = sum(r["success"] * r["count"] for r in rows) / count
        by_type: dict[str, list[tuple[float, int]]] = {}
        for r in rows:
            for t, v in r["by_kind"].items():
                by_type.setdefault(t, []).append((v["success"], v["count"]))
        per_kind[kind] = {
            "success": success,
            "count": count,
            "by_type": {t: _pool(v) for t, v in sorted(by_type.items())},
            "failures": rows[0]["failures"][:5],
        }
        every.append((success, count))
    if not every:
        raise ValueError("no scene offered a language goal to evaluate")
    pooled = _pool(every)
    return {"success": pooled["success"], "count": pooled["count"], "per_kind": per_kind}


def _pool(parts: list[tuple[float, int]]) -> dict[str, float | int]:
    count = int(sum(c for _, c in parts))
    return {"success": float(np.sum([s * c for s, c in parts]) / count), "count": count}
