"""The report of ``astra-sim eval astra``: the paper's Table 1 beside ours, the oracle
ladder, the failure breakdown, and the agent's CPU cost.

Only the no-oracle row (``none``) is a result; the other ladder rows read ground truth and
exist to say which stage the failures of ``none`` come from. So the headline numbers (the
top-level kinds of the summary) are computed from ``none`` alone, and every number is
pooled over episodes in row-then-index order, so the same episodes give the same report
however many workers played them. Files of a report folder:

    episodes.jsonl   one object per episode per ladder row (row order, then index)
    summary.json     per kind of the headline row: episodes, end_to_end_sr,
                     goal_localization_sr, self_localization_sr, fallback_rate, spl,
                     collisions_per_m; "headline_row", "ablations" (every row),
                     "failures" (row -> kind -> cause -> count), "cost_ms"
    summary.md       the same as tables
    recipe.json      what was evaluated
    ladder.png       end-to-end success per ladder row, grouped by kind
    pictures/        top-down pictures and animations of some episodes (optional)
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.agents.astra.config import ORACLE_LADDER
from astra_sim.core.fileio import atomic_write
from astra_sim.eval.nav import check_report_folder

ABLATION_ORDER: tuple[str, ...] = tuple(ORACLE_LADDER)
"""The ladder rows from no oracle to every oracle (one source: the agent's config)."""
FAILURES = ("goal_not_found", "goal_wrong", "lost", "collision", "timeout", "stopped_short")
"""Failure causes in the order of the system's stages; equal to ``astra_outcome.CAUSES``
(a test keeps them equal), spelt out here so reading a report needs no agent imports."""
PAPER_TABLE1: dict[str, dict[str, float]] = {
    "warehouse": {"end_to_end_sr": 0.842, "goal_localization_sr": 0.983,
                  "self_localization_sr": 0.859, "fallback_rate": 0.083},
    "office": {"end_to_end_sr": 0.991, "goal_localization_sr": 0.991,
               "self_localization_sr": 1.0, "fallback_rate": 0.156},
}  # fmt: skip
"""Astra (ByteDance Seed 2025), Table 1: real warehouse and office robots; no home row."""
ROW_CAPTION = {
    "none": "nothing: the agent from its own senses (the result)",
    "goal": "goal localization (the true goal region)",
    "goal+start": "... and start self-localization (the true start pose)",
    "goal+start+pose": "... and odometry, fusion, re-localization (the true pose each step)",
    "all": "... and the map route (the privileged geodesic planner)",
}
_PAPER_COLUMNS = ("end_to_end_sr", "goal_localization_sr", "self_localization_sr", "fallback_rate")
_KIND_ORDER = ("warehouse", "office", "home")  # the paper's kinds first, as in Table 1


def _kind_row(sel: list[dict[str, Any]]) -> dict[str, float]:
    """One kind of one row. Rates of counts are pooled (total over total), so a short
    episode with one plan and one fallback does not weigh as much as a long one."""
    plans = sum(e.get("plans") or 0 for e in sel)
    path = sum(e.get("path_length") or 0.0 for e in sel)

    def mean(key: str) -> float:
        return round(float(np.mean([float(e[key] or 0) for e in sel])), 4)

    return {
        "episodes": len(sel),
        "end_to_end_sr": mean("success"),
        "goal_localization_sr": mean("goal_localized"),
        "self_localization_sr": mean("self_localized"),
        "fallback_rate": round(sum(e.get("fallbacks") or 0 for e in sel) / plans, 4)
        if plans
        else 0.0,
        "spl": mean("spl"),
        "collisions_per_m": round(sum(e["collisions"] for e in sel) / path, 4) if path else 0.0,
    }


def _per_kind(episodes: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    kinds = sorted({e["scene_kind"] for e in episodes})
    return {k: _kind_row([e for e in episodes if e["scene_kind"] == k]) for k in kinds}


def _rows(episodes: list[dict[str, Any]]) -> list[str]:
    """Rows present: the ladder's in its order, then any other row by name (never dropped)."""
    present = {e["ablation"] for e in episodes}
    return [r for r in ABLATION_ORDER if r in present] + sorted(present - set(ABLATION_ORDER))


def _sort_key(episode: dict[str, Any]) -> tuple[int, str, int]:
    row = episode["ablation"]
    rank = ABLATION_ORDER.index(row) if row in ABLATION_ORDER else len(ABLATION_ORDER)
    return rank, row, episode["episode_index"]


def summarize_astra(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary (see the module docstring); the headline is the no-oracle row.

    Raises:
        ValueError: If there are no episodes (an empty report would read as 0 % success).
    """
    if not episodes:
        raise ValueError("no episodes to summarize")
    episodes = sorted(episodes, key=_sort_key)
    rows = _rows(episodes)
    by_row = {r: [e for e in episodes if e["ablation"] == r] for r in rows}
    head = "none" if "none" in by_row else rows[0]
    out: dict[str, Any] = dict(_per_kind(by_row[head]))
    out["headline_row"] = head
    out["ablations"] = {r: _per_kind(sel) for r, sel in by_row.items()}
    out["failures"] = {
        r: {
            k: {c: sum(e["outcome"] == c for e in sel if e["scene_kind"] == k) for c in FAILURES}
            for k in sorted({e["scene_kind"] for e in sel})
        }
        for r, sel in by_row.items()
    }
    costs: dict[str, list[float]] = {}
    for e in by_row[head]:
        for name, value in (e.get("cost_ms") or {}).items():
            if value is not None:
                costs.setdefault(name, []).append(float(value))
    out["cost_ms"] = {n: round(float(np.mean(v)), 4) for n, v in sorted(costs.items())}
    return out


def _kinds(summary: dict[str, Any]) -> list[str]:
    """Every kind of any row, the paper's first (a row may cover kinds the headline lacks)."""
    kinds = {k for per in summary["ablations"].values() for k in per}
    return sorted(kinds, key=lambda k: (_KIND_ORDER.index(k) if k in _KIND_ORDER else 9, k))


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def format_astra_summary(summary: dict[str, Any], title: str = "") -> str:
    """Markdown: Table 1 side by side, the ladder, the failures, the cost."""
    head = summary["headline_row"]
    ours = summary["ablations"].get(head, {})
    kinds = _kinds(summary)
    lines = [f"{title}\n"] if title else []
    lines += [f"Paper (real robots) beside ours (row `{head}`, simulated). SR: success rate."]
    if head != "none":
        lines += [f"**Row `none` is absent: `{head}` reads ground truth, so this is no result.**"]
    lines += [
        "",
        "| kind | paper end-to-end SR | ours | paper goal loc. SR | ours | paper self-loc. SR"
        " | ours | paper fallback rate | ours | SPL | collisions/m | episodes |",
        "|" + "---|" * 12,
    ]
    for k in [*PAPER_TABLE1, *(k for k in kinds if k in ours and k not in PAPER_TABLE1)]:
        s, p = ours.get(k), PAPER_TABLE1.get(k, {})
        cells = [k]
        for key in _PAPER_COLUMNS:
            cells += [_num(p.get(key)), _num(s[key] if s else None)]
        if s:
            cells += [_num(s["spl"]), _num(s["collisions_per_m"]), str(s["episodes"])]
        else:
            cells += ["—", "—", "0"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Oracle ladder, on the same episodes: each row swaps one more stage for ground truth. "
        "Rows other than `none` read ground truth: they attribute failures to stages, they "
        "are not results. Cells: end-to-end / goal loc. / self-loc. SR.",
        "",
        "| row | ground truth replaces | " + " | ".join(kinds) + " |",
        "|---|---|" + "---|" * len(kinds),
    ]
    for r, per in summary["ablations"].items():
        cells = [
            f"{per[k]['end_to_end_sr']:.3f} / {per[k]['goal_localization_sr']:.3f} / "
            f"{per[k]['self_localization_sr']:.3f}"
            if k in per
            else "—"
            for k in kinds
        ]
        lines.append(f"| `{r}` | {ROW_CAPTION.get(r, r)} | " + " | ".join(cells) + " |")
    lines += ["", "Failures (episodes), each blamed on the first stage that went wrong:", ""]
    lines += [
        "| row | kind | episodes | " + " | ".join(FAILURES) + " |",
        "|---|---|---|" + "---|" * len(FAILURES),
    ]
    for r, per in summary["failures"].items():
        for k, counts in per.items():
            n = summary["ablations"][r][k]["episodes"]
            cells = [f"`{r}`", k, str(n), *(str(counts[c]) for c in FAILURES)]
            lines.append("| " + " | ".join(cells) + " |")
    cost = summary.get("cost_ms") or {}
    lines += ["", f"Agent CPU cost (row `{head}`, mean over episodes):", ""]
    if cost:
        lines += ["| stage | ms | per |", "|---|---|---|"]
        lines += [
            f"| {n} | {v:.2f} | {'localization fix' if n == 'localizer' else 'control step'} |"
            for n, v in cost.items()
        ]
    else:
        lines += ["(not measured)"]
    return "\n".join(lines) + "\n"


def plot_ladder(summary: dict[str, Any]) -> bytes:
    """PNG bytes: end-to-end SR per ladder row grouped by kind; the paper's as dashes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lad = summary["ablations"]
    rows, kinds = list(lad), _kinds(summary)
    fig, ax = plt.subplots(figsize=(8, 3.8))
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
    ax.set_ylim(0, 1.2)
    ax.set_ylabel("end-to-end success")
    ax.set_title("oracle ladder (only `none` is a result; dashed: the paper's real robots)")
    ax.legend(fontsize=7, ncol=len(rows), loc="upper center")
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
    """Write the report folder (each file atomically) and return the summary.

    Everything is computed before the first file is written, so a refused folder or bad
    episodes leave the folder as it was.

    Raises:
        ReportExistsError: If ``out`` holds the report of another recipe.
        ValueError: If there are no episodes, or a picture name would leave ``pictures/``.
    """
    out = Path(out)
    check_report_folder(out, recipe)
    for name in pictures or {}:
        if Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"picture name {name!r} must be a plain file name")
    episodes = sorted(episodes, key=_sort_key)
    summary = summarize_astra(episodes)
    markdown = format_astra_summary(summary, title)
    ladder = plot_ladder(summary)
    lines = "".join(json.dumps(e, sort_keys=True) + "\n" for e in episodes)
    atomic_write(out / "episodes.jsonl", lines.encode())
    atomic_write(out / "summary.json", (json.dumps(summary, indent=1) + "\n").encode())
    atomic_write(out / "summary.md", markdown.encode())
    atomic_write(out / "recipe.json", (json.dumps(recipe, indent=1) + "\n").encode())
    atomic_write(out / "ladder.png", ladder)
    for name, data in (pictures or {}).items():
        atomic_write(out / "pictures" / name, data)
    return summary
