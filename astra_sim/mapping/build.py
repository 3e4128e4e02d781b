"""Build the map of a scene: tour -> keyframes -> landmarks -> edges.

Poses are ground truth from the simulator by default. Astra gets them from SfM (COLMAP) on
the tour video; ``pose_source="sfm"`` does the same (see ``astra_sim.mapping.sfm``), so that
the effect of SfM error on localization can be measured against the ground-truth map.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from astra_sim.core.errors import UnknownNameError
from astra_sim.core.seeding import check_seed
from astra_sim.mapping.graph import Landmark, Node, TopoSemanticMap, depth_to_mm, mm_to_depth
from astra_sim.mapping.keyframes import KeyframeSelector
from astra_sim.mapping.tour import Tour, record_tour
from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavGrid
from astra_sim.sim import SimConfig

POSE_SOURCES = ("gt", "sfm")
"""Values ``MapConfig.pose_source`` accepts."""


@dataclass(frozen=True)
class MapConfig:
    """How to build a map.

    Attributes:
        travel: metres of travel from the last keyframe that make a new keyframe.
        turn_deg: degrees of turn from the last keyframe that make a new keyframe.
        edge_radius: nodes at most this far apart (metres) may be joined by an edge.
        edge_clearance: an edge's straight segment must keep this clearance (metres, ESDF)
            from obstacles; None uses the robot radius, so every edge can be driven straight,
            which is what global path planning on the graph assumes.
        min_pixels: a node sees a landmark if it covers at least this many pixels of the
            node's images (all cameras together).
        rig: camera rig of the tour (a name ``Rig.from_name`` knows).
        seed: picks the tour's start pose.
        spacing: metres between the tour's coverage waypoints.
        max_steps: control steps the tour may take at most.
        pose_source: ``gt`` (simulator ground truth) or ``sfm`` (COLMAP on the tour's
            images, aligned to the map frame; needs pycolmap).
        sfm_travel: with ``sfm``, SfM also sees a frame every this many metres ...
        sfm_turn_deg: ... or this many degrees, between the map's keyframes: SfM on the
            keyframes alone (0.5 m / 30 degrees of 128-pixel views) breaks into pieces,
            where a denser "video" chains; only the keyframes become nodes.
    """

    travel: float = 0.5
    turn_deg: float = 30.0
    edge_radius: float = 2.0
    edge_clearance: float | None = None
    min_pixels: int = 40
    rig: str = "default"
    seed: int = 0
    spacing: float = 2.5
    max_steps: int = 10_000
    pose_source: str = "gt"
    sfm_travel: float = 0.25
    sfm_turn_deg: float = 15.0

    def __post_init__(self) -> None:
        for name in ("travel", "turn_deg", "edge_radius", "spacing", "sfm_travel", "sfm_turn_deg"):
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (ok and math.isfinite(value) and value > 0):
                raise ValueError(f"MapConfig.{name} must be a finite number > 0, got {value!r}")
        c = self.edge_clearance
        if c is not None and (isinstance(c, bool) or not isinstance(c, (int, float)) or c < 0):
            raise ValueError(f"MapConfig.edge_clearance must be None or >= 0, got {c!r}")
        for name in ("min_pixels", "max_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"MapConfig.{name} must be a positive integer, got {value!r}")
        check_seed(self.seed, "MapConfig.seed")
        if self.pose_source not in POSE_SOURCES:
            raise UnknownNameError("pose source", self.pose_source, POSE_SOURCES)


def build_map(scene: Scene, config: MapConfig | None = None) -> TopoSemanticMap:
    """Tour ``scene`` with the expert and build its topological-semantic map.

    Raises:
        ImportError: for ``pose_source="sfm"`` without pycolmap.
        RuntimeError: for ``pose_source="sfm"`` when SfM registers no keyframe.
    """
    config = config or MapConfig()
    if config.pose_source == "sfm":
        return _build_sfm_map(scene, config)
    tour = record_tour(
        scene,
        SimConfig(rig=config.rig),
        seed=config.seed,
        max_steps=config.max_steps,
        spacing=config.spacing,
        keep=KeyframeSelector(config.travel, config.turn_deg),
    )
    return map_from_tour(scene, tour, config)


def _build_sfm_map(scene: Scene, config: MapConfig) -> TopoSemanticMap:
    """The map with node poses from SfM, aligned to the map frame (see ``mapping.sfm``).

    The tour keeps the keyframes plus denser in-between frames for SfM; only the keyframes
    become nodes, so a map has the same candidate nodes whatever the pose source. The
    similarity to the map frame is fitted to the true positions of all registered frames;
    ATE and yaw error in ``metadata["sfm"]`` are then measured on the nodes. Keyframes SfM
    leaves out of its (largest) reconstruction are dropped from the map, not guessed:
    ``metadata["sfm"]["dropped_nodes"]`` counts them.
    """
    from astra_sim.mapping.keyframes import wrap_angle
    from astra_sim.mapping.sfm import SfmOptions, aligned_planar_poses, import_pycolmap, sfm_poses
    from astra_sim.render.rig_recipe import load_rig

    import_pycolmap()  # fail before the tour, not after it
    node_rule = KeyframeSelector(config.travel, config.turn_deg)
    sfm_rule = KeyframeSelector(config.sfm_travel, config.sfm_turn_deg)
    is_node: list[bool] = []  # per control step, in order

    def keep(pose: np.ndarray) -> bool:
        node, extra = node_rule(pose), sfm_rule(pose)  # both see every pose, to stay in step
        is_node.append(node)
        return node or extra

    tour = record_tour(
        scene,
        SimConfig(rig=config.rig),
        seed=config.seed,
        max_steps=config.max_steps,
        spacing=config.spacing,
        keep=keep,
    )
    rgb = [f.rgb for f in tour.frames]
    result = sfm_poses(rgb, load_rig(config.rig), SfmOptions(seed=config.seed))
    gt = tour.poses[tour.frame_steps]
    node = np.asarray(is_node, dtype=bool)[tour.frame_steps]
    kept = node & result.registered
    if not kept.any():
        raise RuntimeError(
            f"SfM registered none of the {int(node.sum())} keyframes "
            f"({result.registered_images}/{result.num_images} images in its largest model)"
        )
    poses, (scale, _, _) = aligned_planar_poses(result, gt[:, :2])
    nodes_tour = dataclasses.replace(
        tour,
        frames=[f for f, k in zip(tour.frames, kept, strict=True) if k],
        frame_steps=tour.frame_steps[kept],
    )
    tmap = map_from_tour(scene, nodes_tour, config, poses[kept])
    err = np.linalg.norm(poses[kept, :2] - gt[kept, :2], axis=1)
    yaw_err = np.degrees(np.abs(wrap_angle(poses[kept, 2] - gt[kept, 2])))
    reproj = result.mean_reprojection_error
    tmap.metadata["sfm"] = {
        "frames": len(tour.frames),
        "registered_frames": int(result.registered.sum()),
        "images": result.num_images,
        "registered_images": result.registered_images,
        "nodes": int(node.sum()),
        "registered_nodes": int(kept.sum()),
        "dropped_nodes": int(node.sum() - kept.sum()),
        "models": result.num_models,
        "points": result.num_points,
        "mean_reprojection_error_px": round(reproj, 4) if math.isfinite(reproj) else None,
        "scale": round(float(scale), 6),
        "ate_rmse_m": round(float(np.sqrt(np.mean(err**2))), 4),
        "ate_max_m": round(float(err.max()), 4),
        "yaw_error_median_deg": round(float(np.median(yaw_err)), 3),
        "yaw_error_max_deg": round(float(yaw_err.max()), 3),
        "seconds": round(result.seconds, 2),
    }
    return tmap


def map_from_tour(
    scene: Scene, tour: Tour, config: MapConfig | None = None, poses: np.ndarray | None = None
) -> TopoSemanticMap:
    """The map whose nodes are the tour's recorded frames (keyframes when it kept only those).

    Args:
        poses: (K, 3) planar poses (x, y, yaw) of the K frames, e.g. from SfM; the tour's
            ground-truth poses at the frames' steps if None.
    """
    config = config or MapConfig()
    if poses is None:
        poses = tour.poses[tour.frame_steps]
    poses = np.asarray(poses, dtype=np.float64)
    if poses.shape != (len(tour.frames), 3) or not np.isfinite(poses).all():
        raise ValueError(f"poses must be ({len(tour.frames)}, 3) finite, got {poses.shape}")
    instances = scene.instances
    is_landmark = np.array([inst.landmark for inst in instances], dtype=bool)
    seen_pixels = []  # per node: {instance id: pixels}
    for frame in tour.frames:
        counts = np.bincount(frame.semantic.ravel(), minlength=len(instances))
        ids = np.flatnonzero(is_landmark & (counts >= config.min_pixels))
        seen_pixels.append({int(i): int(counts[i]) for i in ids})
    instance_ids = sorted({i for seen in seen_pixels for i in seen})
    landmark_of = {inst: k for k, inst in enumerate(instance_ids)}

    nodes = []
    for node_id, (frame, step, seen, pose) in enumerate(
        zip(tour.frames, tour.frame_steps, seen_pixels, poses, strict=True)
    ):
        x, y, yaw = pose
        marks = sorted((landmark_of[i], px) for i, px in seen.items())
        nodes.append(
            Node(
                id=node_id,
                pose=np.array([x, y, tour.camera_height, 0.0, 0.0, yaw]),
                rgb=np.ascontiguousarray(frame.rgb, dtype=np.uint8),
                depth=mm_to_depth(depth_to_mm(frame.depth)),  # what a saved map holds
                landmarks=tuple(k for k, _ in marks),
                landmark_pixels=tuple(px for _, px in marks),
                step=int(step),
                timestamp=float(tour.timestamps[step]),
            )
        )
    room_names = {r.id: r.name for r in scene.rooms}
    landmarks = []
    for k, inst_id in enumerate(instance_ids):
        inst = instances[inst_id]
        landmarks.append(
            Landmark(
                id=k,
                instance_id=inst_id,
                category=inst.category,
                name=inst.name,
                attributes={a: str(v) for a, v in inst.attributes.items()},
                description=inst.description,
                text=inst.text,
                position=tuple(float(v) for v in inst.position),
                nodes=tuple(n.id for n in nodes if k in n.landmarks),
                room=room_names.get(inst.room, ""),
            )
        )
    grid = scene.navgrid()
    clearance = grid.config.robot_radius if config.edge_clearance is None else config.edge_clearance
    xy = np.array([n.xy for n in nodes]).reshape(-1, 2)
    edges = connect_nodes(xy, grid, config.edge_radius, clearance)
    metadata = {
        "scene": {
            "kind": scene.kind,
            "seed": scene.seed,
            "params": scene.metadata.get("params", {}),
            "nav_config": dataclasses.asdict(scene.nav_config),
        },
        "config": dataclasses.asdict(config),
        "camera_names": list(tour.camera_names),
        "tour": {
            "steps": len(tour.poses) - 1,
            "length_m": round(tour.length, 3),
            "complete": bool(tour.complete),
            "waypoints_reached": f"{int(tour.reached.sum())}/{len(tour.reached)}",
        },
    }
    # Through JSON once, so that a saved and loaded map has exactly the same metadata.
    return TopoSemanticMap(nodes, edges, landmarks, json.loads(json.dumps(metadata)))


def connect_nodes(xy: np.ndarray, grid: NavGrid, radius: float, clearance: float) -> np.ndarray:
    """Edges between nodes at most ``radius`` apart whose straight segment keeps
    ``clearance`` (ESDF, metres) all along: line of sight on the occupancy map.

    Returns:
        (E, 2) int64 pairs (i, j), i < j, sorted.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray").astype(np.int64)
    if len(pairs) == 0:
        return pairs.reshape(0, 2)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    ok = np.array([segment_clear(grid, xy[i], xy[j], clearance) for i, j in pairs], dtype=bool)
    return pairs[ok]


def segment_clear(grid: NavGrid, a: np.ndarray, b: np.ndarray, clearance: float) -> bool:
    """Whether every grid cell the segment a -> b passes through has ESDF > clearance.

    Exact cell traversal (one point inside each cell between consecutive grid-line
    crossings), not sampling, so no corner of a blocked cell is skipped; with ``clearance =
    robot_radius`` this means every cell is one ``NavGrid.navigable`` marks. Outside the grid
    counts as blocked.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    cs = grid.config.cell_size
    ua, ub = (a - grid.origin) / cs, (b - grid.origin) / cs  # in cell units
    crossings = [np.zeros(1), np.ones(1)]
    for k in range(2):
        lo, hi = sorted((ua[k], ub[k]))
        lines = np.arange(math.floor(lo) + 1, math.ceil(hi))
        if len(lines) and ub[k] != ua[k]:
            crossings.append((lines - ua[k]) / (ub[k] - ua[k]))
    t = np.unique(np.concatenate(crossings))
    mids = (t[:-1] + t[1:]) / 2 if len(t) > 1 else t
    cells = np.floor(ua + mids[:, None] * (ub - ua)).astype(np.int64)[:, ::-1]  # (row, col)
    if not grid.in_bounds(cells).all():
        return False
    return bool((grid.esdf[cells[:, 0], cells[:, 1]] > clearance).all())
