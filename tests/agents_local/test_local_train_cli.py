"""``astra-sim train local`` picks the trainer from the recipe's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from astra_sim.cli.main import main
from astra_sim.cli.train_local import recipe_kind

AGENTS = Path(__file__).resolve().parents[2] / "agents"


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
        with pytest.raises(ValueError, match="checkpoint"):
            AgentConfig(name=alias)
