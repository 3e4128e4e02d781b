"""The mapping tour: the expert drives the robot over the whole navigable area, recording.

Astra builds its map offline from a video of someone walking the place. In simulation the
expert plays the walker: it visits coverage waypoints (one near the middle of every room, so
no room is left out, plus one per block of a coarse lattice, so large rooms and corridors are
crossed too) in greedy nearest-unvisited order by geodesic distance, while the simulator
records the pose at every control step and the rig's images at every step it is asked to
keep (all of them by default). The images are noise-free renders at the true pose: the map,
like its poses, is ground truth (noise models in ``sim_config`` are not applied).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from astra_sim.agents.expert import ExpertAgent, ExpertConfig
from astra_sim.core.seeding import check_seed, make_rng
from astra_sim.render.protocol import Frame
from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavGrid
from astra_sim.sim import SimConfig, Simulator

_ROOM_RADIUS = 0.3  # a room's waypoint counts as visited only this close: it proves coverage
_MIN_BLOCK_FILL = 0.1  # lattice blocks with less navigable area than this get no waypoint
_SLOW_SPEED = 0.2  # m/s: a waypoint not reached at this average speed (+5 s) is given up


@dataclass
class Tour:
    """What the robot recorded on its tour.

    Attributes:
        poses: (N, 3) float64 ground-truth base poses (x, y, yaw), one per control step
            (step 0 is the pose after reset).
        timestamps: (N,) float64 simulated seconds.
        frames: the rig's images at the steps in ``frame_steps`` (every step by default).
        frame_steps: (K,) int64 step index of each frame.
        waypoints: (W, 2) the coverage waypoints, in the order they were driven to (then
            those never tried: unreachable, or left when ``max_steps`` ran out).
        reached: (W,) bool, whether the robot came close to each.
        complete: False if ``max_steps`` ran out before every reachable waypoint was tried.
        camera_names: the rig's camera names, in the order of the frames' first axis.
        camera_height: mean height of the rig's cameras above the floor, metres.
    """

    poses: np.ndarray
    timestamps: np.ndarray
    frames: list[Frame] = field(default_factory=list)
    frame_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    waypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    reached: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    complete: bool = True
    camera_names: list[str] = field(default_factory=list)
    camera_height: float = 0.0

    @property
    def length(self) -> float:
        """Metres driven."""
        return float(np.linalg.norm(np.diff(self.poses[:, :2], axis=0), axis=1).sum())


def coverage_waypoints(
    scene: Scene, grid: NavGrid, spacing: float = 2.5
) -> tuple[np.ndarray, np.ndarray]:
    """Waypoints whose visits cover the navigable area: room middles first, then a lattice.

    Room waypoints are the navigable cell inside each room polygon nearest its centroid; lattice
    waypoints are the navigable cell nearest the centre of each ``spacing``-sized block that is
    at least 10 % navigable.

    Returns:
        (W, 2) world points and (W,) bool, True for the rooms' waypoints (which come first).
    """
    if not (math.isfinite(spacing) and spacing > 0):
        raise ValueError(f"spacing must be a finite number > 0, got {spacing!r}")
    cells = np.argwhere(grid.navigable)
    if len(cells) == 0:
        raise ValueError("the scene has no navigable cell to tour")
    centres = grid.cell_to_world(cells)
    points = []
    room_of = scene.room_at(centres)
    for room in scene.rooms:
        inside = centres[room_of == room.id]
        if len(inside):
            d = np.linalg.norm(inside - np.asarray(room.centroid), axis=1)
            points.append(inside[int(np.argmin(d))])
    n_rooms = len(points)
    step = max(1, round(spacing / grid.config.cell_size))
    block = cells // step
    keys, inverse, counts = np.unique(block, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    block_centre = grid.cell_to_world(keys * step + (step - 1) / 2)
    d = np.linalg.norm(centres - block_centre[inverse], axis=1)
    order = np.lexsort((d, inverse))  # by block, nearest first within each block
    first = order[np.r_[0, np.flatnonzero(np.diff(inverse[order])) + 1]]
    for b, cell_index in enumerate(first):
        if counts[b] >= _MIN_BLOCK_FILL * step * step:
            points.append(centres[cell_index])
    is_room = np.arange(len(points)) < n_rooms
    return np.asarray(points, dtype=np.float64).reshape(-1, 2), is_room


def record_tour(
    scene: Scene,
    sim_config: SimConfig | None = None,
    seed: int = 0,
    max_steps: int = 10_000,
    spacing: float = 2.5,
    keep: Callable[[np.ndarray], bool] | None = None,
    start: np.ndarray | None = None,
    expert_config: ExpertConfig | None = None,
) -> Tour:
    """Drive the expert over the scene in the simulator and record the tour.

    Args:
        scene: the scene to tour.
        sim_config: simulator settings (rig, body, robot); the default rig if None.
        seed: picks the start pose when ``start`` is None.
        max_steps: stop after this many control steps even if waypoints are left.
        spacing: lattice spacing of the coverage waypoints in metres.
        keep: called with each step's pose, in order; the step's images are kept only when
            it returns True (e.g. a `KeyframeSelector`). Every step's images if None.
        start: (x, y, yaw) start pose; a seeded random navigable pose if None.
        expert_config: controller settings of the expert.

    Returns:
        The Tour; every pose is recorded whatever ``keep`` says.
    """
    seed = check_seed(seed)
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)):
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    if max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps}")
    expert = ExpertAgent(scene, expert_config)
    grid = expert.safe_grid  # waypoints keep the expert's margin, so it can reach them
    if start is None:
        pose = _start_pose(grid, make_rng(seed, "mapping/tour"))
    else:
        pose = np.asarray(start, dtype=np.float64).reshape(-1)
        if pose.shape != (3,) or not np.isfinite(pose).all():
            raise ValueError(f"start must be 3 finite numbers (x, y, yaw), got {start!r}")
    waypoints, is_room = coverage_waypoints(scene, grid, spacing)
    radius = np.where(is_room, _ROOM_RADIUS, spacing / 2)

    recorder = _Recorder(keep)
    with Simulator(scene, sim_config, seed=seed) as sim:
        sim.reset(pose)
        recorder.add(sim, sim.info())
        pending = np.ones(len(waypoints), bool)
        reached = np.zeros(len(waypoints), bool)
        planned: list[int] = []
        collided = False
        while pending.any() and recorder.steps < max_steps:
            here = recorder.poses[-1]
            # Distances from the waypoint just reached rather than from the robot (within
            # 0.2 m of it): the expert's plan to it already ran that search, so it is cached.
            origin = waypoints[planned[-1]] if planned and expert.done else here[:2]
            field_ = grid.distance_field(_on_grid(grid, origin))
            rc = grid.world_to_cell(waypoints)
            dist = np.where(pending, field_[rc[:, 0], rc[:, 1]], np.inf)
            if not np.isfinite(dist).any():
                break  # the rest cannot be reached from here
            j = int(np.argmin(dist))
            pending[j] = False
            planned.append(j)
            expert.reset(here, waypoints[j][None])
            budget = 50 + math.ceil(dist[j] / (_SLOW_SPEED * sim.config.ticks_per_step * sim.dt))
            for _ in range(budget):
                command = expert.act(recorder.poses[-1], collided)
                if expert.done or recorder.steps >= max_steps:
                    break
                _, info = sim.step(command, render=False)  # frames only where kept
                collided = info["collided"]
                recorder.add(sim, info)
                close = np.linalg.norm(waypoints - info["pose"][:2], axis=1) <= radius
                reached |= close
                pending &= ~close
            reached[j] |= expert.done
        names = sim.rig.names
        height = float(np.mean([m.xyz[2] for m in sim.rig.mounts]))
    order = planned + sorted(set(range(len(waypoints))) - set(planned))
    return Tour(
        poses=np.asarray(recorder.poses, dtype=np.float64),
        timestamps=np.asarray(recorder.times, dtype=np.float64),
        frames=recorder.frames,
        frame_steps=np.asarray(recorder.frame_steps, dtype=np.int64),
        waypoints=waypoints[order],
        reached=reached[order],
        complete=recorder.steps < max_steps or not pending.any(),
        camera_names=list(names),
        camera_height=height,
    )


class _Recorder:
    """Poses and times of every step; images only where ``keep`` says."""

    def __init__(self, keep: Callable[[np.ndarray], bool] | None) -> None:
        self.keep = keep
        self.poses: list[np.ndarray] = []
        self.times: list[float] = []
        self.frames: list[Frame] = []
        self.frame_steps: list[int] = []

    @property
    def steps(self) -> int:
        """Control steps taken (the reset pose is not a step)."""
        return len(self.poses) - 1

    def add(self, sim: Simulator, info: dict[str, Any]) -> None:
        pose = np.asarray(info["pose"], dtype=np.float64).copy()
        if self.keep is None or self.keep(pose):
            self.frames.append(sim.render(pose))
            self.frame_steps.append(len(self.poses))
        self.poses.append(pose)
        self.times.append(float(info["t"]))


def _start_pose(grid: NavGrid, rng: np.random.Generator) -> np.ndarray:
    """A random pose in the largest navigable region: a start in a pocket behind furniture
    would see nothing else."""
    labels, count = grid.components()
    if count == 0:
        raise ValueError("the scene has no navigable cell to start a tour from")
    largest = int(np.argmax(np.bincount(labels.ravel())[1:])) + 1
    cells = np.argwhere(labels == largest)
    xy = grid.cell_to_world(cells[rng.integers(len(cells))])
    return np.array([xy[0], xy[1], rng.uniform(-np.pi, np.pi)])


def _on_grid(grid: NavGrid, xy: np.ndarray) -> np.ndarray:
    """``xy`` if navigable on ``grid``, else the nearest navigable cell centre."""
    return xy if grid.is_navigable(xy[None])[0] else grid.snap(xy)
