"""Episode sets: deterministic files, exact round trips, splits by scene seed, clear errors."""

from __future__ import annotations

import json

import pytest
from conftest import SMALL

from astra_sim.tasks import EpisodeFormatError, EpisodeSet, SplitRule

SEEDS = [0, 8, 9, 10]


def generate(task: str = "pointnav") -> EpisodeSet:
    return EpisodeSet.generate(task, "warehouse", SEEDS, 2, rng_seed=5,
                               scene_params=SMALL["warehouse"], min_geodesic=2.0)  # fmt: skip


@pytest.fixture(scope="module")
def episodes() -> EpisodeSet:
    return generate()


def test_same_arguments_same_bytes_and_exact_round_trip(episodes, tmp_path):
    assert len(episodes) == 8 and [e.scene_seed for e in episodes] == [0, 0, 8, 8, 9, 9, 10, 10]
    path = episodes.save(tmp_path / "sub" / "eps.json")
    again = generate().save(tmp_path / "again.json")
    assert path.read_bytes() == again.read_bytes()
    assert sorted(p.name for p in path.parent.iterdir()) == ["eps.json"]  # no temp left
    loaded = EpisodeSet.load(path)
    assert loaded == episodes
    assert loaded.save(tmp_path / "resaved.json").read_bytes() == path.read_bytes()
    doc = json.loads(path.read_bytes())
    assert path.read_text() == json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"


def test_scene_episodes_do_not_depend_on_the_other_seeds(episodes):
    alone = EpisodeSet.generate("pointnav", "warehouse", [9], 2, rng_seed=5,
                                scene_params=SMALL["warehouse"], min_geodesic=2.0)  # fmt: skip
    assert list(alone) == [e for e in episodes if e.scene_seed == 9]


def test_splits_by_scene_seed(episodes):
    splits = episodes.splits()
    assert {name: sorted({e.scene_seed for e in s}) for name, s in splits.items()} == {
        "train": [0, 10], "val": [8], "test": [9],
    }  # fmt: skip
    odd_even = episodes.splits(SplitRule(modulus=2, val=(1,), test=()))
    assert len(odd_even["test"]) == 0 and {e.scene_seed for e in odd_even["val"]} == {9}
    with pytest.raises(ValueError, match="overlap"):
        SplitRule(val=(8,), test=(8,))
    with pytest.raises(ValueError, match="outside"):
        SplitRule(modulus=4, val=(5,))


def test_languagenav_imagenav_localization_round_trip(tmp_path):
    for task in ("imagenav", "localization"):
        eps = EpisodeSet.generate(task, "warehouse", [0], 2, 1, SMALL["warehouse"])
        assert EpisodeSet.load(eps.save(tmp_path / f"{task}.json")) == eps
    eps = EpisodeSet.generate("languagenav", "warehouse", [0], 1, 1, SMALL["warehouse"])
    assert eps[0].goal.instruction and EpisodeSet.load(eps.save(tmp_path / "l.json")) == eps


def _write_broken(episodes, tmp_path, edit) -> str:
    doc = json.loads(episodes.to_bytes())
    edit(doc)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_load_names_the_file_and_the_problem(episodes, tmp_path):
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(episodes.to_bytes()[:500])
    with pytest.raises(EpisodeFormatError, match=r"truncated\.json is not valid JSON"):
        EpisodeSet.load(truncated)
    with pytest.raises(EpisodeFormatError, match=r"cannot read episode file .*missing\.json"):
        EpisodeSet.load(tmp_path / "missing.json")
    cases = [
        (lambda d: d["episodes"][1].pop("start"), r"episodes\[1\] is missing key 'start'"),
        (lambda d: d["episodes"][2]["goal"].pop("positions"), "goal is missing key 'positions'"),
        (lambda d: d["episodes"][0].update(task="objectnav"),
         r"episodes\[0\].task 'objectnav' is unknown; valid tasks are: pointnav"),
        (lambda d: d["episodes"][0].update(start="home"), "start must be list, got str"),
        (lambda d: d["episodes"][0].update(start=[1, 2]), "start must be a list of 3 numbers"),
        (lambda d: d["episodes"][0].update(scene_seed=True), "scene_seed must be int or NoneType"),
        (lambda d: d["episodes"][3]["goal"].update(kind="area"), "unknown goal kind 'area'"),
        (lambda d: d.update(format="other"), "format is 'other'"),
        (lambda d: d.update(version=99), "unsupported version 99"),
    ]  # fmt: skip
    for edit, message in cases:
        path = _write_broken(episodes, tmp_path, edit)
        with pytest.raises(EpisodeFormatError, match=message) as info:
            EpisodeSet.load(path)
        assert "broken.json" in str(info.value)
