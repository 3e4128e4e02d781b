"""Planner training data rendered straight from the simulator.

Each sample is what the planner sees at one control step (the BEV and occupancy lifted
from the rig's depth, the body velocity, the local goal in the robot frame) and what it is
trained towards (the next ``horizon`` relative steps of the demonstrator's own executed
trajectory, every ``step_dt`` seconds) plus the privileged robot-centred ESDF crop the
masked loss reads. The demonstrator is the geodesic expert with Gaussian action noise, so
the data shows it recentring from small offsets, not only the ideal line. With
``push_prob`` > 0 it is also pushed off course now and then (DART-style: a fixed-speed arc
of random sign for ``push_steps``), often into contact with obstacles; the steps of a push
are never labels (a sample is kept only if no push falls in its planned horizon), so the
data shows the expert's recovery from states that demonstrations alone never reach.

The local goal stands in for Astra-Global's subgoal: the point ``local_goal_distance``
metres along the geodesic shortest path to the goal (the goal itself when nearer). The
closed-loop agent computes it the same way (``local_goal``).

The same samples can come from an ``astra-sim collect`` dataset instead
(``data.dataset``; ``plan_dataset``), which is how users train on data collected at scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np

from astra_sim.agents.astra_local.bev_input import BevConfig, local_esdf
from astra_sim.agents.astra_local.plan_features import (
    Featurize,
    RigFeaturizers,
    featurizer_factory,
)
from astra_sim.agents.expert import ExpertAgent
from astra_sim.core.seeding import make_rng
from astra_sim.render.rig import Rig

SAMPLE_KEYS = ("bev", "occupancy", "velocity", "goal", "steps", "esdf", "episode")
"""What a planner sample holds (``build_samples``, ``plan_dataset.dataset_samples``)."""


@dataclass
class PlanDataConfig:
    """Which episodes to render for planner training.

    Attributes:
        scenes: scene kinds; episode i plays in ``scenes[i % len(scenes)]``.
        scene_seeds: training scene seeds (8 and 9 are the held-out val/test scenes).
        episodes: how many expert episodes.
        max_steps: control steps per episode at most.
        every: keep every n-th step as a sample.
        action_noise: std of Gaussian noise on the expert's (v, w).
        push_prob: chance per control step that a push off course starts (0: none).
        push_steps: control steps a push lasts.
        push_command: (v, |w|) of a push; the sign of w is drawn per push.
        min_geodesic / max_geodesic: start-goal geodesic range (m).
        local_goal_distance: metres along the shortest path of the local goal.
        seed: episode i's seeds derive from (seed, i).
        dataset: an ``astra-sim collect`` folder (depth, plus rgb for encoder features) to
            read instead of rendering; then only ``dataset_episodes`` and
            ``local_goal_distance`` apply (the rest is the dataset's own recipe).
        dataset_episodes: read the first n episodes of ``dataset`` (0: all).
    """

    scenes: list[str] = field(default_factory=lambda: ["home", "office", "warehouse"])
    scene_seeds: list[int] = field(default_factory=lambda: list(range(8)))
    episodes: int = 48
    max_steps: int = 300
    every: int = 1
    action_noise: list[float] = field(default_factory=lambda: [0.05, 0.15])
    push_prob: float = 0.0
    push_steps: int = 6
    push_command: list[float] = field(default_factory=lambda: [0.4, 1.0])
    min_geodesic: float = 2.0
    max_geodesic: float = 12.0
    local_goal_distance: float = 2.5
    seed: int = 0
    dataset: str | None = None
    dataset_episodes: int = 0


def local_goal(grid, pose: np.ndarray, goal: np.ndarray, distance: float) -> np.ndarray:
    """Robot-frame (x, y) of the point ``distance`` m along the shortest path to ``goal``."""
    xy = np.asarray(pose[:2], np.float64)
    target = np.asarray(goal, np.float64)
    if np.linalg.norm(target - xy) > 1e-6:
        start = xy if grid.is_navigable(xy[None])[0] else grid.snap(xy)
        end = target if grid.is_navigable(target[None])[0] else grid.snap(target)
        path = grid.shortest_path(start, end)
        if len(path) >= 2:
            path = np.vstack([xy, path[1:]])
            seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
            cum = np.concatenate([[0.0], np.cumsum(seg)])
            if cum[-1] > distance:
                k = int(np.searchsorted(cum, distance)) - 1
                f = (distance - cum[k]) / max(seg[k], 1e-9)
                target = path[k] + f * (path[k + 1] - path[k])
    return to_robot_frame(pose, target)


def to_robot_frame(pose: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """World point ``xy`` in the frame of ``pose`` (x forward, y left), float32."""
    d = np.asarray(xy, np.float64)[:2] - np.asarray(pose, np.float64)[:2]
    c, s = np.cos(pose[2]), np.sin(pose[2])
    return np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1]], np.float32)


def future_steps(poses: np.ndarray, t: int, horizon: int, stride: float) -> np.ndarray:
    """(horizon, 3) relative steps of ``poses`` (N, 3, one per control step) after step t.

    Poses at t + k * stride control steps (k = 1..horizon) are linearly interpolated (yaw
    unwrapped); past the end the last pose holds, so a stop at the goal reads as zeros.
    """
    yaw = np.unwrap(poses[:, 2])
    times = np.clip(t + stride * np.arange(horizon + 1), 0, len(poses) - 1)
    idx = np.arange(len(poses))
    p = np.stack([np.interp(times, idx, poses[:, 0]), np.interp(times, idx, poses[:, 1]),
                  np.interp(times, idx, yaw)], axis=1)  # fmt: skip
    prev, nxt = p[:-1], p[1:]
    d = nxt[:, :2] - prev[:, :2]
    c, s = np.cos(prev[:, 2]), np.sin(prev[:, 2])
    return np.stack(
        [c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], nxt[:, 2] - prev[:, 2]], axis=1
    ).astype(np.float32)


def build_samples(
    cfg: PlanDataConfig,
    bev: BevConfig,
    horizon: int,
    step_dt: float,
    featurize: Callable[[Rig], Featurize] | None = None,
) -> dict[str, np.ndarray]:
    """Render ``cfg.episodes`` expert episodes into planner samples (arrays keyed as a batch).

    ``featurize(rig)`` gives the per-frame ``obs -> (bev, occupancy)`` (``plan_features``;
    default: the depth lifter).
    """
    import astra_sim.envs  # noqa: F401  (registers the envs)

    featurizers = RigFeaturizers(featurize or featurizer_factory(bev, None))
    envs: dict[str, gym.Env] = {}
    out: dict[str, list[np.ndarray]] = {k: [] for k in SAMPLE_KEYS}
    for i in range(cfg.episodes):
        kind = cfg.scenes[i % len(cfg.scenes)]
        if kind not in envs:
            envs[kind] = gym.make(
                "AstraSim/PointNav-v0", scene=kind, scene_seeds=cfg.scene_seeds,
                min_geodesic=cfg.min_geodesic, max_geodesic=cfg.max_geodesic,
            )  # fmt: skip
        env = envs[kind]
        rng = make_rng(cfg.seed, "plan-data", i)
        obs, info = env.reset(seed=int(rng.integers(2**31 - 1)))
        base = env.unwrapped
        grid = base.sim.scene.navgrid()
        goal = np.asarray(base.episode.goal.positions[0], np.float64)
        frame_features = featurizers(base.sim.calibrated_rig)
        expert = ExpertAgent(base.sim.scene)
        expert.reset(info["pose"], base.episode.goal.positions)
        poses, frames, pushed, push_left = [info["pose"].copy()], [], [], 0
        for _ in range(cfg.max_steps):
            b, o = frame_features(obs)
            frames.append((b, o, info["velocity"].astype(np.float32),
                           local_goal(grid, info["pose"], goal, cfg.local_goal_distance),
                           local_esdf(grid, info["pose"], bev)))  # fmt: skip
            command = expert.act(info["pose"], info["collided"])
            if expert.done:
                break
            command = command + rng.normal(0.0, cfg.action_noise)
            if push_left == 0 and cfg.push_prob > 0 and rng.random() < cfg.push_prob:
                push_left = cfg.push_steps
                v, w = cfg.push_command
                push = np.array([v, w * rng.choice([-1.0, 1.0])])
            pushed.append(push_left > 0)
            if push_left > 0:
                command, push_left = push, push_left - 1
            space = env.action_space
            action = np.clip(command, space.low, space.high).astype(np.float32)
            obs, _, terminated, truncated, info = env.step(action)
            poses.append(info["pose"].copy())
            if terminated or truncated:
                break
        poses_arr = np.asarray(poses)
        stride = step_dt * base.sim_config.control_hz
        window = int(np.ceil(horizon * stride))
        pushed_arr = np.asarray([*pushed, False], bool)
        for t in range(0, len(frames), cfg.every):
            if pushed_arr[t : t + window].any():
                continue  # a push in the planned horizon: the label would be the push
            b, o, v, g, e = frames[t]
            for key, value in zip(("bev", "occupancy", "velocity", "goal", "esdf"),
                                  (b, o, v, g, e), strict=True):  # fmt: skip
                out[key].append(value)
            out["steps"].append(future_steps(poses_arr, t, horizon, stride))
            out["episode"].append(np.int32(i))
    for env in envs.values():
        env.close()
    if not out["steps"]:
        raise ValueError(
            "no planner sample: every step's planned horizon held a push (lower "
            f"data.push_prob={cfg.push_prob} or data.push_steps={cfg.push_steps})"
        )
    return stack_samples(out)


def stack_samples(out: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-sample lists -> the stored arrays: features and ESDF as float16 and occupancy as
    uint8 (the bulk of a cache; half or a quarter of the memory), the rest float32 and the
    episode index int32."""
    dtypes = {"bev": np.float16, "occupancy": np.uint8, "velocity": np.float32,
              "goal": np.float32, "steps": np.float32, "esdf": np.float16,
              "episode": np.int32}  # fmt: skip
    return {k: np.stack(out[k]).astype(dtypes[k]) for k in SAMPLE_KEYS}


def save_samples(arrays: dict[str, np.ndarray], path: str | Path) -> Path:
    """Write the samples as one ``.npz``, atomically (a temp name, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return path


def load_samples(path: str | Path) -> dict[str, np.ndarray]:
    """Read samples written by ``save_samples``."""
    with np.load(Path(path)) as data:
        return {k: data[k] for k in data.files}
