"""The report of ``astra-sim eval astra``: the paper's Table 1 beside ours, the oracle
ladder, the failure breakdown, and the agent's CPU cost.

Files of a report folder:

    episodes.jsonl   one object per episode per ladder row (row order, then index)
    summary.json     per kind of the no-oracle row: episodes, end_to_end_sr,
                     goal_localization_sr, self_localization_sr, fallback_rate, spl,
                     collisions_per_m; "ablations" (every row), "failures", "cost_ms"
    summary.md       the tables
    recipe.json      what was evaluated
    ladder.png       end-to-end success per row and kind
    pictures/        top-down pictures and animations of the first episodes (--pictures)
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.agents.astra.config import ORACLE_LADDER
from astra_sim.core.fileio import atomic_write
from astra_sim.eval.astra_outcome import CAUSES
from astra_sim.eval.nav import check_report_folder

ABLATION_ORDER = ORACLE_LADDER
FAILURES = CAUSES
PAPER_TABLE1 = {
    "warehouse": {"end_to_end_sr": 0.842, "goal_localization_sr": 0.983,
                  "self_localization_sr": 0.859, "fallback_rate": 0.083},
    "office": {"end_to_end_sr": 0.991, "goal_localization_sr": 0.991,
               "self_localization_sr": 1.0, "fallback_rate": 0.156},
}  # fmt: skip
"""Astra (ByteDance Seed 2025), Table 1: real warehouse and office; no home row."""
ROW_CAPTION = {
    "none": "no oracle: the agent from its own senses (the result)",
    "goal": "true goal region instead of goal localization",
    "goal+start": "... and the true start pose",
    "goal+start+pose": "... and the true pose every step (no odometry, no fixes)",
    "all": "... and the privileged geodesic planner on the scene's grid",
}


def _kind_row(sel: list[dict[str, Any]]) -> dict[str, float]:
    plans = sum(e.get("plans") or 0 for e in sel)
    path = sum(e["path_length"] for e in sel)
    return {
        "episodes": len(sel),
        "end_to_end_sr": round(float(np.mean([e["success"] for e in sel])), 4),
        "goal_localization_sr": round(float(np.mean([bool(e["goal_localized"]) for e in sel])), 4),
        "self_localization_sr": round(float(np.mean([bool(e["self_localized"]) for e in sel])), 4),
        "fallback_rate": round(sum(e.get("fallbacks") or 0 for e in sel) / plans, 4)
        if plans
        else 0.0,
        "spl": round(float(np.mean([e["spl"] for e in sel])), 4),
        "collisions_per_m": round(sum(e["collisions"] for e in sel) / path, 4) if path else 0.0,
    }


def _per_kind(episodes: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    kinds = sorted({e["scene_kind"] for e in episodes})
    return {k: _kind_row([e for e in episodes if e["scene_kind"] == k]) for k in kinds}


def summarize_astra(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary (see the module docstring); the headline is the no-oracle row."""
    rows = [r for r in ABLATION_ORDER if any(e["ablation"] == r for e in episodes)]
    if not rows:
        raise ValueError("no episodes of a known ladder row to summarize")
    by_row = {r: [e for e in episodes if e["ablation"] == r] for r in rows}
    head = "none" if "none" in by_row else rows[0]
    out: dict[str, Any] = dict(_per_kind(by_row[head]))
    out["headline_row"] = head
    out["ablations"] = {r: _per_kind(by_row[r]) for r in rows}
    out["failures"] = {
        r: {
            k: {c: sum(e["outcome"] == c for e in sel if e["scene_kind"] == k) for c in FAILURES}
            for k in sorted({e["scene_kind"] for e in sel})
        }
        for r, sel in by_row.items()
    }
    costs: dict[str, list[float]] = {}
    for e in by_row[head]:
        for name, v in (e.get("cost_ms") or {}).items():
            if v is not None:
                costs.setdefault(name, []).append(float(v))
    out["cost_ms"] = {n: round(float(np.mean(v)), 3) for n, v in costs.items()}
    return out


def _kinds(summary: dict[str, Any]) -> list[str]:
    return [k for k in summary if isinstance(summary[k], dict) and "end_to_end_sr" in summary[k]]


def format_astra_summary(summary: dict[str, Any], title: str = "") -> str:
    """Markdown: Table 1 side by side, the ladder, the failures, the cost."""
    kinds = sorted(_kinds(summary), key=lambda k: ("warehouse", "office", "home").index(k)
                   if k in ("warehouse", "office", "home") else 9)  # fmt: skip
    f = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [f"{title}\n" if title else ""]
    lines += [
        f"Paper (real robot) beside ours (row `{summary['headline_row']}`, simulated, held-out "
        "scenes). SR: success rate.",
        "",
        "| kind | end-to-end SR paper | ours | goal loc. SR paper | ours | self-loc. SR paper"
        " | ours | fallback rate paper | ours | SPL | collisions/m | episodes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k in kinds:
        s, p = summary[k], PAPER_TABLE1.get(k, {})
        cells = [k]
        for key in ("end_to_end_sr", "goal_localization_sr", "self_localization_sr",
                    "fallback_rate"):  # fmt: skip
            cells += [f(p.get(key)), f(s[key])]
        cells += [f(s["spl"]), f(s["collisions_per_m"]), str(s["episodes"])]
        lines.append("| " + " | ".join(cells) + " |")
    lad = summary["ablations"]
    lines += [
        "",
        "Oracle ladder: each row swaps one more stage for ground truth, on the same episodes. "
        "Rows other than `none` read ground truth: they attribute failures, they are not "
        "results. Cells: end-to-end / goal loc. / self-loc. SR.",
        "",
        "| row | what the oracle replaces | " + " | ".join(kinds) + " |",
        "|---|---|" + "---|" * len(kinds),
    ]
    for r, per in lad.items():
        cells = [
            f"{per[k]['end_to_end_sr']:.2f} / {per[k]['goal_localization_sr']:.2f} / "
            f"{per[k]['self_localization_sr']:.2f}"
            if k in per
            else "—"
            for k in kinds
        ]
        lines.append(f"| `{r}` | {ROW_CAPTION.get(r, r)} | " + " | ".join(cells) + " |")
    lines += ["", "Failure causes (episodes), per row and kind:", ""]
    lines += ["| row | kind | " + " | ".join(FAILURES) + " |", "|---|---|" + "---|" * len(FAILURES)]
    for r, per in summary["failures"].items():
        for k, counts in per.items():
            lines.append(f"| `{r}` | {k} | " + " | ".join(str(counts[c]) for c in FAILURES) + " |")
    cost = summary.get("cost_ms") or {}
    if cost:
        parts = [f"{n} {v:.1f} ms" + (" per fix" if n == "localizer" else " per step")
                 for n, v in cost.items()]  # fmt: skip
        lines += ["", "Agent CPU cost (row `none`, one core): " + ", ".join(parts) + "."]
    return "\n".join(lines) + "\n"


def plot_ladder(summary: dict[str, Any]) -> bytes:
    """PNG bytes: end-to-end SR per ladder row, grouped by kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lad = summary["ablations"]
    rows, kinds = list(lad), sorted(_kinds(summary))
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = np.arange(len(kinds))
    w = 0.8 / max(len(rows), 1)
    for i, r in enumerate(rows):
        vals = [lad[r].get(k, {}).get("end_to_end_sr", 0.0) for k in kinds]
        ax.bar(x + (i - (len(rows) - 1) / 2) * w, vals, w, label=r)
    for k, p in PAPER_TABLE1.items():
        if k in kinds:
            j = kinds.index(k)
            ax.hlines(p["end_to_end_sr"], j - 0.45, j + 0.45, colors="k", linestyles="--")
    ax.set_xticks(x, kinds)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("end-to-end success")
    ax.set_title("oracle ladder (dashed: the paper's real-robot figure)")
    ax.legend(fontsize=7, ncol=len(rows), loc="lower center")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def write_astra_report(
    out: str | Path,
    episodes: list[dict[str, Any]],
    recipe: dict[str, Any],
    title: str = "",
    pictures: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    """Write the report folder (each file atomically); returns the summary."""
    out = Path(out)
    check_report_folder(out, recipe)
    order = {r: i for i, r in enumerate(ABLATION_ORDER)}
    episodes = sorted(episodes, key=lambda e: (order.get(e["ablation"], 99), e["episode_index"]))
    summary = summarize_astra(episodes)
    lines = "".join(json.dumps(e, sort_keys=True) + "\n" for e in episodes)
    atomic_write(out / "episodes.jsonl", lines.encode())
    atomic_write(out / "summary.json", (json.dumps(summary, indent=1) + "\n").encode())
    atomic_write(out / "summary.md", format_astra_summary(summary, title).encode())
    atomic_write(out / "recipe.json", (json.dumps(recipe, indent=1) + "\n").encode())
    atomic_write(out / "ladder.png", plot_ladder(summary))
    for name, data in (pictures or {}).items():
        atomic_write(out / "pictures" / name, data)
    return summary
