"""The expert: follows the geodesic shortest path with a pure-pursuit controller.

It is the oracle baseline of every navigation table and the demonstrator for data
collection, so it plans with a safety margin beyond the robot radius (a path that grazes
walls at exactly the radius collides as soon as the body lags) and replans when it drifts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavGrid


@dataclass(frozen=True)
class ExpertConfig:
    """Controller settings of the expert.

    Attributes:
        max_linear: cruise speed in m/s.
        max_angular: turn-rate limit in rad/s.
        lookahead: pure-pursuit lookahead distance along the path in metres.
        goal_tolerance: stop when this close (straight line) to the goal in metres.
        turn_in_place: heading error (rad) above which the expert turns before driving.
        clearance: extra planning margin beyond the robot radius in metres.
        replan_distance: replan when farther than this from the path in metres.
        heading_gain: proportional gain from heading error to turn rate.
        slow_radius: start slowing down this far from the goal in metres.
        slow_clearance: clearance beyond the radius below which it slows to a quarter speed.
        backoff_steps: control steps of reversing after a collision, before replanning.
    """

    max_linear: float = 0.8
    max_angular: float = 1.5
    lookahead: float = 0.35
    goal_tolerance: float = 0.2
    turn_in_place: float = 0.7
    clearance: float = 0.1
    replan_distance: float = 0.4
    heading_gain: float = 2.5
    slow_radius: float = 0.8
    slow_clearance: float = 0.3
    backoff_steps: int = 3


def _wrap(a: float) -> float:
    return float((a + np.pi) % (2 * np.pi) - np.pi)


class ExpertAgent:
    """``reset(pose, goals)`` then ``act(pose) -> (v, w)``; ``done`` once at the goal."""

    def __init__(
        self, scene: Scene, config: ExpertConfig | None = None, robot_radius: float | None = None
    ):
        self.config = config or ExpertConfig()
        radius = robot_radius if robot_radius is not None else scene.nav_config.robot_radius
        self.grid: NavGrid = scene.navgrid(robot_radius=radius)
        self.safe_grid: NavGrid = scene.navgrid(robot_radius=radius + self.config.clearance)
        self.radius = radius
        self.path = np.zeros((0, 2))
        self.goal = np.zeros(2)
        self.done = False
        self._backoff = 0

    def reset(self, pose: np.ndarray, goals: np.ndarray) -> None:
        """Plan from ``pose`` to the nearest (geodesic) of ``goals`` (G, 2)."""
        goals = np.atleast_2d(np.asarray(goals, dtype=np.float64))
        start = np.asarray(pose, dtype=np.float64)[:2]
        dists = [self.grid.geodesic_distance(start, g) for g in goals[:64]]
        self.goal = goals[int(np.argmin(dists))]
        self.done = False
        self._backoff = 0
        self._plan(start)

    def _plan(self, start: np.ndarray) -> None:
        for grid in (self.safe_grid, self.grid):
            a = start if grid.is_navigable(start[None])[0] else grid.snap(start)
            b = self.goal if grid.is_navigable(self.goal[None])[0] else grid.snap(self.goal)
            path = grid.shortest_path(a, b)
            if len(path):
                self.path = _densify(np.vstack([start, path, self.goal]))
                return
        self.path = _densify(np.vstack([start, self.goal]))  # no path: the body stops us

    def act(self, pose: np.ndarray, collided: bool = False) -> np.ndarray:
        """Velocity command (v, w) for the current pose; zeros once the goal is reached.

        After a collision it reverses for a few steps and replans, as a robot with a
        bumper would, rather than pushing on into the obstacle.
        """
        cfg = self.config
        pose = np.asarray(pose, dtype=np.float64)
        xy, yaw = pose[:2], float(pose[2])
        to_goal = float(np.linalg.norm(self.goal - xy))
        if self.done or to_goal < cfg.goal_tolerance:
            self.done = True
            return np.zeros(2)
        if collided:
            self._backoff = cfg.backoff_steps
        if self._backoff > 0:
            self._backoff -= 1
            if self._backoff == 0:
                self._plan(xy)
            return np.array([-0.25, 0.0])
        seg_start, offset = self._closest(xy)
        if offset > cfg.replan_distance:
            self._plan(xy)
            seg_start, offset = self._closest(xy)
        # Near obstacles, track the path tightly: a shorter lookahead cuts corners less, and
        # a smaller heading error is turned out on the spot before driving on.
        clearance = float(self.grid.esdf_at(xy[None])[0]) - self.radius
        tight = float(np.clip(clearance / cfg.slow_clearance, 0.25, 1.0))
        target = self._lookahead(seg_start, cfg.lookahead * tight)
        alpha = _wrap(np.arctan2(target[1] - xy[1], target[0] - xy[0]) - yaw)
        w = float(np.clip(cfg.heading_gain * alpha, -cfg.max_angular, cfg.max_angular))
        if abs(alpha) > cfg.turn_in_place * max(tight, 0.5):
            return np.array([0.0, w])
        v = cfg.max_linear * np.cos(alpha) * min(1.0, to_goal / cfg.slow_radius + 0.2) * tight
        return np.array([float(np.clip(v, 0.0, cfg.max_linear)), w])

    def _closest(self, xy: np.ndarray) -> tuple[int, float]:
        """Index of the path segment nearest ``xy`` and the distance to it."""
        a, b = self.path[:-1], self.path[1:]
        ab = b - a
        t = np.clip(
            np.einsum("ij,ij->i", xy - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12),
            0,
            1,
        )
        d = np.linalg.norm(a + t[:, None] * ab - xy, axis=1)
        i = int(np.argmin(d))
        return i, float(d[i])

    def _lookahead(self, seg: int, distance: float) -> np.ndarray:
        """The path point ``distance`` further along the path than segment ``seg``."""
        steps = int(np.ceil(distance / _SPACING))
        return self.path[min(seg + 1 + steps, len(self.path) - 1)]


_SPACING = 0.05


def _densify(path: np.ndarray) -> np.ndarray:
    """Resample a polyline every ``_SPACING`` metres so lookahead is measured along the path."""
    out = [path[:1]]
    for a, b in itertools.pairwise(path):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / _SPACING)))
        out.append(a + (b - a) * (np.arange(1, n + 1) / n)[:, None])
    return np.concatenate(out)
