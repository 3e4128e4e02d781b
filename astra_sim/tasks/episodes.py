"""Episodes (start, goal, shortest-path length), a sampler of solvable ones, and episode sets
that save to deterministic JSON and split into train/val/test by scene seed.

Every float an episode holds is rounded to 1e-4 when sampled, so an episode read back from
disk equals the one that was written, and the same arguments give the same file byte for byte.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.errors import AstraSimError, UnknownNameError
from astra_sim.core.fileio import atomic_write
from astra_sim.core.seeding import check_seed, make_rng
from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavConfig, NavGrid
from astra_sim.tasks.goals import Goal, GoalDistance, language_goals

TASKS = ("pointnav", "imagenav", "languagenav", "localization")
FORMAT = "astra-sim-episodes"
VERSION = 1
_STARTS_PER_TRY = 16  # start candidates per goal draw: one distance field serves them all
_GRID_SLACK = 0.1  # metres: grid (cell-centre) distances vs exact geodesics of points


class EpisodeFormatError(AstraSimError, ValueError):
    """An episode file is unreadable, truncated, or holds a malformed episode."""


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


class EpisodeSampler:
    """Draws solvable episodes for one task in one scene, every draw from `rng`.

    Start and goal are navigable, connected, and their geodesic distance lies in
    [min_geodesic, max_geodesic]; the start yaw is uniform. languagenav picks a goal from
    `language_goals` uniformly; imagenav adds a goal-image pose with uniform yaw at the goal
    point; localization episodes have only a start (min/max geodesic do not apply).
    """

    def __init__(
        self,
        scene: Scene,
        grid: NavGrid,
        rng: np.random.Generator,
        min_geodesic: float = 1.0,
        max_geodesic: float = math.inf,
        task: str = "pointnav",
        max_tries: int = 100,
    ) -> None:
        """Check the arguments; raises ValueError/UnknownNameError naming the bad one."""
        if task not in TASKS:
            raise UnknownNameError("task", task, TASKS)
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        if not (math.isfinite(min_geodesic) and min_geodesic >= 0):
            raise ValueError(f"min_geodesic must be a finite number >= 0, got {min_geodesic!r}")
        if not max_geodesic >= min_geodesic:
            raise ValueError(
                f"max_geodesic ({max_geodesic}) must be >= min_geodesic ({min_geodesic})"
            )
        if isinstance(max_tries, bool) or not isinstance(max_tries, int) or max_tries < 1:
            raise ValueError(f"max_tries must be a positive integer, got {max_tries!r}")
        self.scene, self.grid, self.rng, self.task = scene, grid, rng, task
        self.min_geodesic, self.max_geodesic, self.max_tries = min_geodesic, max_geodesic, max_tries
        self._goals: list[Goal] | None = None
        self._distances: dict[str, GoalDistance] = {}  # by instruction
        self._count = 0

    @property
    def goals(self) -> list[Goal]:
        """The scene's language goals (computed on first use), positions rounded to 1e-4 m
        so that a saved episode reads back equal."""
        if self._goals is None:
            self._goals = [
                Goal(
                    g.kind, np.round(g.positions, 4) + 0.0, g.instruction, g.instance_ids, g.room_id
                )
                for g in language_goals(self.scene, self.grid)
            ]
        return self._goals

    def sample(self) -> Episode:
        """One new episode; raises RuntimeError if max_tries draws meet no constraint."""
        if self.task == "localization":
            start_xy, goal, distance = self._lone_start()
        else:
            start_xy, goal, distance = self._pair()
        yaw = _q(self.rng.uniform(-math.pi, math.pi))
        info: dict[str, Any] = {}
        if self.task == "imagenav":
            gx, gy = goal.positions[0]
            info["goal_pose"] = [float(gx), float(gy), _q(self.rng.uniform(-math.pi, math.pi))]
        seed, self._count = self.scene.seed, self._count + 1
        return Episode(
            episode_id=f"{self.task}-{self.scene.kind}-{seed}-{self._count - 1:05d}",
            task=self.task,
            scene_kind=self.scene.kind,
            scene_seed=None if seed is None else int(seed),
            scene_params=dict(self.scene.metadata.get("params", {})),
            start=(float(start_xy[0]), float(start_xy[1]), yaw),
            goal=goal,
            geodesic_distance=_q(distance),
            info=info,
        )

    def _lone_start(self) -> tuple[np.ndarray, Goal, float]:
        for _ in range(self.max_tries):
            point = self._draw_points(1)
            if len(point):
                return point[0], Goal("point", point), 0.0
        raise RuntimeError(self._failure("a navigable start", 0.0))

    def _pair(self) -> tuple[np.ndarray, Goal, float]:
        """Draw a goal, then starts until one lies in the geodesic range from it.

        The grid distance field screens candidates (cheap, up to ~3 % long); the exact
        geodesic to the nearest goal position decides.
        """
        if self.task == "languagenav" and not self.goals:
            raise RuntimeError(f"the {self._scene_name()} offers no language goal")
        lo, hi, longest = self.min_geodesic, self.max_geodesic, 0.0
        for _ in range(self.max_tries):
            if self.task == "languagenav":
                goal = self.goals[int(self.rng.integers(len(self.goals)))]
            else:
                point = self._draw_points(1)
                kind = "point" if self.task == "pointnav" else "image"
                goal = Goal(kind, point) if len(point) else None
            starts = self._draw_points(_STARTS_PER_TRY)
            if goal is None:
                continue
            to_goal = self._distances.get(goal.instruction) if goal.instruction else None
            if to_goal is None:  # point goals are not kept: goals.py caches their fields
                to_goal = GoalDistance(self.grid, goal.positions)
                if goal.instruction:
                    self._distances[goal.instruction] = to_goal
            for start_xy in starts:
                grid_d, target = to_goal(start_xy), to_goal.nearest_source(start_xy)
                if target is None or not lo - _GRID_SLACK <= grid_d <= hi * 1.03 + _GRID_SLACK:
                    longest = max(longest, grid_d if math.isfinite(grid_d) else 0.0)
                    continue
                if len(goal.positions) == 1:
                    target = goal.positions[0]  # the exact point, not its cell centre
                exact = self.grid.geodesic_distance(start_xy, target)
                if lo <= exact <= hi:
                    return start_xy, goal, exact
                longest = max(longest, exact)
        raise RuntimeError(self._failure("a start and goal", longest))

    def _draw_points(self, n: int) -> np.ndarray:
        """n navigable points rounded to 1e-4 m; the few that rounding moves off are dropped."""
        points = np.round(self.grid.sample_navigable(self.rng, n), 4) + 0.0
        return points[self.grid.is_navigable(points)]

    def _scene_name(self) -> str:
        return f"{self.scene.kind} scene (seed {self.scene.seed})"

    def _failure(self, what: str, longest: float) -> str:
        return (
            f"could not sample {what} for a {self.task} episode in the {self._scene_name()} "
            f"after {self.max_tries} tries: need geodesic distance in [{self.min_geodesic}, "
            f"{self.max_geodesic}] m (longest reachable distance seen {longest:.2f} m)"
        )


@dataclass(frozen=True)
class SplitRule:
    """Which split a scene seed belongs to: seed % modulus in `val` -> val, in `test` -> test,
    anything else -> train. Splitting by scene keeps evaluation scenes unseen in training.
    """

    modulus: int = 10
    val: tuple[int, ...] = (8,)
    test: tuple[int, ...] = (9,)

    def __post_init__(self) -> None:
        if isinstance(self.modulus, bool) or not isinstance(self.modulus, int) or self.modulus < 1:
            raise ValueError(f"SplitRule.modulus must be a positive integer, got {self.modulus!r}")
        for name in ("val", "test"):
            bad = [r for r in getattr(self, name) if not 0 <= r < self.modulus]
            if bad:
                raise ValueError(f"SplitRule.{name} residues {bad} are outside [0, {self.modulus})")
        if set(self.val) & set(self.test):
            raise ValueError(f"SplitRule.val {self.val} and test {self.test} overlap")

    def split_of(self, seed: int) -> str:
        """ "train", "val" or "test" for a scene seed."""
        residue = check_seed(seed, "scene seed") % self.modulus
        return "val" if residue in self.val else "test" if residue in self.test else "train"


class EpisodeSet(Sequence[Episode]):
    """An ordered list of episodes that saves to and loads from one JSON file."""

    def __init__(self, episodes: Iterable[Episode] = ()) -> None:
        self.episodes = list(episodes)

    def __len__(self) -> int:
        return len(self.episodes)

    def __getitem__(self, index: int) -> Episode:  # type: ignore[override]
        return self.episodes[index]

    def __iter__(self) -> Iterator[Episode]:
        return iter(self.episodes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EpisodeSet):
            return NotImplemented
        return self.episodes == other.episodes

    __hash__ = None  # type: ignore[assignment]

    def to_bytes(self) -> bytes:
        """Deterministic JSON: sorted keys, floats rounded to 1e-4, one trailing newline.

        Scene parameters are written unrounded: they must regenerate the very same scene.
        """
        episodes = [{**_rounded(e.to_json()), "scene_params": _rounded(e.scene_params, None)}
                    for e in self]  # fmt: skip
        doc = {"format": FORMAT, "version": VERSION, "episodes": episodes}
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8") + b"\n"

    def save(self, path: str | Path) -> Path:
        """Write the set atomically (no partial file on failure); returns the path."""
        return atomic_write(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> EpisodeSet:
        """Read a set written by `save`.

        Raises:
            EpisodeFormatError: Naming the file and what is wrong (unreadable, invalid JSON,
                wrong format, or which episode has a missing key, a wrong type or an unknown
                task).
        """
        path = Path(path)
        try:
            doc = json.loads(path.read_bytes())
        except OSError as e:
            raise EpisodeFormatError(f"cannot read episode file {path}: {e}") from e
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise EpisodeFormatError(f"episode file {path} is not valid JSON: {e}") from e
        try:
            return cls(_parse_document(doc))
        except (ValueError, TypeError, KeyError) as e:
            raise EpisodeFormatError(f"episode file {path}: {e}") from e

    def splits(self, rule: SplitRule = SplitRule()) -> dict[str, EpisodeSet]:
        """{"train", "val", "test"} subsets by scene seed (see SplitRule), order kept."""
        out: dict[str, list[Episode]] = {"train": [], "val": [], "test": []}
        for episode in self:
            if episode.scene_seed is None:
                raise ValueError(f"episode {episode.episode_id} has no scene seed to split by")
            out[rule.split_of(episode.scene_seed)].append(episode)
        return {name: EpisodeSet(episodes) for name, episodes in out.items()}

    @classmethod
    def generate(
        cls,
        task: str,
        kind: str,
        seeds: Iterable[int],
        per_scene: int,
        rng_seed: int,
        scene_params: dict[str, Any] | None = None,
        min_geodesic: float = 1.0,
        max_geodesic: float = math.inf,
        nav_config: NavConfig | None = None,
    ) -> EpisodeSet:
        """Generate each scene and sample `per_scene` episodes in it.

        Each scene's sampler draws from `make_rng(rng_seed, "episodes", task, kind, seed)`,
        so a scene's episodes do not depend on which other seeds are in the list.
        """
        from astra_sim.scenes import generate_scene

        check_seed(rng_seed, "rng_seed")
        if task not in TASKS:
            raise UnknownNameError("task", task, TASKS)
        if isinstance(per_scene, bool) or not isinstance(per_scene, int) or per_scene < 0:
            raise ValueError(f"per_scene must be a non-negative integer, got {per_scene!r}")
        episodes: list[Episode] = []
        for seed in seeds:
            scene = generate_scene(kind, seed, nav_config, **(scene_params or {}))
            rng = make_rng(rng_seed, "episodes", task, kind, seed)
            sampler = EpisodeSampler(
                scene, scene.navgrid(nav_config), rng, min_geodesic, max_geodesic, task
            )
            episodes += [sampler.sample() for _ in range(per_scene)]
        return cls(episodes)


def _q(value: float) -> float:
    """Round to the 1e-4 the file keeps (and turn -0.0 into 0.0)."""
    return round(float(value), 4) + 0.0


def _rounded(obj: Any, digits: int | None = 4) -> Any:
    """obj with every float rounded to `digits` decimals (None: kept) and numpy scalars and
    arrays made plain, ready for JSON."""
    if isinstance(obj, dict):
        return {str(k): _rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_rounded(v, digits) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        if not math.isfinite(obj):
            raise ValueError(f"cannot save the non-finite number {obj!r} in an episode file")
        return float(obj) if digits is None else round(float(obj), digits) + 0.0
    return obj


_NUMBER = (int, float)
_EPISODE_FIELDS = {
    "episode_id": str, "task": str, "scene_kind": str, "scene_seed": (int, type(None)),
    "scene_params": dict, "start": list, "goal": dict, "geodesic_distance": _NUMBER,
    "info": dict,
}  # fmt: skip
_GOAL_FIELDS = {
    "kind": str, "positions": list, "instruction": str, "instance_ids": list,
    "room_id": (int, type(None)),
}  # fmt: skip


def _parse_document(doc: Any) -> list[Episode]:
    """Episodes of a decoded file; ValueError naming the first problem and where it is."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(f"not an episode file: format is {found!r}, expected {FORMAT!r}")
    if doc.get("version") != VERSION:
        raise ValueError(f"unsupported version {doc.get('version')!r}, expected {VERSION}")
    episodes = doc.get("episodes")
    if not isinstance(episodes, list):
        raise ValueError(f"'episodes' must be a list, got {type(episodes).__name__}")
    return [_parse_episode(e, f"episodes[{i}]") for i, e in enumerate(episodes)]


def _parse_episode(d: Any, where: str) -> Episode:
    _check_fields(d, _EPISODE_FIELDS, where)
    if d["task"] not in TASKS:
        raise ValueError(
            f"{where}.task {d['task']!r} is unknown; valid tasks are: {', '.join(TASKS)}"
        )
    _check_numbers(d["start"], f"{where}.start", 3)
    g = d["goal"]
    _check_fields(g, _GOAL_FIELDS, f"{where}.goal")
    if not g["positions"]:
        raise ValueError(f"{where}.goal.positions is empty")
    for i, p in enumerate(g["positions"]):
        _check_numbers(p, f"{where}.goal.positions[{i}]", 2)
    for i, v in enumerate(g["instance_ids"]):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{where}.goal.instance_ids[{i}] must be an integer, got {v!r}")
    try:
        goal = Goal.from_json(g)
        return Episode(**{**{k: d[k] for k in _EPISODE_FIELDS}, "goal": goal})
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from e


def _check_fields(d: Any, spec: dict[str, Any], where: str) -> None:
    if not isinstance(d, dict):
        raise ValueError(f"{where} must be an object, got {type(d).__name__}")
    for key, types in spec.items():
        if key not in d:
            raise ValueError(f"{where} is missing key {key!r}")
        value = d[key]
        if isinstance(value, bool) or not isinstance(value, types):
            names = " or ".join(
                t.__name__ for t in (types if isinstance(types, tuple) else (types,))
            )
            raise ValueError(f"{where}.{key} must be {names}, got {type(value).__name__}")


def _check_numbers(value: Any, where: str, n: int) -> None:
    ok = isinstance(value, list) and len(value) == n
    if not ok or any(isinstance(v, bool) or not isinstance(v, _NUMBER) for v in value):
        raise ValueError(f"{where} must be a list of {n} numbers, got {value!r}")
