"""LandmarkLocalizer (oracle detector) and its ORB + PnP refinement on a small office map."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import SMALL, cached_scene

pytest.importorskip("cv2")

from astra_sim.agents.astra_global.base import Localizer, Query, pose_errors
from astra_sim.agents.astra_global.landmarks import DETECTORS, LandmarkLocalizer
from astra_sim.mapping.build import MapConfig, build_map
from astra_sim.sim import SimConfig
from astra_sim.sim.simulator import Simulator


@functools.lru_cache(maxsize=1)
def _world():
    scene = cached_scene("office", 0, **SMALL["office"])
    topo = build_map(scene, MapConfig(spacing=4.0, travel=1.0, turn_deg=60.0))
    return scene, topo, Simulator(scene, SimConfig(rig="default"))


def _query(pose: np.ndarray) -> Query:
    _, _, sim = _world()
    frame = sim.render(pose)
    return Query(rgb=frame.rgb, depth=frame.depth, semantic=frame.semantic, true_pose=pose)


def _landmark_nodes(count: int) -> list[int]:
    _, topo, _ = _world()
    rich = [n.id for n in topo.nodes if len(n.landmarks) >= 2]
    return rich[:: max(1, len(rich) // count)][:count]


def test_protocol_and_name() -> None:
    loc = LandmarkLocalizer()
    assert isinstance(loc, Localizer)
    assert loc.name == "landmarks-oracle"


def test_query_at_a_node_localizes_to_it() -> None:
    _, topo, _ = _world()
    loc = LandmarkLocalizer()
    for nid in _landmark_nodes(3):
        node = topo.nodes[nid]
        res = loc.localize(_query(node.pose2d), topo)
        assert res.ok and res.matched and nid in res.candidates
        d, yaw = pose_errors(res.pose, node.pose2d)
        assert d < 0.1 and yaw < np.radians(2.0), (nid, res.node, d, yaw)
        assert res.extras["oracle"] is True


def test_refinement_beats_node_retrieval_off_node() -> None:
    _, topo, _ = _world()
    rng = np.random.default_rng(3)
    refined, retrieval = LandmarkLocalizer(), LandmarkLocalizer(refine=False)
    better = total = 0
    for nid in _landmark_nodes(6):
        a = rng.uniform(-np.pi, np.pi)
        pose = topo.nodes[nid].pose2d + np.array([0.3 * np.cos(a), 0.3 * np.sin(a), 0.0])
        pose[2] += np.radians(10.0)
        # Off-node poses can land in a wall; keep the ones the robot could stand at.
        if not _world()[0].navgrid().is_navigable(pose[:2][None])[0]:
            continue
        q = _query(pose)
        fine, coarse = refined.localize(q, topo), retrieval.localize(q, topo)
        assert fine.ok and coarse.ok
        total += 1
        better += pose_errors(fine.pose, pose)[0] < pose_errors(coarse.pose, pose)[0]
    assert total >= 3
    assert better >= 0.6 * total, (better, total)


def test_wrong_camera_count_raises() -> None:
    _, topo, _ = _world()
    q = _query(topo.nodes[0].pose2d)
    q.rgb, q.semantic = q.rgb[:2], q.semantic[:2]
    with pytest.raises(ValueError, match="camera"):
        LandmarkLocalizer().localize(q, topo)


def test_oracle_needs_semantic() -> None:
    _, topo, _ = _world()
    q = _query(topo.nodes[0].pose2d)
    q.semantic = None
    with pytest.raises(ValueError, match="semantic"):
        LandmarkLocalizer().localize(q, topo)


def test_unknown_detector_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="oracle"):
        LandmarkLocalizer(detector="yolo")
    assert {"oracle", "pixel"} <= set(DETECTORS)
    with pytest.raises(ValueError, match="landmark_detector"):
        LandmarkLocalizer(detector="pixel")
    with pytest.raises(ValueError, match="top_k"):
        LandmarkLocalizer(top_k=0)


def test_no_landmark_is_a_failure_not_a_crash() -> None:
    _, topo, _ = _world()
    q = _query(topo.nodes[0].pose2d)
    q.semantic = np.zeros_like(q.semantic)
    res = LandmarkLocalizer().localize(q, topo)
    assert not res.ok and "landmark" in res.failure
