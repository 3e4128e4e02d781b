"""``astra-sim train local`` picks the trainer from the recipe's keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from astra_sim.cli.main import main
from astra_sim.cli.train_local import recipe_kind

AGENTS = Path(__file__).resolve().parents[2] / "agents"
TRAIN = Path(__file__).resolve().parents[2] / "train"


@pytest.mark.parametrize("kind", ["planner", "odometry", "encoder"])
@pytest.mark.parametrize("size", ["small", "paper"])
def test_shipped_recipes_name_their_trainer(kind, size):
    assert recipe_kind(AGENTS / f"astra_local_{kind}_{size}.yaml") == kind


def test_bad_recipes_are_named(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: 3\n")
    assert main(["train", "local", "--recipe", str(bad)]) == 2
    assert "names no trainer" in capsys.readouterr().err
    assert main(["train", "local", "--recipe", str(tmp_path / "none.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_planner_agent_aliases_resolve_and_need_a_checkpoint():
    import importlib

    from astra_sim.distributed.config import AGENT_ALIASES, AgentConfig

    for alias, target in AGENT_ALIASES.items():
        module, _, cls = target.partition(":")
        assert callable(getattr(importlib.import_module(module), cls)), alias
        if alias == "astra":  # the composed agent names its checkpoints under agent.astra
            assert AgentConfig(name=alias).astra.planner.endswith(".pt")
            continue
        with pytest.raises(ValueError, match="checkpoint"):
            AgentConfig(name=alias)


def test_eval_nav_agent_flags_default_to_the_shipped_planner():
    import argparse

    from astra_sim.cli import eval_nav

    parser = argparse.ArgumentParser()
    eval_nav.add_parser(parser.add_subparsers(dest="cmd"))

    def overrides(*argv: str) -> list[str]:
        return eval_nav.agent_overrides(parser.parse_args(["nav", *argv]))

    shipped = overrides("--agent", "planner")
    assert shipped[0] == "agent.name=planner"
    path = shipped[1].removeprefix("agent.checkpoint=")
    assert path.endswith("planner/flow_esdf.pt") and Path(path).is_file()
    assert overrides("--agent", "planner", "--checkpoint", "x.pt")[1] == "agent.checkpoint=x.pt"
    assert len(overrides("--agent", "planner", "agent.checkpoint=y.pt")) == 1
    assert overrides("--agent", "expert") == ["agent.name=expert"]
    assert overrides() == []


def test_shipped_planner_drives_in_closed_loop(tmp_path):
    out = tmp_path / "report"
    code = main([
        "eval", "nav", "--recipe", str(TRAIN / "eval_pointnav.yaml"), "--agent",
        "planner_fallback", "--out", str(out), "ray.workers=0", "env.episodes=1",
        "env.max_steps=15", "env.max_geodesic=3.0", "plots=false", "env.scenes=[office]",
    ])  # fmt: skip
    assert code == 0
    episode = json.loads((out / "episodes.jsonl").read_text().splitlines()[0])
    assert episode["steps"] > 0 and episode["path_length"] > 0
