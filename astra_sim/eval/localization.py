"""Score Astra-Global localizers side by side on held-out scenes.

Queries are what a robot re-localizing in a mapped building would have: a random navigable
pose within ``near_node`` metres of the map's tour (the mapped area), a random heading, and
the rig's images, rendered at ``query_scale`` times the map's resolution so small signs can
be read. Every localizer gets the same queries; an answer it does not give counts as wrong.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from astra_sim.agents.astra_global.base import Localizer, Query, pose_errors
from astra_sim.core.seeding import check_seed, make_rng
from astra_sim.mapping.graph import TopoSemanticMap
from astra_sim.render.embree import EmbreeRenderer
from astra_sim.render.rig import Rig
from astra_sim.scenes.model import Scene

ACC_POS_M, ACC_YAW_DEG, COARSE_M = 1.0, 5.0, 10.0
"""The paper's fine accuracy (1 m and 5 degrees) and coarse accuracy (10 m) thresholds."""


@dataclass(frozen=True)
class QueryConfig:
    """Where queries come from.

    Attributes:
        per_scene: queries per held-out scene.
        query_scale: query images have this many times the map rig's pixels per side.
        near_node: queries lie at most this far (metres) from some map node.
        seed: seeds the query poses.
    """

    per_scene: int = 40
    query_scale: int = 3
    near_node: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("per_scene", "query_scale"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"QueryConfig.{name} must be a positive integer, got {v!r}")
        if not (math.isfinite(self.near_node) and self.near_node > 0):
            raise ValueError(f"QueryConfig.near_node must be > 0, got {self.near_node!r}")
        check_seed(self.seed, "QueryConfig.seed")


def make_queries(
    scene: Scene, topo_map: TopoSemanticMap, rig: Rig, config: QueryConfig
) -> list[Query]:
    """``config.per_scene`` queries in the mapped area of ``scene``, rendered with ``rig``
    scaled by ``config.query_scale`` (semantic kept for oracle variants only)."""
    rng = make_rng(config.seed, "localization-queries", scene.kind, str(scene.seed))
    grid = scene.navgrid()
    poses: list[np.ndarray] = []
    for _ in range(100):
        xy = grid.sample_navigable(rng, 4 * config.per_scene)
        dist, _ = cKDTree(topo_map.positions).query(xy)
        for p in xy[dist <= config.near_node]:
            if len(poses) < config.per_scene:
                poses.append(np.array([p[0], p[1], rng.uniform(-np.pi, np.pi)]))
        if len(poses) == config.per_scene:
            break
    if len(poses) < config.per_scene:
        raise ValueError(f"could not place {config.per_scene} queries near the map's nodes")
    big = rig.scaled(config.query_scale)
    out = []
    with EmbreeRenderer(scene) as renderer:
        for pose in poses:
            f = renderer.render(big, pose)
            out.append(Query(rgb=f.rgb, depth=f.depth, semantic=f.semantic, true_pose=pose))
    return out


@dataclass
class Scores:
    """Per-query errors of one localizer on one set of queries."""

    pos_err: list[float] = field(default_factory=list)  # metres, inf when no answer
    yaw_err: list[float] = field(default_factory=list)  # degrees, 180 when no answer
    seconds: list[float] = field(default_factory=list)

    def add(self, ok: bool, pose: np.ndarray | None, truth: np.ndarray, seconds: float) -> None:
        if ok and pose is not None:
            d, yaw = pose_errors(np.asarray(pose), truth)
            self.pos_err.append(d)
            self.yaw_err.append(math.degrees(yaw))
        else:
            self.pos_err.append(math.inf)
            self.yaw_err.append(180.0)
        self.seconds.append(seconds)

    def extend(self, other: Scores) -> None:
        self.pos_err += other.pos_err
        self.yaw_err += other.yaw_err
        self.seconds += other.seconds

    def summary(self) -> dict[str, float]:
        """The metrics of the report, accuracies as fractions."""
        pos, yaw = np.asarray(self.pos_err), np.asarray(self.yaw_err)
        if not len(pos):
            raise ValueError("no queries were scored")
        return {
            "acc_1m_5deg": float(np.mean((pos <= ACC_POS_M) & (yaw <= ACC_YAW_DEG))),
            "coarse_acc_10m": float(np.mean(pos <= COARSE_M)),
            "median_pos_err_m": float(np.median(pos)),
            "median_yaw_err_deg": float(np.median(yaw)),
            "answered": float(np.mean(np.isfinite(pos))),
            "queries": len(pos),
            "seconds_per_query": float(np.mean(self.seconds)),
        }


def score_localizers(
    localizers: list[Localizer],
    topo_map: TopoSemanticMap,
    queries: list[Query],
    progress: Callable[[], None] | None = None,
) -> dict[str, Scores]:
    """Run every localizer on every query; a localizer that raises on a query fails it."""
    out = {loc.name: Scores() for loc in localizers}
    for q in queries:
        for loc in localizers:
            t0 = time.perf_counter()
            res = loc.localize(q, topo_map)
            out[loc.name].add(res.ok, res.pose, q.true_pose, time.perf_counter() - t0)
        if progress is not None:
            progress()
    return out


def evaluate(
    localizers: list[Localizer],
    worlds: dict[str, list[tuple[Scene, TopoSemanticMap]]],
    config: QueryConfig,
    rig: Rig,
    progress: bool = True,
) -> dict[str, dict[str, Scores]]:
    """Scores per kind per localizer over all held-out scenes of each kind."""
    names = [loc.name for loc in localizers]
    if len(set(names)) != len(names):
        raise ValueError(f"localizer names must be unique, got {names}")
    total = sum(len(v) for v in worlds.values()) * config.per_scene
    result: dict[str, dict[str, Scores]] = {}
    with tqdm(total=total, desc="localization", unit="query", disable=not progress) as bar:
        for kind, pairs in worlds.items():
            per = {n: Scores() for n in names}
            for scene, topo in pairs:
                queries = make_queries(scene, topo, rig, config)
                for name, s in score_localizers(localizers, topo, queries, bar.update).items():
                    per[name].extend(s)
            result[kind] = per
    return result


def summarize(result: dict[str, dict[str, Scores]]) -> dict[str, dict]:
    """``{localizer: {metrics over all kinds..., "per_kind": {kind: metrics}}}``."""
    names = list(next(iter(result.values())))
    out = {}
    for name in names:
        pooled = Scores()
        for per in result.values():
            pooled.extend(per[name])
        out[name] = pooled.summary() | {
            "per_kind": {kind: per[name].summary() for kind, per in result.items()}
        }
    return out


def format_table(summary: dict[str, dict], kinds: list[str]) -> str:
    """Localizers as rows, kinds as column groups: acc 1 m/5 deg, coarse 10 m, medians."""
    head = f"{'localizer':<20}" + "".join(f"| {k:^34} " for k in kinds)
    sub = f"{'':<20}" + "".join(
        f"| {'1m/5deg':>8} {'10m':>6} {'med m':>7} {'med deg':>8} " for _ in kinds
    )
    lines = [head, sub, "-" * len(sub)]
    for name, s in summary.items():
        if "per_kind" not in s:
            continue
        row = f"{name:<20}"
        for k in kinds:
            m = s["per_kind"][k]
            row += (
                f"| {m['acc_1m_5deg']:>8.2f} {m['coarse_acc_10m']:>6.2f} "
                f"{m['median_pos_err_m']:>7.2f} {m['median_yaw_err_deg']:>8.1f} "
            )
        lines.append(row)
    return "\n".join(lines)
