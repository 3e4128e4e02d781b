"""`astra-sim eval localization --localizer mllm --model PATH` runs end to end on the tiny
model and reports its parse failures beside the usual metrics."""

from __future__ import annotations

import json

from llm_helpers import tiny_model

from astra_sim.cli.main import main


def test_eval_localization_runs_the_mllm_from_the_cli(tmp_path):
    out = tmp_path / "loc"
    args = ["eval", "localization", "--kind", "home", "--seeds", "0", "--queries", "2"]
    args += ["--query-scale", "1", "--no-goals", "--localizer", "mllm"]
    args += ["--model", str(tiny_model()), "--out", str(out)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mllm"]["queries"] == 2
    assert 0.0 <= summary["mllm"]["acc_1m_5deg"] <= 1.0
    assert "parse_stats" in summary["mllm"]
    assert summary["settings"]["localizers"] == ["mllm"]


def test_eval_localization_refuses_a_model_path_that_does_not_exist(tmp_path, capsys):
    args = ["eval", "localization", "--localizer", "mllm", "--model", str(tmp_path / "none")]
    assert main(args) == 2
    assert "none" in capsys.readouterr().err
