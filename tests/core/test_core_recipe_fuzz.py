"""Fuzzing recipes: a damaged YAML recipe is refused with RecipeError (invalid YAML naming
the file, line and column in one line), or builds a config that round-trips."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fuzzing import FUZZ, Tally, damaged_bytes, expect_named, mutated
from hypothesis import given
from hypothesis import strategies as st

from astra_sim.core.recipe import RecipeError, from_dict, load_recipe, to_dict
from astra_sim.distributed.config import CollectConfig

pytestmark = pytest.mark.timeout(120)
RECIPE = Path(__file__).resolve().parents[2] / "train" / "collect_pointnav.yaml"
ONE_LINE_WHERE = re.compile(r"^recipe \S+, line \d+, column \d+: [^\n]+$")


def load(path: Path) -> CollectConfig | None:
    config = expect_named("recipe", lambda: load_recipe(CollectConfig, path), RecipeError)
    if config is not None:
        assert from_dict(CollectConfig, to_dict(config)) == config
    return config


@FUZZ
@given(data=st.data())
def test_mutated_recipe_is_refused_by_name_or_round_trips(tmp_path_factory, data):
    doc = data.draw(mutated(yaml.safe_load(RECIPE.read_text())))
    path = tmp_path_factory.mktemp("case") / "recipe.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    load(path)


@FUZZ
@given(data=st.data())
def test_damaged_yaml_names_file_line_and_column(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("case") / "recipe.yaml"
    path.write_bytes(data.draw(damaged_bytes(RECIPE.read_bytes())))
    try:
        raw_ok = isinstance(yaml.safe_load(path.read_bytes().decode("utf-8")), (dict, type(None)))
    except (UnicodeDecodeError, yaml.YAMLError):
        raw_ok = False
        with pytest.raises(RecipeError) as caught:
            load_recipe(CollectConfig, path)
        message = str(caught.value)
        assert ONE_LINE_WHERE.match(message) and str(path) in message, message
        Tally.record("invalid YAML", "refused")
    if raw_ok:
        load(path)


def test_invalid_yaml_message_points_at_the_spot(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("out: x\nenv:\n  task: pointnav\n  scenes: [home\n")
    with pytest.raises(RecipeError) as caught:
        load_recipe(CollectConfig, path)
    assert ONE_LINE_WHERE.match(str(caught.value))
    assert f"recipe {path}, line 5, column 1:" in str(caught.value)


def test_recipe_fuzzing_reached_both_outcomes():
    Tally.assert_both_outcomes("recipe", "invalid YAML")
