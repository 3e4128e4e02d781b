"""The map model on a hand-made graph: queries, co-visibility checks, poses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from astra_sim.mapping import Landmark, Node, TopoSemanticMap
from astra_sim.mapping.graph import pose_matrix


def tiny_map() -> TopoSemanticMap:
    """Five nodes in a row 1 m apart (0-1-2-3 joined, 4 alone) and three landmarks."""
    rng = np.random.default_rng(0)
    seen = {0: (0,), 1: (0, 1), 2: (1,), 3: (), 4: (2,)}
    nodes = [
        Node(
            id=i,
            pose=np.array([float(i), 0.0, 0.5, 0.0, 0.0, 0.1 * i]),
            rgb=rng.integers(0, 256, (2, 4, 6, 3), dtype=np.uint8),
            depth=np.round(rng.uniform(0, 5, (2, 4, 6)) * 1000).astype(np.float32) / 1000,
            landmarks=seen[i],
            landmark_pixels=tuple(50 + k for k in seen[i]),
            step=10 * i,
            timestamp=float(i),
        )
        for i in range(5)
    ]
    marks = [
        Landmark(0, 7, "sofa", "red sofa", {"colour": "red", "material": "fabric"},
                 "a place to sit and rest", "", (0.5, 1.0, 0.0), (0, 1)),
        Landmark(1, 9, "sign", "sign 'Room 201'", {"colour": "white", "material": "plastic"},
                 "a door sign that reads 'Room 201'", "Room 201", (1.5, 1.0, 0.0), (1, 2)),
        Landmark(2, 12, "plant", "green plant", {"colour": "green"}, "", "", (4.0, 1.0, 0.0),
                 (4,)),
    ]  # fmt: skip
    return TopoSemanticMap(nodes, [(1, 0), (1, 2), (3, 2)], marks, {"scene": {"kind": "x"}})


def test_edges_are_sorted_pairs_with_lengths():
    m = tiny_map()
    assert m.edges.tolist() == [[0, 1], [1, 2], [2, 3]]
    assert np.allclose(m.edge_lengths, 1.0)
    assert m.neighbours(1) == [0, 2]


def test_shortest_path_and_components():
    m = tiny_map()
    assert m.shortest_path(0, 3) == [0, 1, 2, 3]
    assert m.path_length([0, 1, 2, 3]) == pytest.approx(3.0)
    assert m.shortest_path(2, 2) == [2]
    assert m.shortest_path(0, 4) == []
    labels, count = m.components()
    assert count == 2 and labels[0] == labels[3] != labels[4]
    with pytest.raises(ValueError, match="goal"):
        m.shortest_path(0, 5)


def test_nearest_node_and_covisibility():
    m = tiny_map()
    assert m.nearest_node(np.array([2.4, 3.0])) == 2
    assert m.nodes_seeing(1) == [1, 2]
    assert m.landmarks_seen(1) == [0, 1]
    assert m.landmark_of_instance(9).text == "Room 201"
    assert m.landmark_of_instance(8) is None
    with pytest.raises(ValueError, match="landmark_id"):
        m.nodes_seeing(3)
    with pytest.raises(ValueError, match="xy"):
        m.nearest_node(np.array([np.nan, 0.0]))


def test_node_pose_forms():
    node = tiny_map().nodes[2]
    assert np.allclose(node.pose2d, [2.0, 0.0, 0.2])
    mat = node.matrix
    assert np.allclose(mat[:3, 3], [2.0, 0.0, 0.5])
    assert np.allclose(mat[:2, 0], [math.cos(0.2), math.sin(0.2)])
    # roll, pitch, yaw compose as Rz Ry Rx
    r = pose_matrix([0, 0, 0, 0.3, -0.2, 1.0])[:3, :3]
    assert np.allclose(r @ r.T, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)


def test_inconsistent_maps_are_refused():
    m = tiny_map()
    m.landmarks[0].nodes = (0,)  # node 1 still lists landmark 0
    with pytest.raises(ValueError, match="co-visibility"):
        TopoSemanticMap(m.nodes, m.edges, m.landmarks)
    m = tiny_map()
    with pytest.raises(ValueError, match="edges"):
        TopoSemanticMap(m.nodes, [(0, 9)], m.landmarks)
    with pytest.raises(ValueError, match="node row"):
        TopoSemanticMap(m.nodes[1:], [], [])


def test_equality_sees_images():
    a, b = tiny_map(), tiny_map()
    assert a == b
    b.nodes[3].rgb[0, 0, 0, 0] ^= 1
    assert a != b
