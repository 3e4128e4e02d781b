"""Maps built from expert tours of the SMALL home and office: coverage, edges, landmarks."""

from __future__ import annotations

import functools
import itertools
import re

import numpy as np
import pytest
from conftest import SMALL, cached_scene

from astra_sim.core.errors import UnknownNameError
from astra_sim.mapping import MapConfig, TopoSemanticMap, build_map
from astra_sim.sim import SimConfig, Simulator

# Coarse settings keep the office tour short; the office test only needs the signs.
OFFICE_CONFIG = MapConfig(spacing=5.0, travel=1.0, turn_deg=60.0)


@functools.cache
def small_map(kind: str, config: MapConfig | None = None) -> TopoSemanticMap:
    return build_map(cached_scene(kind, 0, **SMALL[kind]), config)


def test_nodes_cover_every_room():
    scene, m = cached_scene("home", 0), small_map("home")
    xy = m.positions
    for room in scene.rooms:
        assert room.contains(xy).any(), f"no node in {room.name}"
    assert m.metadata["tour"]["complete"]
    assert m.metadata["scene"] == {
        "kind": "home",
        "seed": 0,
        "params": scene.metadata["params"],
        "nav_config": m.metadata["scene"]["nav_config"],
    }


def test_nodes_hold_rig_images_at_keyframe_spacing():
    m = small_map("home")
    node = m.nodes[0]
    assert node.rgb.shape == (4, 128, 128, 3) and node.rgb.dtype == np.uint8
    assert node.depth.shape == (4, 128, 128) and node.depth.dtype == np.float32
    mm = node.depth.astype(np.float64) * 1000
    assert np.allclose(mm, np.round(mm), atol=1e-3)  # whole millimetres, as saved
    assert node.pose[2] == pytest.approx(0.5) and np.all(node.pose[3:5] == 0)
    steps = [n.step for n in m.nodes]
    assert steps == sorted(set(steps))
    # consecutive keyframes: far enough apart in distance or heading to be new views
    a, b = m.positions[:-1], m.positions[1:]
    turn = np.abs((np.diff([n.yaw for n in m.nodes]) + np.pi) % (2 * np.pi) - np.pi)
    assert np.all((np.linalg.norm(b - a, axis=1) >= 0.5 - 1e-6) | (turn >= np.radians(30) - 1e-6))


def test_edges_are_short_with_line_of_sight_and_graph_is_connected():
    scene, m = cached_scene("home", 0), small_map("home")
    grid = scene.navgrid()
    assert len(m.edges) > len(m.nodes)
    assert m.edge_lengths.max() <= 2.0 + 1e-9
    xy = m.positions
    t = np.linspace(0, 1, 400)[:, None]
    for i, j in m.edges:
        assert grid.is_navigable(xy[i] + t * (xy[j] - xy[i])).all(), (i, j)
    assert m.components()[1] == 1
    path = m.shortest_path(0, len(m.nodes) - 1)
    assert path[0] == 0 and path[-1] == len(m.nodes) - 1
    edges = {tuple(e) for e in m.edges.tolist()}
    assert all(tuple(sorted(p)) in edges for p in itertools.pairwise(path))


def test_landmarks_are_really_seen_and_covisibility_agrees():
    scene, m = cached_scene("home", 0), small_map("home")
    assert len(m.landmarks) >= len(scene.landmarks()) // 2
    for mark in m.landmarks:
        assert scene.instances[mark.instance_id].landmark
        assert mark.nodes and m.nodes_seeing(mark.id) == list(mark.nodes)
        for v in mark.nodes:
            assert mark.id in m.nodes[v].landmarks
    for node in m.nodes:
        for k in node.landmarks:
            assert node.id in m.landmarks[k].nodes
    # Re-render a few nodes: the pixel counts the map holds are what the rig sees there.
    min_pixels = MapConfig().min_pixels
    with Simulator(scene, SimConfig()) as sim:
        for node in m.nodes[:: max(1, len(m.nodes) // 8)]:
            frame = sim.render(node.pose2d)
            counts = np.bincount(frame.semantic.ravel(), minlength=len(scene.instances))
            for k, pixels in zip(node.landmarks, node.landmark_pixels, strict=True):
                assert counts[m.landmarks[k].instance_id] == pixels >= min_pixels
            unseen = [mk.instance_id for mk in m.landmarks if mk.id not in node.landmarks]
            assert np.all(counts[unseen] < min_pixels)


def test_nearest_node_and_text_attributes():
    m = small_map("home")
    node = m.nodes[len(m.nodes) // 2]
    nearest = m.nearest_node(node.xy)
    assert np.allclose(m.nodes[nearest].xy, node.xy)
    sofa = next(mk for mk in m.landmarks if mk.category == "sofa")
    assert sofa.attributes["colour"] and "sit" in sofa.description


def test_office_signs_are_landmarks():
    scene, m = cached_scene("office", 0, **SMALL["office"]), small_map("office", OFFICE_CONFIG)
    texts = {mk.text for mk in m.landmarks if mk.text}
    rooms = {t for t in texts if re.fullmatch(r"Room 2\d\d", t)}
    assert len(rooms) >= 3, texts
    assert texts <= {inst.text for inst in scene.instances if inst.text}
    for room in scene.rooms:
        assert room.contains(m.positions).any(), f"no node in {room.name}"


def test_pose_source_and_config_errors():
    with pytest.raises(UnknownNameError, match="pose source"):
        MapConfig(pose_source="slam")
    with pytest.raises(ValueError, match="travel"):
        MapConfig(travel=-1.0)
    with pytest.raises(ValueError, match="min_pixels"):
        MapConfig(min_pixels=0)
    with pytest.raises(ValueError, match="max_steps"):
        MapConfig(max_steps=2.5)
