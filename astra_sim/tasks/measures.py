"""Episode measures in habitat-lab's pattern: each has a uuid, names the measures it depends
on, and is reset at the start of an episode and updated after every step.

A `Measures` container resets and updates them in dependency order (SPL after Success and
PathLength), so a measure reads its dependencies' values of the same step. Measures see the
world only through a `MeasureContext`, which the env fills each step; the goal distance comes
as a callable (`GoalDistance`) so measures never touch the scene.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from astra_sim.core.errors import UnknownNameError
from astra_sim.tasks.episode import Episode


@dataclass(frozen=True)
class MeasureContext:
    """What the measures may see after a step (or at reset).

    Attributes:
        pose: (3,) true planar pose (x, y, yaw).
        distance_to_goal: Geodesic metres from a world (x, y) to the nearest goal position,
            e.g. `GoalDistance(grid, episode.goal.positions)`.
        t: Simulated seconds since some fixed origin (Time reports the elapsed part).
        collided: The body hit something during the step.
        stopped: The agent asked to end the episode.
        estimate: (3,) the agent's own pose estimate, for localization; None if it gave none.
    """

    pose: np.ndarray
    distance_to_goal: Callable[[np.ndarray], float]
    t: float = 0.0
    collided: bool = False
    stopped: bool = False
    estimate: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pose", _pose(self.pose, "pose"))
        if self.estimate is not None:
            object.__setattr__(self, "estimate", _pose(self.estimate, "estimate"))
        if not math.isfinite(self.t):
            raise ValueError(f"MeasureContext.t must be finite, got {self.t!r}")
        if not callable(self.distance_to_goal):
            raise ValueError("MeasureContext.distance_to_goal must be callable (xy) -> metres")


class Measure:
    """Base class: subclasses set `uuid` and `depends_on` and implement reset/update/get."""

    uuid: ClassVar[str] = ""
    depends_on: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._deps: Mapping[str, Measure] = {}

    def bind(self, measures: Mapping[str, Measure]) -> None:
        """Give the measure access to its dependencies (the container does this)."""
        missing = [name for name in self.depends_on if name not in measures]
        if missing:
            raise ValueError(f"measure {self.uuid!r} needs {missing} in the same container")
        self._deps = {name: measures[name] for name in self.depends_on}

    def dep(self, name: str) -> Any:
        """The current value of a dependency."""
        if name not in self._deps:
            raise RuntimeError(
                f"measure {self.uuid!r} reads {name!r}: put both in a Measures container"
            )
        return self._deps[name].get()

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        """Start a new episode; ctx is the state at the start pose."""
        raise NotImplementedError

    def update(self, ctx: MeasureContext) -> None:
        """Account for one step."""
        raise NotImplementedError

    def get(self) -> Any:
        """The current value."""
        raise NotImplementedError


class DistanceToGoal(Measure):
    """Geodesic metres from the robot to the nearest goal position."""

    uuid = "distance_to_goal"

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        self.update(ctx)

    def update(self, ctx: MeasureContext) -> None:
        self._value = float(ctx.distance_to_goal(ctx.pose[:2]))

    def get(self) -> float:
        return self._value


class Success(Measure):
    """1.0 once the agent stops within success_distance (geodesic) of the goal, else 0.0.
    Stopping is required, as in habitat: passing by the goal is not arriving."""

    uuid = "success"
    depends_on = ("distance_to_goal",)

    def __init__(self, success_distance: float = 0.5) -> None:
        super().__init__()
        self.success_distance = _positive(success_distance, "success_distance")

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        self.update(ctx)

    def update(self, ctx: MeasureContext) -> None:
        near = self.dep("distance_to_goal") <= self.success_distance
        self._value = 1.0 if ctx.stopped and near else 0.0

    def get(self) -> float:
        return self._value


class PathLength(Measure):
    """Metres driven: the sum of planar distances between consecutive poses."""

    uuid = "path_length"

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        self._previous, self._value = ctx.pose[:2].copy(), 0.0

    def update(self, ctx: MeasureContext) -> None:
        self._value += float(np.linalg.norm(ctx.pose[:2] - self._previous))
        self._previous = ctx.pose[:2].copy()

    def get(self) -> float:
        return self._value


class SPL(Measure):
    """Success weighted by path length (Anderson et al. 2018): S * d0 / max(path, d0).

    d0 is the distance to goal at reset, as in habitat-lab: the very number reported then
    (``info["geodesic_distance"]``), so SPL recomputed from ``info`` matches. The episode's
    own ``geodesic_distance`` is the sampler's record of it, rounded to 1e-4.
    """

    uuid = "spl"
    depends_on = ("distance_to_goal", "success", "path_length")

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        self.d0 = float(self.dep("distance_to_goal"))
        self.update(ctx)

    def update(self, ctx: MeasureContext) -> None:
        self._value = self.dep("success") * _efficiency(self.d0, self.dep("path_length"))

    def get(self) -> float:
        return self._value


class SoftSPL(Measure):
    """habitat's soft SPL: max(0, 1 - d/d0) * d0 / max(path, d0), with d the distance to goal
    now and d0 the distance to goal at reset (as for SPL). Rewards getting closer even
    without stopping at the goal."""

    uuid = "soft_spl"
    depends_on = ("distance_to_goal", "path_length")

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        self.d0 = float(self.dep("distance_to_goal"))
        self.update(ctx)

    def update(self, ctx: MeasureContext) -> None:
        d = self.dep("distance_to_goal")
        if self.d0 > 0 and math.isfinite(self.d0):
            progress = max(1.0 - d / self.d0, 0.0)
        else:
            progress = 1.0 if d <= 0 else 0.0
        self._value = progress * _efficiency(self.d0, self.dep("path_length"))

    def get(self) -> float:
        return self._value


class Collisions(Measure):
    """Number of steps in which the body collided."""

    uuid = "collisions"

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        self._value = 0

    def update(self, ctx: MeasureContext) -> None:
        self._value += int(bool(ctx.collided))

    def get(self) -> int:
        return self._value


class Time(Measure):
    """Simulated seconds since the episode started."""

    uuid = "time"

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        self._t0, self._value = float(ctx.t), 0.0

    def update(self, ctx: MeasureContext) -> None:
        self._value = float(ctx.t) - self._t0

    def get(self) -> float:
        return self._value


class LocalizationError(Measure):
    """How far the agent's pose estimate is from the true pose.

    `get()` returns {"position_error": metres, "heading_error": radians in [0, pi],
    "within": both within the thresholds}. Without an estimate both errors are inf.
    """

    uuid = "localization_error"

    def __init__(
        self, position_threshold: float = 1.0, heading_threshold: float = math.radians(5.0)
    ) -> None:
        super().__init__()
        self.position_threshold = _positive(position_threshold, "position_threshold")
        self.heading_threshold = _positive(heading_threshold, "heading_threshold")

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        self.update(ctx)

    def update(self, ctx: MeasureContext) -> None:
        if ctx.estimate is None:
            self._position = self._heading = math.inf
        else:
            self._position = float(np.linalg.norm(ctx.estimate[:2] - ctx.pose[:2]))
            self._heading = heading_error(ctx.estimate[2], ctx.pose[2])

    def within(
        self, position_threshold: float | None = None, heading_threshold: float | None = None
    ) -> bool:
        """Both errors within the thresholds (by default the measure's: 1 m and 5 degrees)."""
        position = self.position_threshold if position_threshold is None else position_threshold
        heading = self.heading_threshold if heading_threshold is None else heading_threshold
        return bool(self._position <= position and self._heading <= heading)

    def get(self) -> dict[str, Any]:
        return {
            "position_error": self._position,
            "heading_error": self._heading,
            "within": self.within(),
        }


class NavReward(Measure):
    """Per-step reward: geodesic progress (previous minus current distance to goal) - slack
    - collision_penalty if collided + success_bonus on success. Over an episode it sums to
    (d_start - d_end) - slack * steps - collision_penalty * collisions + bonus * success.
    Progress is 0 for a step where either distance is infinite (goal unreachable)."""

    uuid = "nav_reward"
    depends_on = ("distance_to_goal", "success")

    def __init__(
        self, success_bonus: float = 2.5, collision_penalty: float = 0.1, slack: float = 0.01
    ) -> None:
        super().__init__()
        self.success_bonus = _positive(success_bonus, "success_bonus", zero_ok=True)
        self.collision_penalty = _positive(collision_penalty, "collision_penalty", zero_ok=True)
        self.slack = _positive(slack, "slack", zero_ok=True)

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        self._previous, self._value = self.dep("distance_to_goal"), 0.0

    def update(self, ctx: MeasureContext) -> None:
        d = self.dep("distance_to_goal")
        progress = self._previous - d if math.isfinite(self._previous) and math.isfinite(d) else 0
        self._value = (
            progress
            - self.slack
            - self.collision_penalty * float(bool(ctx.collided))
            + self.success_bonus * self.dep("success")
        )
        self._previous = d

    def get(self) -> float:
        return self._value


_ALL = (DistanceToGoal, Success, PathLength, SPL, SoftSPL, Collisions, Time, LocalizationError,
        NavReward)  # fmt: skip
MEASURES: dict[str, type[Measure]] = {m.uuid: m for m in _ALL}
"""Every built-in measure by uuid."""


class Measures:
    """A set of measures updated in dependency order.

    Args:
        measures: Names from MEASURES (built with defaults) or configured instances, e.g.
            `Measures(["spl", Success(0.2), "nav_reward"])`. Dependencies that are not listed
            are added with their defaults, ahead of the measures that need them.

    Raises:
        UnknownNameError: For a name (or a dependency) that is not a known measure.
        ValueError: For two measures with the same uuid, or a dependency cycle.
    """

    def __init__(self, measures: Iterable[str | Measure]) -> None:
        given: dict[str, Measure] = {}
        for item in measures:
            measure = _make(item)
            if measure.uuid in given:
                raise ValueError(f"measure {measure.uuid!r} is listed twice")
            given[measure.uuid] = measure
        self._measures: dict[str, Measure] = {}
        visiting: list[str] = []

        def visit(name: str) -> None:
            if name in self._measures:
                return
            if name in visiting:
                raise ValueError(f"measure dependency cycle: {' -> '.join([*visiting, name])}")
            visiting.append(name)
            measure = given.get(name) or _make(name)
            for dep in measure.depends_on:
                visit(dep)
            visiting.pop()
            self._measures[name] = measure

        for name in given:
            visit(name)
        for measure in self._measures.values():
            measure.bind(self._measures)

    @property
    def names(self) -> list[str]:
        """uuids in update order."""
        return list(self._measures)

    def __getitem__(self, name: str) -> Measure:
        if name not in self._measures:
            raise UnknownNameError("measure", name, self._measures)
        return self._measures[name]

    def __contains__(self, name: object) -> bool:
        return name in self._measures

    def reset(self, episode: Episode, ctx: MeasureContext) -> None:
        """Reset every measure for a new episode, dependencies first."""
        for measure in self._measures.values():
            measure.reset(episode, ctx)

    def update(self, ctx: MeasureContext) -> None:
        """Update every measure after a step, dependencies first."""
        for measure in self._measures.values():
            measure.update(ctx)

    def get_all(self) -> dict[str, Any]:
        """{uuid: value} for every measure, in update order."""
        return {name: measure.get() for name, measure in self._measures.items()}


def heading_error(a: float, b: float) -> float:
    """Absolute difference of two headings (radians), wrapped to [0, pi]."""
    return abs(math.remainder(float(a) - float(b), math.tau))


def _make(item: str | Measure) -> Measure:
    if isinstance(item, Measure):
        return item
    if item not in MEASURES:
        raise UnknownNameError("measure", item, MEASURES)
    return MEASURES[item]()


def _efficiency(d0: float, path: float) -> float:
    """d0 / max(path, d0), and 1 when both are 0 (a localization episode that stays put);
    0 when d0 is infinite (the goal is unreachable from the start: no path can be efficient)."""
    if not math.isfinite(d0):
        return 0.0
    longest = max(path, d0)
    return d0 / longest if longest > 0 else 1.0


def _positive(value: float, name: str, zero_ok: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not (ok and math.isfinite(value) and (value > 0 or (zero_ok and value == 0))):
        need = ">= 0" if zero_ok else "> 0"
        raise ValueError(f"{name} must be a finite number {need}, got {value!r}")
    return float(value)


def _pose(value: Any, name: str) -> np.ndarray:
    pose = np.asarray(value, dtype=np.float64)
    if pose.shape != (3,) or not np.isfinite(pose).all():
        raise ValueError(f"MeasureContext.{name} must be a finite (x, y, yaw), got {value!r}")
    return pose
