"""The ``randomize`` block: what it accepts, what it expands to, and errors naming the key."""

from __future__ import annotations

import pytest
from fuzzing import FUZZ, expect_named, mutated
from hypothesis import given
from hypothesis import strategies as st

from astra_sim.core.recipe import RecipeError, load_recipe
from astra_sim.distributed.config import CollectConfig, EnvConfig
from astra_sim.sim.randomization import GROUPS, KNOBS, RandomizeError, parse_randomize


def test_no_block_means_no_randomization():
    assert parse_randomize(None) is None
    assert parse_randomize(False) is None
    assert parse_randomize({}) is None


def test_default_takes_every_knob_of_every_group_at_its_default_range():
    for spelling in ("default", True):
        cfg = parse_randomize(spelling)
        assert set(cfg.ranges) == set(GROUPS)
        for group, knobs in KNOBS.items():
            assert {k: cfg.range(group, k) for k in knobs} == {
                k: v.default for k, v in knobs.items()
            }


def test_a_group_without_knobs_takes_its_defaults_and_names_only_it():
    for value in (None, "default", {}):
        cfg = parse_randomize({"lighting": value})
        assert set(cfg.ranges) == {"lighting"}
        assert cfg.range("lighting", "ambient") == KNOBS["lighting"]["ambient"].default
        assert cfg.range("camera", "yaw_deg") is None


def test_named_knobs_alone_are_randomized_and_a_number_is_a_fixed_value():
    cfg = parse_randomize({"camera": {"yaw_deg": 3, "pitch_deg": [-1, 2]}, "wheel": {}})
    assert cfg.ranges["camera"] == {"yaw_deg": (3.0, 3.0), "pitch_deg": (-1.0, 2.0)}
    assert cfg.range("camera", "focal_scale") is None
    assert cfg.to_json()["camera"] == {"yaw_deg": [3.0, 3.0], "pitch_deg": [-1.0, 2.0]}


@pytest.mark.parametrize(
    ("block", "names"),
    [
        ({"lightning": {}}, ["randomize.lightning", "unknown group", "lighting"]),
        ({"lighting": {"ambiant": [0.4, 0.5]}}, ["randomize.lighting.ambiant", "unknown key",
                                                  "ambient"]),
        ({"lighting": {"ambient": [0.6, 0.4]}}, ["randomize.lighting.ambient", "inverted"]),
        ({"image_noise": {"rgb_sigma": [-1, 2]}}, ["randomize.image_noise.rgb_sigma", ">= 0"]),
        ({"imu": {"noise_scale": -0.5}}, ["randomize.imu.noise_scale", "noise level"]),
        ({"actuation": {"linear_noise": [-0.1, 0]}}, ["randomize.actuation.linear_noise"]),
        ({"wheel": {"radius_error": [-1.0, 0.0]}}, ["randomize.wheel.radius_error", "> -1"]),
        ({"lighting": {"elevation_deg": [0, 120]}}, ["randomize.lighting.elevation_deg", "<= 90"]),
        ({"camera": {"yaw_deg": [1, 2, 3]}}, ["randomize.camera.yaw_deg", "[low, high]"]),
        ({"camera": {"yaw_deg": "wide"}}, ["randomize.camera.yaw_deg"]),
        ({"camera": {"yaw_deg": [0, float("nan")]}}, ["randomize.camera.yaw_deg", "finite"]),
        ({"camera": ["yaw_deg"]}, ["randomize.camera", "mapping of knobs"]),
        ({"lighting": {"ambient": [0.5, 0.7]}}, ["randomize.lighting", "ambient high (0.7)",
                                                 "diffuse high (0.4)"]),
        ("everything", ["randomize must be a mapping"]),
    ],
)  # fmt: skip
def test_bad_input_names_the_key(block, names):
    with pytest.raises(RandomizeError) as err:
        parse_randomize(block)
    for part in names:
        assert part in str(err.value)


def test_a_recipe_names_the_bad_key_under_env(tmp_path):
    with pytest.raises(ValueError, match=r"env\.randomize\.camera\.yaw_deg: range \[2, -2\]"):
        EnvConfig(randomize={"camera": {"yaw_deg": [2, -2]}})
    recipe = tmp_path / "collect.yaml"
    recipe.write_text("env:\n  randomize:\n    lighting: {intensity: [0.8, 1.2]}\n")
    cfg = load_recipe(CollectConfig, recipe, ["env.randomize.wheel.radius_error=[-0.01,0.01]"])
    block = parse_randomize(cfg.env.randomize)
    assert block.range("lighting", "intensity") == (0.8, 1.2)
    assert block.range("wheel", "radius_error") == (-0.01, 0.01)
    with pytest.raises(RecipeError, match=r"env\.randomize\.wheel\.slip: unknown key"):
        load_recipe(CollectConfig, recipe, ["env.randomize.wheel.slip=0.2"])


@FUZZ
@given(data=st.data())
def test_a_mutated_block_is_accepted_within_bounds_or_refused_by_name(data):
    """Fuzzed blocks (a key dropped or added, NaN, a string or a list for a range, ...):
    accepted with every range ordered and inside its knob's bounds, or a RandomizeError
    whose message starts with the dotted key; never another exception."""
    doc = data.draw(mutated(parse_randomize("default").to_json()))

    def check(e):
        assert str(e).startswith("randomize"), str(e)

    cfg = expect_named("randomize block", lambda: parse_randomize(doc), RandomizeError, check)
    for group, knobs in ({} if cfg is None else cfg.ranges).items():
        for name, (lo, hi) in knobs.items():
            knob = KNOBS[group][name]
            assert lo <= hi
            assert knob.low is None or lo >= knob.low
            assert knob.high is None or hi <= knob.high


def test_the_docs_table_gives_every_knob_with_its_default_range():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "sim_to_real.md"
    rows = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].strip("`") in KNOBS:
            rows[(cells[0].strip("`"), cells[1].strip("`"))] = cells[2]
    expected = {
        (group, name): f"[{knob.default[0]:g}, {knob.default[1]:g}]"
        for group, knobs in KNOBS.items()
        for name, knob in knobs.items()
    }
    assert rows == expected
