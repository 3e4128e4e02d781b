"""Astra-Global's part of the composed agent: the map of the building, the localizers, and
the goal the instruction (or goal image) names.

Everything here runs at a low rate: once per episode for the goal, a few times per episode
for self-localization. Nothing reads the scene: the agent has the map built offline from a
tour, the rig's images and its checkpoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.agents.astra.config import AstraConfig
from astra_sim.core.shipped import shipped_checkpoints
from astra_sim.mapping.graph import TopoSemanticMap

MAKERS = {
    "planner": "astra-sim train local --recipe agents/astra_local_planner_small.yaml",
    "odometry": "astra-sim train local --recipe agents/astra_local_odometry_small.yaml",
    "detector": "astra-sim train detector --out agents/checkpoints/landmark_detector.pt",
    "sign_reader": "astra-sim train sign-reader (see agents/checkpoints/sign_reader.md)",
}
"""The command that makes each checkpoint, named in the error when one is missing."""


def resolve_checkpoint(path: str, what: str) -> Path:
    """``path`` as given if it exists or is absolute, else under the shipped checkpoints.

    Raises:
        FileNotFoundError: naming the file and the command that makes it.
    """
    given = Path(path)
    found = given if given.exists() or given.is_absolute() else shipped_checkpoints() / given
    if not found.exists():
        raise FileNotFoundError(
            f"astra.{what} checkpoint {found} does not exist; make it with: {MAKERS[what]}"
        )
    return found


def make_localizer(cfg: AstraConfig) -> Any:
    """The self-localizer the config names (the Localizer protocol of ``astra_global``)."""
    if cfg.localizer == "mllm":
        from astra_sim.agents.astra_global.mllm.localizer import load_mllm_localizer

        return load_mllm_localizer(cfg.model)
    from astra_sim.agents.astra_global.landmark_detector import LandmarkDetector
    from astra_sim.agents.astra_global.landmarks import LandmarkLocalizer
    from astra_sim.agents.astra_global.sign_reader import SignReader

    detector = LandmarkDetector.load(resolve_checkpoint(cfg.detector, "detector"))
    reader = SignReader.load(resolve_checkpoint(cfg.sign_reader, "sign_reader"))
    return LandmarkLocalizer("pixel", landmark_detector=detector, sign_reader=reader)


def load_building_map(building: dict[str, Any], map_dir: str | None) -> TopoSemanticMap:
    """The map of the building the robot is in: from ``map_dir`` or the map cache.

    Raises:
        FileNotFoundError: ``map_dir`` has no map for this building (names the command).
        ValueError: the map was built for another scene.
    """
    from astra_sim.mapping.build import MapConfig

    kind, seed, params = building["kind"], building["seed"], building.get("params") or {}
    if map_dir is not None:
        from astra_sim.mapping.io import MAP_FILE, load_map

        folder = Path(map_dir) / f"{kind}-{seed}"
        if not (folder / MAP_FILE).is_file():
            raise FileNotFoundError(
                f"no map of {kind} seed {seed} in {map_dir}; make it with: astra-sim scene "
                f"generate --kind {kind} --seed {seed} --out SCENE && astra-sim map build "
                f"--scene SCENE --out {folder}"
            )
        topo = load_map(folder)
    else:
        from astra_sim.mapping.cache import cached_map

        topo = cached_map(kind, seed, MapConfig(), params or None)
    check_map_scene(topo, building)
    return topo


def check_map_scene(topo: TopoSemanticMap, building: dict[str, Any]) -> None:
    """Refuse a map whose recorded scene is not the robot's building."""
    scene = topo.metadata.get("scene", {})
    mine = (building["kind"], building["seed"])
    theirs = (scene.get("kind"), scene.get("seed"))
    mismatch = [k for k, v in (building.get("params") or {}).items()
                if k in scene.get("params", {}) and scene["params"][k] != v]  # fmt: skip
    if mine != theirs or mismatch:
        raise ValueError(
            f"the map was built for {theirs[0]} seed {theirs[1]} "
            f"{'(other params: ' + ', '.join(mismatch) + ')' if mismatch else ''}"
            f"but the robot is in {mine[0]} seed {mine[1]}; build the map of this scene"
        )


@dataclass
class GoalEstimate:
    """Where the agent believes the goal is (map frame) and how it got there.

    Attributes:
        target: (x, y) the agent drives to and stops at.
        node: the goal's map node (the route ends there, then goes to ``target``).
        pose: the localizer's goal pose (x, y, yaw).
        landmark: the map landmark chosen (language goals), else None.
        instance_id: that landmark's scene instance id, for scoring only.
        source: ``language``, ``image`` or ``oracle``.
    """

    target: np.ndarray
    node: int
    pose: np.ndarray
    landmark: int | None = None
    instance_id: int | None = None
    source: str = "language"

    def to_json(self) -> dict[str, Any]:
        return {
            "target": [round(float(v), 4) for v in self.target],
            "node": int(self.node),
            "pose": [round(float(v), 4) for v in self.pose],
            "landmark": self.landmark,
            "instance_id": self.instance_id,
            "source": self.source,
        }


def approach_point(node_xy: np.ndarray, landmark_xy: np.ndarray, distance: float) -> np.ndarray:
    """The point ``distance`` m from the landmark towards the node that sees it (the node
    itself when it is nearer): a landmark goal is reached beside the thing, not at the
    keyframe that saw it from across the room."""
    d = np.asarray(node_xy, np.float64) - np.asarray(landmark_xy, np.float64)
    n = float(np.linalg.norm(d))
    if n <= distance:
        return np.asarray(node_xy, np.float64).copy()
    return np.asarray(landmark_xy, np.float64) + d * (distance / n)


def language_goal(
    goal_localizer: Any, instruction: str, topo: TopoSemanticMap, start: Any, approach: float
) -> tuple[GoalEstimate | None, str]:
    """The goal an instruction names, searched outward from ``start``; (None, why) if none."""
    res = goal_localizer.localize_goal(instruction, topo, start)
    if not res.ok:
        return None, res.failure
    mark = topo.landmarks[res.landmark]
    inside = room_goal_node(instruction, topo, res.landmark, start)
    if inside is not None:  # "room 208": into the room, not beside its door sign
        xy = topo.nodes[inside].xy.copy()
        pose = np.r_[xy, res.pose[2]]
        return GoalEstimate(xy, inside, pose, res.landmark, mark.instance_id), ""
    node_xy = topo.nodes[res.node].xy
    target = approach_point(node_xy, np.asarray(mark.position[:2]), approach)
    est = GoalEstimate(target, res.node, np.asarray(res.pose), res.landmark, mark.instance_id)
    return est, ""


def room_goal_node(
    instruction: str, topo: TopoSemanticMap, landmark: int, start: Any
) -> int | None:
    """The node to drive to when the instruction names a room and the chosen landmark is
    not one of that room's things (its door, its sign, something elsewhere): the node
    inside the room nearest the start along G (nearest the landmark with no start yet).
    None when no room is named, the landmark is the room's own, or no node stands in it."""
    from astra_sim.agents.astra_global.goal_localization import _graph_distances, _start_node
    from astra_sim.agents.astra_global.rooms import BETWEEN_ROOMS, named_room, room_nodes

    room = named_room(instruction, topo)
    mark = topo.landmarks[landmark]
    if room is None or (mark.room == room and mark.category not in BETWEEN_ROOMS):
        return None
    nodes = room_nodes(topo, room)
    if not nodes:
        return None
    along = _graph_distances(topo, _start_node(topo, start))  # zeros with no start
    beside = np.linalg.norm(topo.positions[nodes] - np.asarray(mark.position[:2]), axis=1)
    return min(nodes, key=lambda v: (along[v], beside[nodes.index(v)]))


def image_goal(
    localizer: Any, goal_image: np.ndarray, topo: TopoSemanticMap
) -> tuple[GoalEstimate | None, str]:
    """The pose the goal image was taken from, by the self-localizer; (None, why) if none."""
    from astra_sim.agents.astra_global.base import Query

    res = localizer.localize(Query(rgb=np.asarray(goal_image)), topo)
    if not res.ok or res.pose is None:
        return None, res.failure or "the goal image matched nothing"
    pose = np.asarray(res.pose, np.float64)
    node = res.node if res.node is not None else topo.nearest_node(pose[:2])
    return GoalEstimate(pose[:2].copy(), int(node), pose, source="image"), ""


def oracle_goal(topo: TopoSemanticMap, positions: np.ndarray, start_xy: np.ndarray) -> GoalEstimate:
    """The true goal position nearest the start along G (attribution rows only)."""
    from scipy.sparse import csgraph

    start = topo.nearest_node(np.asarray(start_xy)[:2])
    dist = csgraph.dijkstra(topo.adjacency, directed=False, indices=start)
    pos = np.asarray(positions, np.float64).reshape(-1, 2)
    nodes = [topo.nearest_node(p) for p in pos]
    cost = [
        dist[n] + float(np.linalg.norm(topo.nodes[n].xy - p))
        for n, p in zip(nodes, pos, strict=True)
    ]
    k = int(np.argmin(cost))
    d = pos[k] - topo.nodes[nodes[k]].xy
    yaw = math.atan2(d[1], d[0])
    return GoalEstimate(pos[k].copy(), nodes[k], np.r_[pos[k], yaw], source="oracle")
