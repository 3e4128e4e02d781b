"""``astra-sim eval astra`` on a real local Ray (2 CPUs): the ladder rows, the report
files, the failure causes and the pictures; a bad recipe is named before any work."""

from __future__ import annotations

import json

import pytest
from distributed_helpers import local_ray

ray = pytest.importorskip("ray")

from astra_sim.cli.main import main  # noqa: E402
from astra_sim.core.recipe import from_dict  # noqa: E402
from astra_sim.distributed.config import EvalAstraConfig  # noqa: E402
from astra_sim.eval.astra_outcome import CAUSES  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]  # minutes: every row loads the agent per worker

RECIPE = {
    "ladder": ["none", "goal+start+pose"],
    "env": {
        "task": "languagenav",
        "scenes": ["home"],
        "scene_seeds": [0],
        "rig": "default",
        "max_steps": 12,
        "episodes": 2,
        "seed": 5,
    },
    "agent": {"name": "astra"},
}


def test_eval_astra_writes_the_report_with_its_ladder(tmp_path_factory, tmp_path):
    recipe = tmp_path / "astra.json"
    recipe.write_text(json.dumps(RECIPE))  # JSON is YAML
    out = tmp_path / "report"
    with local_ray(tmp_path_factory):
        code = main(["eval", "astra", "--recipe", str(recipe), "--out", str(out),
                     "--pictures", "1", "ray.workers=2"])  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    row = summary["home"]
    assert {"episodes", "end_to_end_sr", "goal_localization_sr", "self_localization_sr",
            "fallback_rate", "spl", "collisions_per_m"} <= set(row)  # fmt: skip
    assert row["episodes"] == 2 and summary["headline_row"] == "none"
    assert set(summary["ablations"]) == {"none", "goal+start+pose"}
    # The pose oracle row localizes itself perfectly by construction.
    assert summary["ablations"]["goal+start+pose"]["home"]["self_localization_sr"] == 1.0
    lines = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and {e["ablation"] for e in lines} == {"none", "goal+start+pose"}
    for e in lines:
        assert e["outcome"] in ("success", *CAUSES)
        assert e["cost_ms"]["planner"] >= 0
    md = (out / "summary.md").read_text()
    assert "0.842" in md and "0.991" in md and "goal+start+pose" in md
    assert (out / "pictures" / "episode_0000.png").stat().st_size > 1000
    assert (out / "pictures" / "episode_0000.gif").stat().st_size > 1000
    assert not (out / "pictures" / "episode_0001.png").exists()
    assert (out / "ladder.png").stat().st_size > 0


def test_a_bad_astra_recipe_is_named():
    with pytest.raises(ValueError, match="languagenav or imagenav"):
        from_dict(EvalAstraConfig, {"env": {"task": "pointnav"}})
    with pytest.raises(ValueError, match="oracle row"):
        from_dict(EvalAstraConfig, {"ladder": ["none", "gps"]})
    with pytest.raises(ValueError, match=r"agent\.name=astra"):
        from_dict(EvalAstraConfig, {"agent": {"name": "expert"}})
