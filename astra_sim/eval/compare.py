"""Sim-vs-real agreement: do two evaluations rank the same agents the same way?

Kadian et al. (RA-L 2020, "Sim2Real Predictivity") ask of a simulator whether its ranking
of models predicts the ranking a real robot gives; their SRCC is the correlation, over the
same models, of the performance in one against the other. ``compare`` gives, over the
agents both reports hold, Spearman's rank correlation of success and of SPL (the ranking
is what a simulator is used for: choosing which model to deploy), with Pearson's r beside
it and a scatter plot.

A REPORT is any of:

- a folder of ``astra-sim eval nav`` reports, one subfolder per agent (``sim/flow/``,
  ``sim/act/``...): each subfolder's ``summary.json`` is one agent, named by the folder;
- one ``eval nav`` report folder or its ``summary.json`` (one agent: its folder's name);
- an ``astra-sim eval astra`` report (folder or ``summary.json``): each ladder row of
  ``ablations`` is an agent (``none``, ``goal``, ...; success is ``end_to_end_sr``);
- a JSON file ``{"agents": {NAME: {"success": s, "spl": p[, "episodes": n]}}}``: results
  written by hand, such as a real robot's trials.

Per-kind rows of a summary are pooled over kinds, weighted by their episodes.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.errors import AstraSimError
from astra_sim.core.fileio import atomic_write

METRICS = ("success", "spl")
Scores = dict[str, dict[str, float]]
"""agent -> {"success", "spl", "episodes"}."""


class CompareError(AstraSimError, ValueError):
    """A report cannot be read, or two reports share too few agents to correlate."""


def _pooled(per_kind: dict[str, Any], success_key: str, where: str) -> dict[str, float]:
    """Episode-weighted means over the kinds of one summary."""
    rows = [r for r in per_kind.values() if isinstance(r, dict)]
    if not rows:
        raise CompareError(f"{where}: no per-kind rows with episodes in it")
    for r in rows:
        missing = [k for k in ("episodes", success_key, "spl") if k not in r]
        if missing:
            raise CompareError(f"{where}: a row has no {', '.join(missing)}")
    n = np.array([float(r["episodes"]) for r in rows])
    if n.sum() <= 0:
        raise CompareError(f"{where}: no episodes")
    return {
        "success": float(np.dot(n, [r[success_key] for r in rows]) / n.sum()),
        "spl": float(np.dot(n, [r["spl"] for r in rows]) / n.sum()),
        "episodes": int(n.sum()),
    }


def _from_summary(data: dict[str, Any], name: str, where: str) -> Scores:
    """Agents of one ``summary.json``: an astra report's rows, or one nav agent."""
    if "ablations" in data:
        return {
            row: _pooled(per_kind, "end_to_end_sr", f"{where} row {row}")
            for row, per_kind in data["ablations"].items()
        }
    return {name: _pooled(data, "success", where)}


def _from_agents(agents: Any, where: str) -> Scores:
    """A hand-written ``{"agents": {...}}`` file."""
    if not isinstance(agents, dict) or not agents:
        raise CompareError(f"{where}: 'agents' must map agent names to their results")
    out = {}
    for name, r in agents.items():
        if not isinstance(r, dict):
            raise CompareError(f"{where}: agent {name!r} must map to its success and spl")
        if all(k in r for k in METRICS):
            for k in METRICS:
                if not isinstance(r[k], (int, float)) or not np.isfinite(r[k]):
                    raise CompareError(f"{where}: agent {name!r} {k} must be a number")
            out[str(name)] = {
                "success": float(r["success"]),
                "spl": float(r["spl"]),
                "episodes": int(r.get("episodes", 0)),
            }
        else:  # an eval nav summary per kind, pasted in
            out[str(name)] = _pooled(r, "success", f"{where} agent {name!r}")
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise CompareError(f"{path} is not a readable JSON report: {e}") from e
    if not isinstance(data, dict):
        raise CompareError(f"{path} must hold a JSON object, got {type(data).__name__}")
    return data


def load_report(path: str | Path) -> Scores:
    """The agents a REPORT holds (see the module docstring) and their success and SPL.

    Raises:
        CompareError: naming the file and what is wrong with it.
        FileNotFoundError: the path does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"report {path} does not exist")
    if path.is_file():
        data = _read_json(path)
        if "agents" in data:
            return _from_agents(data["agents"], str(path))
        return _from_summary(data, path.resolve().parent.name, str(path))
    if (path / "summary.json").is_file():
        return _from_summary(_read_json(path / "summary.json"), path.resolve().name, str(path))
    out: Scores = {}
    for child in sorted(p for p in path.iterdir() if (p / "summary.json").is_file()):
        data = _read_json(child / "summary.json")
        scores = _from_summary(data, child.name, str(child / "summary.json"))
        prefix = f"{child.name}/" if "ablations" in data else ""
        out.update({prefix + k: v for k, v in scores.items()})
    if not out:
        raise CompareError(
            f"{path} holds no summary.json, nor report folders with one (an eval nav or "
            "eval astra report, or a JSON file with an 'agents' mapping)"
        )
    return out


def _correlations(x: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    """Spearman's rho and Pearson's r (None where either side is constant: undefined)."""
    from scipy import stats

    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"spearman": None, "spearman_p": None, "pearson": None}
    rho = stats.spearmanr(x, y)
    return {
        "spearman": float(rho.statistic),
        "spearman_p": float(rho.pvalue),
        "pearson": float(stats.pearsonr(x, y).statistic),
    }


def compare(a: Scores, b: Scores, names: tuple[str, str] = ("A", "B")) -> dict[str, Any]:
    """SRCC of success and SPL over the agents of both ``a`` and ``b``.

    Raises:
        CompareError: fewer than three agents in common (a rank correlation of two is
            always +-1 and says nothing), naming those each report has.
    """
    common = sorted(set(a) & set(b))
    if len(common) < 3:
        shared = ", ".join(common) or "none"
        raise CompareError(
            f"reports {names[0]} and {names[1]} share {len(common)} agent(s) ({shared}); a "
            f"rank correlation needs at least 3. {names[0]} has: {', '.join(sorted(a))}; "
            f"{names[1]} has: {', '.join(sorted(b))}"
        )
    srcc = {}
    for metric in METRICS:
        x = np.array([a[k][metric] for k in common])
        y = np.array([b[k][metric] for k in common])
        srcc[metric] = _correlations(x, y)
    return {
        "reports": list(names),
        "agents": common,
        "only_in_a": sorted(set(a) - set(b)),
        "only_in_b": sorted(set(b) - set(a)),
        "srcc": srcc,
        "scores": {k: {"a": a[k], "b": b[k]} for k in common},
    }


def _fmt(v: float | None) -> str:
    return "undefined (constant)" if v is None else f"{v:+.3f}"


def format_comparison(result: dict[str, Any]) -> str:
    """A Markdown table of the agents and the SRCC lines."""
    a, b = result["reports"]
    lines = [
        f"| agent | success ({a}) | success ({b}) | SPL ({a}) | SPL ({b}) |",
        "|---|---|---|---|---|",
    ]
    for k in result["agents"]:
        s = result["scores"][k]
        lines.append(
            f"| {k} | {s['a']['success']:.3f} | {s['b']['success']:.3f} | "
            f"{s['a']['spl']:.3f} | {s['b']['spl']:.3f} |"
        )
    lines.append("")
    n = len(result["agents"])
    for metric, label in (("success", "success"), ("spl", "SPL")):
        c = result["srcc"][metric]
        lines.append(
            f"SRCC {label} (Spearman, {n} agents): {_fmt(c['spearman'])}"
            f"  (Pearson r {_fmt(c['pearson'])})"
        )
    for key, who in (("only_in_a", a), ("only_in_b", b)):
        if result[key]:
            lines.append(f"left out, only in {who}: {', '.join(result[key])}")
    return "\n".join(lines) + "\n"


def plot_comparison(result: dict[str, Any]) -> bytes:
    """PNG bytes: success and SPL, report A against report B, one labelled dot per agent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = result["reports"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    for ax, (metric, label) in zip(axes, (("success", "success"), ("spl", "SPL")), strict=True):
        x = [result["scores"][k]["a"][metric] for k in result["agents"]]
        y = [result["scores"][k]["b"][metric] for k in result["agents"]]
        ax.plot([0, 1], [0, 1], ls="--", c="0.6", lw=1)
        ax.scatter(x, y, s=30, zorder=3)
        for k, xi, yi in zip(result["agents"], x, y, strict=True):
            ax.annotate(k, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
        rho = result["srcc"][metric]["spearman"]
        ax.set_title(f"{label}: SRCC (Spearman) = {_fmt(rho)}")
        ax.set_xlabel(f"{label} in {a}")
        ax.set_ylabel(f"{label} in {b}")
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.set_aspect("equal")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def compare_reports(report_a: str | Path, report_b: str | Path, out: str | Path) -> dict[str, Any]:
    """Load both reports, compare, write ``out/compare.json``, ``compare.md``, ``compare.png``."""
    # Short names for the table and the axes; the full paths when the names clash.
    names = (Path(report_a).name, Path(report_b).name)
    if names[0] == names[1]:
        names = (str(report_a), str(report_b))
    result = compare(load_report(report_a), load_report(report_b), names)
    out = Path(out)
    atomic_write(out / "compare.json", (json.dumps(result, indent=1) + "\n").encode())
    atomic_write(out / "compare.md", format_comparison(result).encode())
    atomic_write(out / "compare.png", plot_comparison(result))
    return result


__all__ = [
    "CompareError",
    "compare",
    "compare_reports",
    "format_comparison",
    "load_report",
    "plot_comparison",
]
