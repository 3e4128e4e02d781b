"""``astra-sim collect`` end to end without Ray, and its errors on bad input: an unknown
recipe key, an unknown agent, a folder holding another dataset (left untouched)."""

from __future__ import annotations

import json

import pytest
from conftest import write_panorama_rig

pytest.importorskip("pyarrow")

from astra_sim.cli.main import main


@pytest.fixture
def recipe(tmp_path):
    rig = write_panorama_rig(tmp_path / "rig.yaml", 16)
    path = tmp_path / "collect.yaml"
    path.write_text(
        f"env: {{scenes: [home], rig: {rig}, max_steps: 15, max_geodesic: 3.0, episodes: 2}}\n"
        "ray: {workers: 0}\n"
    )
    return str(path)


def test_collect_writes_a_dataset_and_refuses_bad_input(recipe, tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["collect", "--recipe", recipe, "--out", str(out)]) == 0
    assert "2 episodes" in capsys.readouterr().out
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["complete"] and info["total_episodes"] == 2

    assert main(["collect", "--recipe", recipe, "--out", str(out)]) == 0  # already complete
    assert "2 episodes already there" in capsys.readouterr().out

    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["collect", "--recipe", recipe, "--out", str(out), "env.seed=1"]) == 2
    assert "already holds a different dataset (recipe keys that differ: env.seed)" in (
        capsys.readouterr().err
    )
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot

    assert main(["collect", "--recipe", recipe, "env.episodez=3"]) == 2
    assert "unknown key(s) env.episodez; valid keys are: env.task" in capsys.readouterr().err
    assert main(["collect", "--recipe", recipe, "agent.name=teacher"]) == 2
    valid = (
        "valid agents are: astra, expert, package.module:Class, planner, planner_fallback, random"
    )
    assert f"unknown agent 'teacher'; {valid}" in capsys.readouterr().err
