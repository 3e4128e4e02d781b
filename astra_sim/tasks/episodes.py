"""A sampler of solvable episodes, and episode sets that save to deterministic JSON and split
into train/val/test by scene seed (the episode itself: ``episode``; the file format:
``episode_file``).

Every float an episode holds is rounded to 1e-4 when sampled, so an episode read back from
disk equals the one that was written, and the same arguments give the same file byte for byte.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.errors import EpisodeSamplingError, UnknownNameError
from astra_sim.core.fileio import atomic_write
from astra_sim.core.seeding import check_seed, make_rng
from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavConfig, NavGrid
from astra_sim.tasks.episode import TASKS, Episode, quantize
from astra_sim.tasks.episode_file import (
    FORMAT,
    VERSION,
    EpisodeFormatError,
    parse_document,
    rounded,
)
from astra_sim.tasks.goals import Goal, GoalDistance, language_goals

_STARTS_PER_TRY = 16  # start candidates per goal draw: one distance field serves them all
_GRID_SLACK = 0.1  # metres: grid (cell-centre) distances vs exact geodesics of points


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
        """One new episode; raises EpisodeSamplingError (a RuntimeError) if max_tries draws
        meet no constraint."""
        if self.task == "localization":
            start_xy, goal, distance = self._lone_start()
        else:
            start_xy, goal, distance = self._pair()
        yaw = quantize(self.rng.uniform(-math.pi, math.pi))
        info: dict[str, Any] = {}
        if self.task == "imagenav":
            gx, gy = goal.positions[0]
            goal_yaw = quantize(self.rng.uniform(-math.pi, math.pi))
            info["goal_pose"] = [float(gx), float(gy), goal_yaw]
        seed, self._count = self.scene.seed, self._count + 1
        return Episode(
            episode_id=f"{self.task}-{self.scene.kind}-{seed}-{self._count - 1:05d}",
            task=self.task,
            scene_kind=self.scene.kind,
            scene_seed=None if seed is None else int(seed),
            scene_params=dict(self.scene.metadata.get("params", {})),
            start=(float(start_xy[0]), float(start_xy[1]), yaw),
            goal=goal,
            geodesic_distance=quantize(distance),
            info=info,
        )

    def _lone_start(self) -> tuple[np.ndarray, Goal, float]:
        for _ in range(self.max_tries):
            point = self._draw_points(1)
            if len(point):
                return point[0], Goal("point", point), 0.0
        raise EpisodeSamplingError(self._failure("a navigable start", 0.0))

    def _pair(self) -> tuple[np.ndarray, Goal, float]:
        """Draw a goal, then starts until one lies in the geodesic range from it.

        The grid distance field screens candidates (cheap, up to ~3 % long); the geodesic
        that the env reports (`GoalDistance`, also SPL's d0) decides and is recorded.
        """
        if self.task == "languagenav" and not self.goals:
            raise EpisodeSamplingError(f"the {self._scene_name()} offers no language goal")
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
                grid_d = to_goal.screen(start_xy)
                near = lo - _GRID_SLACK <= grid_d <= hi * 1.03 + _GRID_SLACK
                if not (near and math.isfinite(grid_d)):
                    longest = max(longest, grid_d if math.isfinite(grid_d) else 0.0)
                    continue
                exact = to_goal(start_xy)  # the env's d0 at reset: the same computation
                if lo <= exact <= hi:
                    return start_xy, goal, exact
                longest = max(longest, exact)
        raise EpisodeSamplingError(self._failure("a start and goal", longest))

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
        episodes = [{**rounded(e.to_json()), "scene_params": rounded(e.scene_params, None)}
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
            return cls(parse_document(doc))
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
