"""Fuzzing episode files: a damaged file is refused with EpisodeFormatError naming it, or
loads into episodes that save back and split; a save that fails leaves no file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fuzzing import FUZZ, Tally, damaged_json, expect_named
from hypothesis import given
from hypothesis import strategies as st

from astra_sim.tasks import Episode, EpisodeFormatError, EpisodeSet, Goal

pytestmark = pytest.mark.timeout(120)


def episodes() -> EpisodeSet:
    """One episode of each navigation task, every field filled."""
    point = Episode("p-0", "pointnav", "home", 3, {"bedrooms": 2}, (1.0, 2.0, 0.5),
                    Goal("point", [(4.0, 2.5)]), 3.2)  # fmt: skip
    image = Episode("i-0", "imagenav", "office", 8, {}, (2.0, 1.0, -1.0),
                    Goal("image", [(5.0, 1.0)]), 3.0, {"goal_pose": [5.0, 1.0, 0.3]})  # fmt: skip
    text = Goal("object", [(1.0, 1.0), (1.5, 1.0)], "Go to the red sofa.", [4], 2)
    language = Episode("l-0", "languagenav", "home", 9, {}, (3.0, 3.0, 0.0), text, 2.1)
    return EpisodeSet([point, image, language])


@pytest.fixture(scope="module")
def doc():
    return json.loads(episodes().to_bytes())


@FUZZ
@given(data=st.data())
def test_damaged_episode_file_is_refused_by_name_or_round_trips(doc, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("case") / "episodes.json"
    path.write_bytes(data.draw(damaged_json(doc)))
    loaded = expect_named("episode file", lambda: EpisodeSet.load(path), EpisodeFormatError)
    if loaded is not None:
        again = EpisodeSet.load(loaded.save(path.with_name("again.json")))
        assert again == loaded
        if all(e.scene_seed is not None for e in loaded):
            assert sum(len(s) for s in loaded.splits().values()) == len(loaded)
        else:  # a loaded mesh's episodes have no seed: nothing to split by, and it says so
            with pytest.raises(ValueError, match="has no scene seed to split by"):
                loaded.splits()


def test_a_failed_save_leaves_no_file(tmp_path):
    bad = episodes()
    bad.episodes[0].info["noise"] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        bad.save(tmp_path / "episodes.json")
    assert list(tmp_path.iterdir()) == []
    bad.episodes[0].info["noise"] = np.float32(0.25)  # numpy scalars are fine
    assert EpisodeSet.load(bad.save(tmp_path / "episodes.json"))[0].info["noise"] == 0.25


def test_episode_fuzzing_reached_both_outcomes():
    Tally.assert_both_outcomes("episode file")
