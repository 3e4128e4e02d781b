"""Saving and loading maps: equal round trips, and clear errors for broken map directories."""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pytest
from conftest import cached_scene

from astra_sim.mapping import MapConfig, MapFormatError, TopoSemanticMap, build_map, load_map
from astra_sim.mapping import save_map as save


@functools.cache
def short_map() -> TopoSemanticMap:
    """A map of the first 150 tour steps of the SMALL home: a dozen nodes, quick to build."""
    return build_map(cached_scene("home", 0), MapConfig(max_steps=150))


def test_round_trip_is_equal(tmp_path):
    m = short_map()
    assert 5 <= len(m.nodes) <= 60 and m.landmarks and len(m.edges)
    path = save(m, tmp_path / "map")
    assert path.name == "map.json"
    images = tmp_path / "map" / "images"
    assert (images / "node_00000_cam0.png").is_file()
    assert (images / f"node_{len(m.nodes) - 1:05d}_cam3_depth.png").is_file()
    loaded = load_map(tmp_path / "map")
    assert loaded == m
    assert loaded.nodes[1].depth.dtype == np.float32 and loaded.nodes[1].rgb.dtype == np.uint8
    assert loaded.shortest_path(0, len(m.nodes) - 1) == m.shortest_path(0, len(m.nodes) - 1)


def test_saving_a_smaller_map_removes_stale_images(tmp_path):
    m = short_map()
    save(m, tmp_path)
    nodes = [dataclasses.replace(n, landmarks=(), landmark_pixels=()) for n in m.nodes[:2]]
    few = TopoSemanticMap(nodes, [(0, 1)], [], m.metadata)
    save(few, tmp_path)
    assert len(list((tmp_path / "images").glob("*.png"))) == 2 * 2 * 4
    assert load_map(tmp_path) == few


@pytest.fixture
def saved(tmp_path):
    save(short_map(), tmp_path)
    return tmp_path


def test_missing_directory_or_file(tmp_path):
    with pytest.raises(MapFormatError, match="no such map directory"):
        load_map(tmp_path / "nope")
    with pytest.raises(MapFormatError, match=r"map\.json: missing"):
        load_map(tmp_path)


def test_corrupt_json(saved):
    text = (saved / "map.json").read_text()
    (saved / "map.json").write_text(text[: len(text) // 2])
    with pytest.raises(MapFormatError, match=r"map\.json: not valid JSON"):
        load_map(saved)


def _edit(saved, change):
    doc = json.loads((saved / "map.json").read_text())
    change(doc)
    (saved / "map.json").write_text(json.dumps(doc))


def test_wrong_version_missing_key_bad_values(saved):
    _edit(saved, lambda d: d.update(format_version=99))
    with pytest.raises(MapFormatError, match="format_version 99"):
        load_map(saved)
    _edit(saved, lambda d: d.update(format_version=1) or d.pop("edges"))
    with pytest.raises(MapFormatError, match="missing key 'edges'"):
        load_map(saved)
    _edit(saved, lambda d: d.update(edges=[[0, 10_000]]))
    with pytest.raises(MapFormatError, match="edges name nodes outside"):
        load_map(saved)
    _edit(saved, lambda d: d.update(edges=[]) or d["nodes"][0].update(pose=[0, 0]))
    with pytest.raises(MapFormatError, match="pose must be 6 finite numbers"):
        load_map(saved)


def test_covisibility_tampering_is_caught(saved):
    def drop_first_node_of_first_landmark(doc):
        doc["landmarks"][0]["nodes"] = doc["landmarks"][0]["nodes"][1:]

    _edit(saved, drop_first_node_of_first_landmark)
    with pytest.raises(MapFormatError, match="co-visibility"):
        load_map(saved)


def test_missing_or_broken_image(saved):
    (saved / "images" / "node_00001_cam2.png").unlink()
    with pytest.raises(MapFormatError, match=r"node_00001_cam2\.png: missing image"):
        load_map(saved)
    (saved / "images" / "node_00001_cam2.png").write_bytes(b"not a png")
    with pytest.raises(MapFormatError, match=r"node_00001_cam2\.png: unreadable image"):
        load_map(saved)
