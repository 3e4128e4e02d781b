"""``astra-sim eval compare``: SRCC of two hand-made reports, in each form a REPORT takes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from astra_sim.cli.main import main
from astra_sim.eval.compare import CompareError, compare, load_report

# Ranks of success: A 5 4 3 2 1, B 5 4 2 3 1 -> sum d^2 = 2 -> rho = 1 - 6*2/(5*24) = 0.9.
# SPL of B is A's order reversed -> rho = -1.
SIM = {
    "flow": (0.9, 0.80),
    "act": (0.7, 0.60),
    "diffusion": (0.5, 0.45),
    "ppo": (0.3, 0.20),
    "random": (0.1, 0.05),
}
REAL = {
    "flow": (0.8, 0.10),
    "act": (0.75, 0.20),
    "diffusion": (0.2, 0.30),
    "ppo": (0.4, 0.40),
    "random": (0.05, 0.50),
    "expert": (1.0, 1.0),  # only in the real report: left out
}


def nav_summary(success: float, spl: float) -> dict:
    """An eval nav summary.json: two kinds, the second twice the episodes (same means)."""
    row = {"soft_spl": 0.5, "collisions_per_m": 0.0, "path_length": 4.0, "time": 10.0}
    return {
        "home": {"episodes": 4, "success": success - 0.06, "spl": spl - 0.03, **row},
        "office": {"episodes": 8, "success": success + 0.03, "spl": spl + 0.015, **row},
    }


def write_nav_reports(root, table):
    for name, (s, p) in table.items():
        (root / name).mkdir(parents=True)
        (root / name / "summary.json").write_text(json.dumps(nav_summary(s, p)))
    return root


def write_agents_file(path, table):
    agents = {k: {"success": s, "spl": p, "episodes": 10} for k, (s, p) in table.items()}
    path.write_text(json.dumps({"agents": agents}))
    return path


def test_known_correlation_from_nav_report_folders_and_a_hand_made_file(tmp_path, capsys):
    sim = write_nav_reports(tmp_path / "sim", SIM)
    real = write_agents_file(tmp_path / "real.json", REAL)
    scores = load_report(sim)
    # Kinds pooled by episodes: (4 (s - .06) + 8 (s + .03)) / 12 = s.
    assert scores["act"]["success"] == pytest.approx(0.7) and scores["act"]["episodes"] == 12
    out = tmp_path / "srcc"
    assert main(["eval", "compare", str(sim), str(real), "--out", str(out)]) == 0
    result = json.loads((out / "compare.json").read_text())
    assert result["agents"] == sorted(SIM) and result["only_in_b"] == ["expert"]
    assert result["srcc"]["success"]["spearman"] == pytest.approx(0.9)
    assert result["srcc"]["spl"]["spearman"] == pytest.approx(-1.0)
    printed = capsys.readouterr().out
    assert "SRCC success (Spearman, 5 agents): +0.900" in printed
    assert "SRCC SPL (Spearman, 5 agents): -1.000" in printed
    with Image.open(out / "compare.png") as im:
        assert im.size[0] > 500 and im.size[1] > 300


def test_astra_report_rows_are_agents(tmp_path):
    rows = {"none": (0.2, 0.1), "goal": (0.4, 0.3), "goal+start": (0.6, 0.5), "all": (0.9, 0.8)}
    summary = {
        "headline_row": "none",
        "ablations": {
            r: {"home": {"episodes": 5, "end_to_end_sr": s, "spl": p}} for r, (s, p) in rows.items()
        },
    }
    (tmp_path / "astra").mkdir()
    (tmp_path / "astra" / "summary.json").write_text(json.dumps(summary))
    real = {k: (s * 0.5, p * 0.5) for k, (s, p) in rows.items()}
    result = compare(load_report(tmp_path / "astra"), load_report(
        write_agents_file(tmp_path / "real.json", real)))  # fmt: skip
    assert result["srcc"]["success"]["spearman"] == pytest.approx(1.0)
    assert result["srcc"]["success"]["pearson"] == pytest.approx(1.0)


def test_constant_metric_is_undefined_not_a_number(tmp_path):
    a = {
        k: {"success": 1.0, "spl": v, "episodes": 1}
        for k, v in {"x": 0.1, "y": 0.2, "z": 0.3}.items()
    }
    b = {
        k: {"success": 0.5, "spl": v, "episodes": 1}
        for k, v in {"x": 0.3, "y": 0.2, "z": 0.1}.items()
    }
    result = compare(a, b)
    assert result["srcc"]["success"]["spearman"] is None
    assert np.isclose(result["srcc"]["spl"]["spearman"], -1.0)


def test_bad_reports_are_named(tmp_path):
    real = write_agents_file(tmp_path / "real.json", {"flow": (0.5, 0.4), "act": (0.2, 0.1)})
    sim = write_nav_reports(tmp_path / "sim", SIM)
    with pytest.raises(CompareError, match=r"share 2 agent\(s\) \(act, flow\); a rank correlation"):
        compare(load_report(sim), load_report(real))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CompareError, match=r"holds no summary\.json"):
        load_report(tmp_path / "empty")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"agents": {"flow": {"success": "high", "spl": 0.2}}}))
    with pytest.raises(CompareError, match="agent 'flow' success must be a number"):
        load_report(bad)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(CompareError, match=r"broken\.json is not a readable JSON report"):
        load_report(tmp_path / "broken.json")
    assert main(["eval", "compare", str(sim), str(real), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()
