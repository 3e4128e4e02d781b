"""The topological-semantic map G = (V, E, L) of Astra-Global, and the queries on it.

V are keyframes with a pose and images, E undirected edges between nearby nodes that see each
other (for global path planning), L landmarks stored as text, with co-visibility kept both
ways (landmark -> nodes, node -> landmarks) because localization walks it in both
directions: landmarks matched in a query image -> candidate nodes -> their landmarks.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree


@dataclass(eq=False)
class Node:
    """A keyframe of the tour.

    Attributes:
        id: index in ``TopoSemanticMap.nodes``.
        pose: (6,) float64 (x, y, z, roll, pitch, yaw) of the camera rig's base at the rig's
            height: the robot's planar pose lifted to its cameras, the frame of the images.
        rgb: (C, H, W, 3) uint8, one image per camera of the rig.
        depth: (C, H, W) float32 metres, whole millimetres (what the 16-bit PNGs on disk hold,
            so a saved map loads back equal); 0 where nothing was hit.
        landmarks: ids of the landmarks this node sees, increasing.
        landmark_pixels: pixels each of those covers in the node's images (all cameras).
        step: control step of the tour the keyframe was taken at.
        timestamp: simulated seconds into the tour.
    """

    id: int
    pose: np.ndarray
    rgb: np.ndarray
    depth: np.ndarray
    landmarks: tuple[int, ...] = ()
    landmark_pixels: tuple[int, ...] = ()
    step: int = -1
    timestamp: float = 0.0

    @property
    def xy(self) -> np.ndarray:
        return self.pose[:2]

    @property
    def yaw(self) -> float:
        return float(self.pose[5])

    @property
    def pose2d(self) -> np.ndarray:
        """(x, y, yaw): the planar pose the simulator and the renderer take."""
        return self.pose[[0, 1, 5]]

    @property
    def matrix(self) -> np.ndarray:
        """4x4 homogeneous transform from the rig base frame to the map frame."""
        return pose_matrix(self.pose)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return (
            (self.id, self.landmarks, self.landmark_pixels, self.step, self.timestamp)
            == (other.id, other.landmarks, other.landmark_pixels, other.step, other.timestamp)
            and np.array_equal(self.pose, other.pose)
            and np.array_equal(self.rgb, other.rgb)
            and np.array_equal(self.depth, other.depth)
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass
class Landmark:
    """A scene instance some node sees, stored as the text an LLM reads.

    Attributes:
        id: index in ``TopoSemanticMap.landmarks`` (``L<id>`` in prompts).
        instance_id: row of the scene's instance table (the semantic image value).
        category: e.g. ``sofa``, ``sign``, ``door``.
        name: short name, e.g. ``orange sofa`` or ``sign 'Room 202'``.
        attributes: visual attributes, e.g. ``{"colour": "orange", "material": "fabric"}``.
        description: functional description ("a place to sit and rest"), for language goals.
        text: what a sign or a shelf label reads; empty for other things.
        room: name of the room it stands in ("kitchen", "room 203"), as the map's labeller
            names places; language goals such as "go to the kitchen" need it.
        position: (x, y, z) centre of the instance's footprint on the floor, metres.
        nodes: ids of the nodes that see it, increasing.
    """

    id: int
    instance_id: int
    category: str
    name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    description: str = ""
    text: str = ""
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    nodes: tuple[int, ...] = ()
    room: str = ""


def depth_to_mm(depth: np.ndarray) -> np.ndarray:
    """Depth in metres -> uint16 millimetres (rounded, clipped to 65.535 m; NaN -> 0)."""
    metres = np.clip(np.nan_to_num(np.asarray(depth, dtype=np.float64), nan=0.0), 0.0, 65.535)
    return np.round(metres * 1000.0).astype(np.uint16)


def mm_to_depth(mm: np.ndarray) -> np.ndarray:
    """uint16 millimetres -> float32 metres; `mm_to_depth(depth_to_mm(d))` is what nodes hold."""
    return np.asarray(mm, dtype=np.uint16).astype(np.float32) / np.float32(1000.0)


def pose_matrix(pose: np.ndarray) -> np.ndarray:
    """(x, y, z, roll, pitch, yaw) -> 4x4 transform, rotation Rz(yaw) Ry(pitch) Rx(roll)."""
    x, y, z, roll, pitch, yaw = (float(v) for v in pose)
    cr, sr, cp, sp, cy, sy = (f(a) for a in (roll, pitch, yaw) for f in (math.cos, math.sin))
    m = np.eye(4)
    m[:3, :3] = [
        [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
        [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
        [-sp, cp * sr, cp * cr],
    ]
    m[:3, 3] = (x, y, z)
    return m


class TopoSemanticMap:
    """G = (V, E, L): keyframe nodes, undirected edges, landmarks with co-visibility.

    Args:
        nodes: the keyframes, ``nodes[i].id == i``.
        edges: (E, 2) node id pairs; stored sorted, each as (i, j) with i < j.
        landmarks: ``landmarks[k].id == k``; ``nodes`` of each must agree with the nodes'
            ``landmarks`` lists (checked).
        metadata: scene kind/seed/params, build settings and anything else to keep.

    Raises:
        ValueError: if ids, edges or co-visibility lists are inconsistent.
    """

    def __init__(
        self,
        nodes: list[Node],
        edges: np.ndarray,
        landmarks: list[Landmark],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.nodes = list(nodes)
        e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        e = np.unique(np.sort(e, axis=1), axis=0) if len(e) else e
        self.edges = e
        self.landmarks = list(landmarks)
        self.metadata = dict(metadata or {})
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first inconsistency; loaders rely on this."""
        n = len(self.nodes)
        for i, node in enumerate(self.nodes):
            if node.id != i:
                raise ValueError(f"node row {i} has id {node.id}")
            if np.shape(node.pose) != (6,):
                raise ValueError(f"node {i}: pose must be 6 numbers, got {np.shape(node.pose)}")
            if len(node.landmarks) != len(node.landmark_pixels):
                raise ValueError(f"node {i}: landmarks and landmark_pixels differ in length")
        for k, mark in enumerate(self.landmarks):
            if mark.id != k:
                raise ValueError(f"landmark row {k} has id {mark.id}")
        if len(self.edges) and (self.edges.min() < 0 or self.edges.max() >= n):
            raise ValueError(f"edges name nodes outside [0, {n})")
        if len(self.edges) and (self.edges[:, 0] == self.edges[:, 1]).any():
            raise ValueError("edges must join two different nodes")
        forward = {(m.id, v) for m in self.landmarks for v in m.nodes}
        backward = {(k, node.id) for node in self.nodes for k in node.landmarks}
        if forward != backward:
            bad = sorted(forward ^ backward)[0]
            raise ValueError(
                f"co-visibility lists disagree: landmark {bad[0]} and node {bad[1]} are "
                "listed on one side only"
            )
        if any(v >= n for _, v in forward):
            raise ValueError(f"landmarks list nodes outside [0, {n})")

    # ------------------------------------------------------------- graph queries
    @property
    def positions(self) -> np.ndarray:
        """(V, 2) node (x, y)."""
        return np.array([node.xy for node in self.nodes], dtype=np.float64).reshape(-1, 2)

    @property
    def edge_lengths(self) -> np.ndarray:
        """(E,) metres between the ends of each edge."""
        p = self.positions
        return np.linalg.norm(p[self.edges[:, 0]] - p[self.edges[:, 1]], axis=1)

    @functools.cached_property
    def adjacency(self) -> sparse.csr_matrix:
        """Symmetric (V, V) sparse matrix of edge lengths."""
        n, (i, j), w = len(self.nodes), self.edges.T, self.edge_lengths
        # Coincident nodes still need a nonzero weight, or csgraph would read "no edge".
        w = np.maximum(w, 1e-9)
        return sparse.csr_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(n, n))

    def neighbours(self, node_id: int) -> list[int]:
        """Ids of the nodes joined to ``node_id`` by an edge."""
        self._check_node(node_id)
        return sorted(int(v) for v in self.adjacency[node_id].indices)

    def components(self) -> tuple[np.ndarray, int]:
        """(labels per node, count) of the connected components of the graph."""
        count, labels = csgraph.connected_components(self.adjacency, directed=False)
        return labels, int(count)

    def shortest_path(self, start: int, goal: int) -> list[int]:
        """Node ids from ``start`` to ``goal`` along edges, shortest in metres; [] if none."""
        self._check_node(start, "start")
        self._check_node(goal, "goal")
        _, pred = csgraph.dijkstra(self.adjacency, indices=start, return_predecessors=True)
        if start != goal and pred[goal] < 0:
            return []
        path = [goal]
        while path[-1] != start:
            path.append(int(pred[path[-1]]))
        return path[::-1]

    def path_length(self, path: list[int]) -> float:
        """Metres along a node path (straight segments between consecutive nodes)."""
        p = self.positions[np.asarray(path, dtype=np.int64)]
        return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()) if len(p) > 1 else 0.0

    def nearest_node(self, xy: np.ndarray) -> int:
        """Id of the node nearest (straight line) to the world point ``xy``."""
        point = np.asarray(xy, dtype=np.float64)
        if point.shape != (2,) or not np.isfinite(point).all():
            raise ValueError(f"xy must be a finite (x, y) point, got {xy!r}")
        if not self.nodes:
            raise ValueError("the map has no nodes")
        return int(self._tree.query(point)[1])

    @functools.cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(self.positions)

    # ------------------------------------------------------------- co-visibility
    def nodes_seeing(self, landmark_id: int) -> list[int]:
        """Ids of the nodes that see landmark ``landmark_id``."""
        if not (0 <= landmark_id < len(self.landmarks)):
            raise ValueError(f"landmark_id {landmark_id} not in [0, {len(self.landmarks)})")
        return list(self.landmarks[landmark_id].nodes)

    def landmarks_seen(self, node_id: int) -> list[int]:
        """Ids of the landmarks node ``node_id`` sees."""
        self._check_node(node_id)
        return list(self.nodes[node_id].landmarks)

    def landmark_of_instance(self, instance_id: int) -> Landmark | None:
        """The landmark made from scene instance ``instance_id``, if any node saw it."""
        return next((m for m in self.landmarks if m.instance_id == instance_id), None)

    def _check_node(self, node_id: int, what: str = "node_id") -> None:
        if isinstance(node_id, bool) or not isinstance(node_id, (int, np.integer)):
            raise ValueError(f"{what} must be an integer node id, got {node_id!r}")
        if not (0 <= node_id < len(self.nodes)):
            raise ValueError(f"{what} {node_id} not in [0, {len(self.nodes)})")

    # ------------------------------------------------------------- equality
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TopoSemanticMap):
            return NotImplemented
        return (
            self.nodes == other.nodes
            and np.array_equal(self.edges, other.edges)
            and self.landmarks == other.landmarks
            and self.metadata == other.metadata
        )

    __hash__ = None  # type: ignore[assignment]

    def summary(self) -> str:
        _, count = self.components()
        return (
            f"map of {len(self.nodes)} nodes, {len(self.edges)} edges ({count} component"
            f"{'s' if count != 1 else ''}), {len(self.landmarks)} landmarks"
        )
