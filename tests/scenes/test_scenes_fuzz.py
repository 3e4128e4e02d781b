"""Fuzzing scene.json: a damaged sidecar is refused with SceneFormatError naming the file, or
loads into a scene that works (navigability, language goals); never a bare exception."""

from __future__ import annotations

import json
import shutil

import pytest
from fuzzing import FUZZ, Tally, damaged_json, expect_named, tiny_scene
from hypothesis import given
from hypothesis import strategies as st

from astra_sim.core.errors import SceneFormatError
from astra_sim.scenes import Scene
from astra_sim.tasks import language_goals

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    directory = tiny_scene().save(tmp_path_factory.mktemp("scene") / "tiny")
    return directory, json.loads((directory / "scene.json").read_text())


def use(scene: Scene) -> None:
    """What every consumer of a scene does first."""
    grid = scene.navgrid()
    language_goals(scene, grid)
    for room in scene.rooms:
        room.contains(grid.cell_to_world([[0, 0]]))


@FUZZ
@given(data=st.data())
def test_damaged_scene_json_is_refused_by_name_or_works(saved, tmp_path_factory, data):
    good_dir, doc = saved
    directory = tmp_path_factory.mktemp("case")
    shutil.copy(good_dir / "scene.glb", directory / "scene.glb")
    (directory / "scene.json").write_bytes(data.draw(damaged_json(doc)))
    scene = expect_named("scene.json", lambda: Scene.load(directory), SceneFormatError)
    if scene is not None:
        use(scene)


def test_scene_fuzzing_reached_both_outcomes():
    Tally.assert_both_outcomes("scene.json")
