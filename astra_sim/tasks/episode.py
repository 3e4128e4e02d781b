"""One episode (start, goal, shortest-path length, scene) and the task names it may hold.

Kept apart from the sampler and the episode sets (``episodes``) and the file format
(``episode_file``), which all build on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from astra_sim.core.errors import UnknownNameError
from astra_sim.tasks.goals import Goal

TASKS = ("pointnav", "imagenav", "languagenav", "localization")


def quantize(value: float) -> float:
    """Round to the 1e-4 the file keeps (and turn -0.0 into 0.0)."""
    return round(float(value), 4) + 0.0


@dataclass(eq=False)
class Episode:
    """One task instance: where the robot starts, what it must reach, and in which scene.

    Attributes:
        episode_id: Unique within its set, e.g. "pointnav-home-3-00012".
        task: One of TASKS.
        scene_kind, scene_seed, scene_params: Regenerate the scene with
            `generate_scene(scene_kind, scene_seed, **scene_params)`.
        start: (x, y, yaw) start pose.
        goal: What counts as arriving; a localization goal is the start point itself.
        geodesic_distance: Shortest-path metres from start to the nearest goal position (the
            denominator of SPL); 0 for localization.
        info: Task extras, e.g. ``{"goal_pose": [x, y, yaw]}`` for imagenav: where the goal
            image is taken from.
    """

    episode_id: str
    task: str
    scene_kind: str
    scene_seed: int | None
    scene_params: dict[str, Any]
    start: tuple[float, float, float]
    goal: Goal
    geodesic_distance: float
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise UnknownNameError("task", self.task, TASKS)
        start = np.asarray(self.start, dtype=np.float64)
        if start.shape != (3,) or not np.isfinite(start).all():
            raise ValueError(f"episode start must be a finite (x, y, yaw), got {self.start!r}")
        self.start = tuple(float(v) for v in start)
        if not (math.isfinite(self.geodesic_distance) and self.geodesic_distance >= 0):
            raise ValueError(
                f"geodesic_distance must be finite and >= 0, got {self.geodesic_distance!r}"
            )

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict with the goal's positions as nested lists."""
        return {
            "episode_id": self.episode_id,
            "task": self.task,
            "scene_kind": self.scene_kind,
            "scene_seed": self.scene_seed,
            "scene_params": dict(self.scene_params),
            "start": list(self.start),
            "goal": self.goal.to_json(),
            "geodesic_distance": self.geodesic_distance,
            "info": dict(self.info),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Episode):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]


__all__ = ["TASKS", "Episode", "quantize"]
