"""Navigation evaluation reports: per-episode lines, a summary per scene kind, plots.

The summary is computed from the episode lines in episode-index order, so the same
episodes give the same numbers however many workers played them. Files of a report
folder:

    episodes.jsonl   one JSON object per episode (index order)
    summary.json     {scene kind: {episodes, success, spl, soft_spl, collisions_per_m,
                     path_length, time, steps}}
    summary.md       the same as a table
    recipe.json      what was evaluated (env and agent)
    metrics.png      success / SPL / soft-SPL per kind, and SPL against path difficulty
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.errors import AstraSimError
from astra_sim.core.fileio import atomic_write

SUMMARY_KEYS = ("success", "spl", "soft_spl", "collisions_per_m", "path_length", "time", "steps")


class ReportExistsError(AstraSimError, FileExistsError):
    """The report folder holds a report of another evaluation."""


def summarize(episodes: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Means per scene kind; collisions per metre is total collisions over total path."""
    out: dict[str, dict[str, float]] = {}
    for kind in sorted({e["scene_kind"] for e in episodes}):
        sel = sorted(
            (e for e in episodes if e["scene_kind"] == kind), key=lambda e: e["episode_index"]
        )
        path = sum(e["path_length"] for e in sel)
        row: dict[str, float] = {"episodes": len(sel)}
        for key in ("success", "spl", "soft_spl", "path_length", "time", "steps"):
            row[key] = round(float(np.mean([e[key] for e in sel])), 4)
        row["collisions_per_m"] = (
            round(sum(e["collisions"] for e in sel) / path, 4) if path else 0.0
        )
        out[kind] = row
    return out


def format_summary(summary: dict[str, dict[str, float]], title: str = "") -> str:
    """A Markdown table of the summary, one row per scene kind."""
    head = ["scene kind", "episodes", "success", "SPL", "soft-SPL", "coll./m", "path m", "time s"]
    rows = [f"| {' | '.join(head)} |", f"|{'---|' * len(head)}"]
    for kind, s in summary.items():
        cells = [kind, str(s["episodes"])] + [
            f"{s[k]:.3f}" for k in ("success", "spl", "soft_spl", "collisions_per_m")
        ] + [f"{s['path_length']:.2f}", f"{s['time']:.1f}"]  # fmt: skip
        rows.append(f"| {' | '.join(cells)} |")
    return (f"{title}\n\n" if title else "") + "\n".join(rows) + "\n"


def check_report_folder(out: str | Path, recipe: dict[str, Any]) -> None:
    """Refuse a folder holding another evaluation's report (same recipe: rewritten)."""
    path = Path(out) / "recipe.json"
    if path.is_file():
        old = json.loads(path.read_text())
        if old != recipe:
            keys = sorted(k for k in set(old) | set(recipe) if old.get(k) != recipe.get(k))
            raise ReportExistsError(
                f"{out} holds the report of another evaluation (differs in: {', '.join(keys)}); "
                f"choose another --out. Nothing was written."
            )


def write_report(
    out: str | Path,
    episodes: list[dict[str, Any]],
    recipe: dict[str, Any],
    plots: bool = True,
    title: str = "",
) -> dict[str, dict[str, float]]:
    """Write the report folder (each file atomically); returns the summary."""
    out = Path(out)
    check_report_folder(out, recipe)
    episodes = sorted(episodes, key=lambda e: e["episode_index"])
    summary = summarize(episodes)
    lines = "".join(json.dumps(e, sort_keys=True) + "\n" for e in episodes)
    atomic_write(out / "episodes.jsonl", lines.encode())
    atomic_write(out / "summary.json", (json.dumps(summary, indent=1) + "\n").encode())
    atomic_write(out / "summary.md", format_summary(summary, title).encode())
    atomic_write(out / "recipe.json", (json.dumps(recipe, indent=1) + "\n").encode())
    if plots:
        atomic_write(out / "metrics.png", plot_metrics(episodes, summary))
    return summary


def plot_metrics(episodes: list[dict[str, Any]], summary: dict[str, dict[str, float]]) -> bytes:
    """PNG bytes: bars of success / SPL / soft-SPL per kind; SPL against geodesic distance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (bars, scatter) = plt.subplots(1, 2, figsize=(10, 4))
    kinds = list(summary)
    x = np.arange(len(kinds))
    for i, (key, label) in enumerate(
        (("success", "success"), ("spl", "SPL"), ("soft_spl", "soft-SPL"))
    ):
        bars.bar(x + (i - 1) * 0.27, [summary[k][key] for k in kinds], 0.27, label=label)
    bars.set_xticks(x, [f"{k}\n({summary[k]['episodes']} ep.)" for k in kinds])
    bars.set_ylim(0, 1.25)
    bars.legend(loc="upper center", ncol=3, fontsize=8)
    bars.set_title("per scene kind")
    for kind in kinds:
        sel = [e for e in episodes if e["scene_kind"] == kind]
        scatter.scatter(
            [e["geodesic_distance"] for e in sel], [e["spl"] for e in sel], label=kind, s=14
        )
    scatter.set_xlabel("geodesic distance start-goal (m)")
    scatter.set_ylabel("SPL")
    scatter.set_ylim(-0.05, 1.05)
    scatter.legend(fontsize=8)
    scatter.set_title("per episode")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()
