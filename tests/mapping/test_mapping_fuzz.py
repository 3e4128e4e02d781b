"""Fuzzing map files: a damaged map.json (or image) is refused with MapFormatError naming
the file, or loads into a map that works (graph queries, the prompt text)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from fuzzing import CHEAP, FUZZ, Tally, damaged_bytes, damaged_json, expect_named
from hypothesis import given, settings
from hypothesis import strategies as st

from astra_sim.mapping.graph import Landmark, Node, TopoSemanticMap
from astra_sim.mapping.io import MapFormatError, load_map, save_map
from astra_sim.mapping.text import render_map_text

pytestmark = pytest.mark.timeout(120)


def tiny_map() -> TopoSemanticMap:
    """Three nodes on a line, one landmark seen by two of them, 4 x 6 px images."""
    rng = np.random.default_rng(0)
    nodes = [
        Node(i, np.array([i * 1.5, 0.5, 0.6, 0.0, 0.0, 0.1 * i]),
             rng.integers(0, 255, (1, 4, 6, 3), dtype=np.uint8),
             np.full((1, 4, 6), 1.5 + i, np.float32), landmarks=(0,) if i else (),
             landmark_pixels=(7,) if i else (), step=10 * i, timestamp=float(i))
        for i in range(3)
    ]  # fmt: skip
    mark = Landmark(0, 4, "sofa", "red sofa", {"colour": "red"}, "somewhere to rest", "",
                    (2.0, 1.0, 0.0), (1, 2), "living room")  # fmt: skip
    return TopoSemanticMap(nodes, [[0, 1], [1, 2]], [mark], {"scene": "tiny", "rig": "one"})


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    directory = tmp_path_factory.mktemp("map")
    save_map(tiny_map(), directory)
    return directory, json.loads((directory / "map.json").read_text())


def use(tmap: TopoSemanticMap) -> None:
    """What the localizers and the route planner ask of a map first."""
    assert np.isfinite(tmap.edge_lengths).all()
    if tmap.nodes:
        tmap.nearest_node(np.zeros(2))
        tmap.shortest_path(0, len(tmap.nodes) - 1)
    render_map_text(tmap)


def case_dir(saved, tmp_path_factory):
    directory = tmp_path_factory.mktemp("case")
    shutil.copytree(saved[0] / "images", directory / "images")
    return directory


@FUZZ
@given(data=st.data())
def test_damaged_map_json_is_refused_by_name_or_works(saved, tmp_path_factory, data):
    directory = case_dir(saved, tmp_path_factory)
    (directory / "map.json").write_bytes(data.draw(damaged_json(saved[1])))
    tmap = expect_named("map.json", lambda: load_map(directory), MapFormatError)
    if tmap is not None:
        use(tmap)


@settings(FUZZ, max_examples=CHEAP // 6)
@given(data=st.data())
def test_damaged_map_image_is_refused_by_name(saved, tmp_path_factory, data):
    directory = case_dir(saved, tmp_path_factory)
    shutil.copy(saved[0] / "map.json", directory / "map.json")
    names = sorted(p.name for p in (directory / "images").iterdir())
    image = directory / "images" / data.draw(st.sampled_from(names))
    image.write_bytes(data.draw(damaged_bytes(image.read_bytes())))
    tmap = expect_named("map image", lambda: load_map(directory), MapFormatError)
    if tmap is not None:
        use(tmap)


def test_map_fuzzing_reached_both_outcomes():
    Tally.assert_both_outcomes("map.json", "map image")
