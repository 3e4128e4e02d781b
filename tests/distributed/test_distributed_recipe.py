"""Recipes: YAML plus dotted overrides into dataclass schemas, with errors that name the
bad key and list the valid ones; the shipped recipes load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from astra_sim.core.recipe import RecipeError, load_recipe, parse_override, to_dict
from astra_sim.distributed.config import CollectConfig, EvalConfig

TRAIN = Path(__file__).resolve().parents[2] / "train"


@dataclass
class Inner:
    rate: float = 1.0
    names: list[str] = field(default_factory=list)


@dataclass
class Outer:
    steps: int = 4
    label: str | None = None
    inner: Inner = field(default_factory=Inner)


def test_yaml_and_overrides_fill_the_schema(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("steps: 8\ninner: {rate: 2}\n")
    cfg = load_recipe(Outer, path, ["inner.names=[a, b]", "label=x", "inner.rate=0.5"])
    assert cfg == Outer(steps=8, label="x", inner=Inner(rate=0.5, names=["a", "b"]))
    assert to_dict(cfg) == {"steps": 8, "label": "x", "inner": {"rate": 0.5, "names": ["a", "b"]}}
    assert load_recipe(Outer, None, ["label=null"]).label is None
    assert parse_override("a.b= 3") == ("a.b", 3)
    # YAML 1.1 reads "3e-3" as a string; a float field takes it as the number it spells.
    assert load_recipe(Outer, None, ["inner.rate=3e-3"]).inner.rate == pytest.approx(0.003)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["inner.rat=2"],
            r"unknown key\(s\) inner\.rat; valid keys are: inner\.rate, inner\.names",
        ),
        (["stepz=2"], r"unknown key\(s\) stepz; valid keys are: steps, label, inner"),
        (["steps=many"], "steps must be an integer, got 'many'"),
        (["inner.rate=fast"], "inner.rate must be a number, got 'fast'"),
        (["inner=3"], "inner must be a mapping"),
        (["steps"], "must look like key=value"),
    ],
)
def test_bad_overrides_are_named(overrides, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe(Outer, None, overrides)


def test_bad_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.yaml does not exist"):
        load_recipe(Outer, tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(RecipeError, match="must be a mapping"):
        load_recipe(Outer, bad)


def test_shipped_recipes_load_and_check_names():
    collect_recipes = sorted(TRAIN.glob("collect_*.yaml"))
    eval_recipes = sorted(TRAIN.glob("eval_*.yaml"))
    assert collect_recipes and eval_recipes
    for path in collect_recipes:
        assert load_recipe(CollectConfig, path).agent.name == "expert"
    for path in eval_recipes:
        if path.name == "eval_astra.yaml":
            from astra_sim.distributed.config import EvalAstraConfig

            load_recipe(EvalAstraConfig, path)
            continue
        load_recipe(EvalConfig, path)
    with pytest.raises(RecipeError, match="unknown scene kind 'castle'"):
        load_recipe(CollectConfig, collect_recipes[0], ["env.scenes=[castle]"])
    with pytest.raises(RecipeError, match="unknown feature 'lidar'"):
        load_recipe(CollectConfig, collect_recipes[0], ["features=[lidar]"])
