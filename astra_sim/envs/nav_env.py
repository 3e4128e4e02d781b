"""Gymnasium navigation envs: PointNav, ImageNav, LanguageNav and Localization.

One class serves the four tasks; the subclasses only name their task. An episode is drawn
from the env's seeded generator (or read from a saved episode set), the simulator is
stepped once per action, and the measures of ``astra_sim.tasks`` give reward, success and
the figures that go into ``info``. Privileged ground truth stays in ``info``.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from astra_sim.core.errors import UnknownNameError
from astra_sim.core.seeding import check_seed
from astra_sim.envs import kwargs as kw
from astra_sim.envs import spaces as sp
from astra_sim.envs.frame import render_frame
from astra_sim.scenes import SCENE_KINDS, Scene, generate_scene
from astra_sim.sim import SimConfig, Simulator
from astra_sim.sim.randomization import parse_randomize
from astra_sim.sim.randomization.apply import check_supported, draw_for
from astra_sim.tasks import (
    Episode,
    EpisodeSampler,
    EpisodeSet,
    GoalDistance,
    LocalizationError,
    MeasureContext,
    Measures,
    NavReward,
    Success,
)

NAV_MEASURES = ("distance_to_goal", "path_length", "spl", "soft_spl", "collisions", "time")
_SCENE_CACHE = 4


class AstraNavEnv(gym.Env):
    """A robot in an indoor scene with a task; action (v, w) in physical units.

    Args:
        scene: scene kind (home, office, warehouse) to generate.
        scene_seeds: seeds to draw scenes from (one per episode, from the env's generator).
        scene_params: generator parameters for every scene (e.g. ``{"bedrooms": 3}``).
        scene_dir: a saved scene directory (or mesh) to use instead of generating.
        scene_dataset: a habitat scene dataset (``*.scene_dataset_config.json``, folder or
            mesh) to draw scenes from; ``episodes`` is then a habitat-lab ``*.json.gz``
            (see ``envs.habitat_scenes``).
        episodes: a saved episode set (JSON) to play in order instead of sampling.
        split: with ``episodes``, keep only ``train``, ``val`` or ``test`` episodes.
        sim: simulator settings (a ``SimConfig`` or a dict of its fields).
        rig: camera rig name or recipe path (overrides ``sim``'s).
        body: body backend (overrides ``sim``'s).
        success_distance: metres from the goal within which a stop succeeds.
        min_geodesic: shortest start-goal geodesic distance of sampled episodes.
        max_geodesic: longest start-goal geodesic distance of sampled episodes.
        stop_linear: |v| below which a command counts as a stop (m/s).
        stop_angular: |w| below which a command counts as a stop (rad/s).
        reward: keyword arguments of ``NavReward`` (success_bonus, collision_penalty, slack).
        randomize: domain randomization, drawn per episode from its seed: a ``randomize``
            block (``{"lighting": {"ambient": [0.4, 0.6]}, "camera": "default"}``,
            ``"default"`` for every knob; see ``astra_sim.sim.randomization``); the draws
            are in ``info["randomization"]`` at reset. None keeps every episode as it was.
        render_mode: ``"rgb_array"`` for a panorama plus a top-down map with the trajectory.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 10}
    task = "pointnav"

    def __init__(
        self,
        scene: str = "home",
        scene_seeds: tuple[int, ...] | list[int] | int = (0,),
        scene_params: dict[str, Any] | None = None,
        scene_dir: str | Path | None = None,
        scene_dataset: str | Path | None = None,
        episodes: str | Path | None = None,
        split: str | None = None,
        sim: SimConfig | dict[str, Any] | None = None,
        rig: str | None = None,
        body: str | None = None,
        success_distance: float = 0.5,
        min_geodesic: float = 1.0,
        max_geodesic: float = np.inf,
        stop_linear: float = 0.05,
        stop_angular: float = 0.1,
        reward: dict[str, float] | None = None,
        render_mode: str | None = None,
        randomize: dict[str, Any] | str | None = None,
    ):
        if scene_dir is None and scene_dataset is None and scene not in SCENE_KINDS:
            raise UnknownNameError("scene kind", scene, SCENE_KINDS)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        seeds = kw.seeds(scene_seeds)
        self.scene_seeds = [check_seed(s, "scene seed") for s in seeds]
        if not self.scene_seeds:
            raise ValueError("scene_seeds must hold at least one seed")
        self.scene_kind, self.scene_params = scene, dict(scene_params or {})
        self.scene_dir = scene_dir
        overrides = {k: v for k, v in (("rig", rig), ("body", body)) if v is not None}
        self.sim_config = kw.sim_config(sim, overrides)
        self.success_distance = kw.number(success_distance, "success_distance", strict=True)
        self.min_geodesic = kw.number(min_geodesic, "min_geodesic")
        self.max_geodesic = kw.number(max_geodesic, "max_geodesic", self.min_geodesic,
                                      infinite=True)  # fmt: skip
        self.stop_linear = kw.number(stop_linear, "stop_linear")
        self.stop_angular = kw.number(stop_angular, "stop_angular")
        self.reward_kwargs = kw.reward(reward)
        self.render_mode = render_mode
        self.randomize = parse_randomize(randomize)
        self.randomization: dict[str, Any] | None = None  # the last reset's draws, as JSON
        self.habitat = None
        if scene_dataset is not None:
            from astra_sim.envs.habitat_scenes import HabitatScenes

            self.habitat = HabitatScenes(scene_dataset, self.sim_config.robot.radius)
        self.episode_set = self._load_episodes(episodes, split)
        self._next_episode = 0
        self._sims: OrderedDict[Any, Simulator] = OrderedDict()

        first_key = self.scene_seeds[0] if scene_dir is None else None
        first = self._simulator(self.habitat.first_key() if self.habitat else first_key)
        if self.randomize is not None:
            check_supported(self.randomize, first)
        self.observation_space = gym.spaces.Dict(
            {
                **sp.sensor_spaces(first.rig, self.sim_config.ticks_per_step, first.wheel_samples),
                **sp.task_spaces(self.task, first.rig),
            }
        )
        self.action_space = sp.action_space(self.task, self.sim_config.robot)
        self.sim: Simulator = first
        self.episode: Episode | None = None
        self._explicit_stop = False
        self._trajectory: list[np.ndarray] = []
        self._last_obs: dict[str, Any] | None = None

    # ------------------------------------------------------------------ setup
    def _load_episodes(self, path: str | Path | None, split: str | None) -> list[Episode] | None:
        if path is None:
            if split is not None:
                raise ValueError("split needs an episode set (episodes=PATH)")
            return None
        if self.habitat is not None:
            return self.habitat.episodes(path, self.task, split)  # type: ignore[return-value]
        episodes = EpisodeSet.load(path)
        chosen = list(episodes) if split is None else list(episodes.splits()[split])
        chosen = [e for e in chosen if e.task == self.task]
        if not chosen:
            raise ValueError(
                f"{path}: no {self.task} episodes" + (f" in split {split!r}" if split else "")
            )
        return chosen

    def _scene(self, seed: int | None) -> Scene:
        if self.habitat is not None:
            return self.habitat.scene(seed)  # the key is (habitat scene, floor height)
        if self.scene_dir is not None:
            return Scene.load(self.scene_dir)
        return generate_scene(self.scene_kind, seed, **self.scene_params)

    def _simulator(self, seed: int | None) -> Simulator:
        """The simulator of scene ``seed``, kept for the next few episodes on that scene."""
        if seed not in self._sims:
            self._sims[seed] = Simulator(self._scene(seed), self.sim_config)
            if len(self._sims) > _SCENE_CACHE:
                self._sims.popitem(last=False)[1].close()
        self._sims.move_to_end(seed)
        return self._sims[seed]

    def _draw_episode(self, options: dict[str, Any]) -> Episode:
        if "episode" in options:
            return options["episode"]
        if self.episode_set is not None:
            index = options.get("episode_index", self._next_episode)
            self._next_episode = index + 1
            return self.episode_set[index % len(self.episode_set)]
        seed = None
        if self.habitat is not None:
            seed = self.habitat.pick(self.np_random)
        elif self.scene_dir is None:
            seed = int(self.np_random.choice(self.scene_seeds))
        sim = self._simulator(seed)
        sampler = EpisodeSampler(
            sim.scene,
            sim.scene.navgrid(),
            self.np_random,
            min_geodesic=self.min_geodesic,
            max_geodesic=self.max_geodesic,
            task=self.task,
        )
        episode = sampler.sample()
        # A fresh sampler numbers from 0; a draw from the seeded generator names the episode.
        stem = episode.episode_id.rsplit("-", 1)[0]
        tag = int(self.np_random.integers(10**8))
        return dataclasses.replace(episode, episode_id=f"{stem}-{tag:08d}")

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        episode = self._draw_episode(options or {})
        key = None if self.scene_dir is not None else episode.scene_seed
        self.sim = self._simulator(self.habitat.key(episode) if self.habitat else key)
        self.episode = episode
        sim_seed = int(self.np_random.integers(2**31 - 1))
        # Drawn from the episode seed, never from np_random: episodes stay those without it.
        draw = None if self.randomize is None else draw_for(self.randomize, self.sim, sim_seed)
        start = np.asarray(episode.start, dtype=np.float64)
        obs = self.sim.reset(start, seed=sim_seed, randomization=draw)
        self.randomization = None if draw is None else draw.to_json()
        grid = self.sim.scene.navgrid()
        self.goal_distance = GoalDistance(grid, episode.goal.positions)
        self.measures = self._make_measures()
        ctx = MeasureContext(
            pose=self.sim.state.pose, distance_to_goal=self.goal_distance, t=self.sim.state.t
        )
        self.measures.reset(episode, ctx)
        self._explicit_stop = False
        self._trajectory = [self.sim.state.pose[:2].copy()]
        obs = self._task_obs(obs)
        self._last_obs = obs
        info = self._info(collided=False)
        if self.randomization is not None:
            info["randomization"] = self.randomization
        return obs, info

    def step(self, action: np.ndarray):
        if self.episode is None:
            raise RuntimeError("call reset() before step()")
        try:
            a = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(
                f"action must be {self.action_space.shape} numbers, got {action!r}"
            ) from e
        if a.shape != self.action_space.shape:
            raise ValueError(f"action must have shape {self.action_space.shape}, got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"action must be finite, got {a.tolist()}")
        cmd = np.clip(a[:2], self.action_space.low[:2], self.action_space.high[:2])
        stopped = self._explicit_stop or (
            abs(cmd[0]) < self.stop_linear and abs(cmd[1]) < self.stop_angular
        )
        if self.task == "localization":
            stopped = False
        obs, sim_info = self.sim.step(cmd)
        ctx = MeasureContext(
            pose=self.sim.state.pose,
            distance_to_goal=self.goal_distance,
            t=self.sim.state.t,
            collided=sim_info["collided"],
            stopped=stopped,
            estimate=a[2:5] if self.task == "localization" else None,
        )
        self.measures.update(ctx)
        self._trajectory.append(self.sim.state.pose[:2].copy())
        values = self.measures.get_all()
        reward = float(values.get("nav_reward", 0.0))
        terminated = bool(values.get("success", False)) or self._explicit_stop
        self._explicit_stop = False
        obs = self._task_obs(obs)
        self._last_obs = obs
        return obs, reward, terminated, False, self._info(sim_info["collided"])

    def request_stop(self) -> None:
        """Make the next step an explicit stop: it ends the episode, success or not."""
        self._explicit_stop = True

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array" or self._last_obs is None:
            return None
        goals = self.episode.goal.positions if self.episode is not None else np.zeros((0, 2))
        return render_frame(
            self.sim.scene.navgrid(),
            self._last_obs["rgb"],
            np.asarray(self._trajectory),
            goals,
            self.sim.state.pose,
        )

    def close(self) -> None:
        for sim in self._sims.values():
            sim.close()
        self._sims.clear()

    # ------------------------------------------------------------------ helpers
    def _make_measures(self) -> Measures:
        if self.task == "localization":
            return Measures([LocalizationError(), "path_length", "collisions", "time"])
        return Measures(
            [*NAV_MEASURES, Success(self.success_distance), NavReward(**self.reward_kwargs)]
        )

    def _task_obs(self, obs: dict[str, Any]) -> dict[str, Any]:
        ep = self.episode
        # A real IMU saturates at its full scale; the observation space says which.
        obs["imu"] = np.clip(obs["imu"], -sp.IMU_RANGE, sp.IMU_RANGE)
        if self.task == "pointnav":
            x, y, yaw = self.sim.state.pose
            d = np.asarray(ep.goal.positions[0], dtype=np.float64) - (x, y)
            c, s = np.cos(yaw), np.sin(yaw)
            obs["goal"] = np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1]], np.float32)
        elif self.task == "imagenav":
            obs["goal_image"] = self._goal_image()
        elif self.task == "languagenav":
            obs["instruction"] = sp.clean_instruction(ep.goal.instruction)
        return obs

    def _goal_image(self) -> np.ndarray:
        key = (self.episode.episode_id, id(self.sim))
        if getattr(self, "_goal_image_key", None) != key:
            pose = np.asarray(self.episode.info["goal_pose"], dtype=np.float64)
            self._goal_image_cache = self.sim.render(pose).rgb
            self._goal_image_key = key
        return self._goal_image_cache.copy()  # callers keep observations: never share

    def _info(self, collided: bool) -> dict[str, Any]:
        state, ep = self.sim.state, self.episode
        info: dict[str, Any] = {
            "pose": state.pose.copy(),
            "velocity": state.velocity.copy(),
            "collided": bool(collided),
            "episode_id": ep.episode_id,
            "scene_kind": ep.scene_kind,
            "scene_seed": ep.scene_seed,
            "geodesic_distance": float(self.goal_distance(state.pose[:2])),
        }
        info.update(self.measures.get_all())
        return info


class PointNavEnv(AstraNavEnv):
    """Reach a goal position given in the robot frame (``obs["goal"]``: x forward, y left)."""

    task = "pointnav"


class ImageNavEnv(AstraNavEnv):
    """Reach the place where the goal image (``obs["goal_image"]``, the same rig) was taken."""

    task = "imagenav"


class LanguageNavEnv(AstraNavEnv):
    """Reach what ``obs["instruction"]`` names: an object, a room, a shelf or a function."""

    task = "languagenav"


class LocalizationEnv(AstraNavEnv):
    """Drive and report the pose: action (v, w, x, y, yaw); info holds the error measures."""

    task = "localization"
