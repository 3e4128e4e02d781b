"""Closed-loop evaluation on a real local Ray (2 CPUs): the same episodes and seed give
the same report on 1 worker and on 2, through the library and through ``astra-sim eval
nav --out``; a worker killed mid-episode changes nothing; another evaluation's report
folder is refused."""

from __future__ import annotations

import json

import pytest
from distributed_helpers import local_ray, rig_recipe

ray = pytest.importorskip("ray")

from astra_sim.cli.main import main  # noqa: E402
from astra_sim.core.recipe import from_dict  # noqa: E402
from astra_sim.distributed.config import EvalConfig  # noqa: E402
from astra_sim.distributed.evaluate import evaluate_nav  # noqa: E402
from astra_sim.eval.nav import ReportExistsError  # noqa: E402

pytestmark = pytest.mark.ray

ENV = {
    "scenes": ["home", "office"],
    "scene_seeds": [0],
    "scene_params": {"office": {"rooms_per_side": 4, "meeting_rooms": 1}},
    "max_steps": 60,
    "max_geodesic": 3.0,
    "episodes": 4,
    "seed": 11,
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    env = {**ENV, "rig": rig_recipe(tmp, 16)}
    with local_ray(tmp_path_factory):
        yield env


def test_one_and_two_workers_give_the_same_report(setup, tmp_path, capsys):
    env = setup
    two = evaluate_nav(from_dict(EvalConfig, {"out": str(tmp_path / "two"), "env": env,
                                              "fault": {"crash_episodes": [2]}}))  # fmt: skip
    assert "died during episode 2" in capsys.readouterr().out
    recipe = tmp_path / "eval.yaml"
    recipe.write_text(json.dumps({"env": env, "plots": False}))  # JSON is YAML
    code = main(["eval", "nav", "--recipe", str(recipe), "--out", str(tmp_path / "one"),
                 "ray.workers=1"])  # fmt: skip
    assert code == 0
    one = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert one == two
    assert set(one) == {"home", "office"}
    for row in one.values():
        assert row["episodes"] == 2 and {"success", "spl", "soft_spl"} <= set(row)
        assert 0.0 <= row["spl"] <= row["success"] <= 1.0
    lines = [(tmp_path / d / "episodes.jsonl").read_text() for d in ("one", "two")]
    assert lines[0] == lines[1] and len(lines[0].splitlines()) == 4
    assert (tmp_path / "two" / "metrics.png").stat().st_size > 0
    assert "| home | 2 |" in (tmp_path / "two" / "summary.md").read_text()


def test_another_evaluations_report_folder_is_refused(setup, tmp_path):
    env = setup
    out = tmp_path / "report"
    config = {"out": str(out), "env": {**env, "episodes": 1, "scenes": ["home"]},
              "plots": False, "ray": {"workers": 1}}  # fmt: skip
    evaluate_nav(from_dict(EvalConfig, config))
    before = (out / "summary.json").read_bytes()
    with pytest.raises(ReportExistsError, match="agent"):
        evaluate_nav(from_dict(EvalConfig, {**config, "agent": {"name": "random"}}))
    assert (out / "summary.json").read_bytes() == before
