"""Where the navigation envs get habitat scenes and episodes (``scene_dataset=PATH``).

A habitat scene is keyed by (scene name, floor height): our scenes are one floor each, so
a two-storey scan is two scenes. Scenes load on first use and the last few stay cached.
Episodes load without touching any mesh; an episode's start is fitted to our robot only
when it is drawn (habitat's agents are often thinner than ours, so a start hugging a wall
is moved to the nearest pose where our robot fits, and ``info["start_moved_m"]`` says by
how much).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.scenes.habitat import HabitatDataset, load_habitat_scene
from astra_sim.scenes.model import Scene
from astra_sim.tasks.episode import Episode, quantize
from astra_sim.tasks.habitat_episodes import load_habitat_episodes

_CACHE = 4
MAX_START_MOVE = 0.5
"""Metres a habitat start may be moved to fit our robot; further is an error."""
_FIT_MARGIN = 0.02  # metres of clearance beyond the radius a fitted start keeps

Key = tuple[str, float | None]


class HabitatScenes:
    """Scenes of one habitat scene dataset for one robot radius.

    Args:
        scene_dataset: a ``*.scene_dataset_config.json``, folder or mesh (``HabitatDataset``).
        radius: the robot's footprint radius in metres (starts are fitted to it).
        load_kwargs: passed to ``load_habitat_scene`` (e.g. ``nav_config``, ``up``).
    """

    def __init__(self, scene_dataset: str | Path, radius: float, **load_kwargs: Any) -> None:
        self.dataset = HabitatDataset(scene_dataset)
        self.radius = float(radius)
        self.load_kwargs = load_kwargs
        self._scenes: OrderedDict[Key, Scene] = OrderedDict()
        self._auto_floor: dict[str, float] = {}
        self._episodes: list[Episode] = []

    # ------------------------------------------------------------------ scenes
    def scene(self, key: Key) -> Scene:
        """The scene for ``key`` (scene name, habitat floor height or None for the
        largest floor)."""
        if key not in self._scenes:
            name, floor = key
            scene = load_habitat_scene(self.dataset, name, floor_height=floor, **self.load_kwargs)
            if floor is None:
                self._auto_floor[name] = float(scene.metadata["params"]["floor_height"])
            self._scenes[key] = scene
            if len(self._scenes) > _CACHE:
                self._scenes.popitem(last=False)
        self._scenes.move_to_end(key)
        return self._scenes[key]

    def key(self, episode: Episode) -> Key:
        """The scene key of an episode (one sampled in an auto-floor scene maps back to it)."""
        params = episode.scene_params
        name, floor = str(params["scene_id"]), params.get("floor_height")
        auto = self._auto_floor.get(name)
        if floor is None or (auto is not None and abs(float(floor) - auto) < 1e-3):
            return (name, None)
        return (name, float(floor))

    def first_key(self) -> Key:
        """The scene the env opens first: the first episode's, else the dataset's first."""
        if self._episodes:
            return self.key(self._episodes[0])
        return (next(iter(self.dataset.scenes)), None)

    def pick(self, rng: np.random.Generator) -> Key:
        """A scene of the dataset drawn from ``rng``, for sampled episodes."""
        names = list(self.dataset.scenes)
        return (names[int(rng.integers(len(names)))], None)

    # ------------------------------------------------------------------ episodes
    def episodes(self, path: str | Path, task: str, split: str | None = None) -> FittedEpisodes:
        """The file's episodes for the env's ``task``, fitted to the robot when drawn.

        Raises:
            ValueError: a split was asked for (habitat splits are separate files), or the
                file holds no episode of this task.
        """
        if split is not None:
            raise ValueError(
                f"split={split!r}: habitat episode datasets keep each split in its own file; "
                "pass that file as episodes=PATH"
            )
        habitat_task = {"pointnav": "pointnav", "imagenav": "imagenav"}.get(task)
        loaded = load_habitat_episodes(path, self.dataset, habitat_task)
        chosen = [e for e in loaded if e.task == task]
        if not chosen:
            raise ValueError(f"{path}: no {task} episodes (found {len(loaded)} of other tasks)")
        self._episodes = chosen
        return FittedEpisodes(self, chosen)

    def fit(self, episode: Episode) -> Episode:
        """``episode`` with its start moved to the nearest pose where the robot fits.

        Raises:
            ValueError: the nearest such pose is more than MAX_START_MOVE away.
        """
        grid = self.scene(self.key(episode)).navgrid()
        start = np.asarray(episode.start[:2], dtype=np.float64)
        need = self.radius + _FIT_MARGIN
        if float(grid.esdf_at(start)) >= need:
            return episode
        cells = np.argwhere(grid.esdf >= need)
        if len(cells) == 0:
            raise ValueError(f"episode {episode.episode_id}: no pose in its scene fits the robot")
        centres = grid.cell_to_world(cells)
        best = centres[int(np.argmin(np.linalg.norm(centres - start, axis=1)))]
        moved = float(np.linalg.norm(best - start))
        if moved > MAX_START_MOVE:
            raise ValueError(
                f"episode {episode.episode_id}: its start {start.round(3).tolist()} is "
                f"{moved:.2f} m from the nearest pose where a robot of radius {self.radius} m "
                f"fits (at most {MAX_START_MOVE} m is moved)"
            )
        info = {**episode.info, "start_moved_m": quantize(moved)}
        new_start = (quantize(best[0]), quantize(best[1]), episode.start[2])
        return dataclasses.replace(episode, start=new_start, info=info)


class FittedEpisodes(Sequence[Episode]):
    """Episodes whose starts are fitted to the robot on access (each scene loads when one of
    its episodes is first drawn, not when the file is read)."""

    def __init__(self, source: HabitatScenes, episodes: list[Episode]) -> None:
        self.source, self.raw = source, episodes
        self._fitted: dict[int, Episode] = {}

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index: int) -> Episode:  # type: ignore[override]
        index = range(len(self.raw))[index]
        if index not in self._fitted:
            self._fitted[index] = self.source.fit(self.raw[index])
        return self._fitted[index]
