"""Planner training samples read from a dataset written by ``astra-sim collect``.

Why: ``plan_data.build_samples`` renders its own episodes in one process; reading a
collected dataset instead lets the trainer learn from the same data users collect at scale
with Ray (``train/collect_planner.yaml``), with the same samples (keys, dtypes, meaning).

How: each episode's scene and goal are rebuilt from the recipe in ``meta/info.json`` (the
episode's job gives its reset seed, so a reset reproduces the start, which is checked
against the first recorded pose); the scene gives the local goal and the ESDF crop, the
rig gives the BEV featurizer, and the recorded depth and poses give the rest. Row t of an
episode is the observation an action was taken from and ``info.pose`` at it (before the
action); the pose after the last action is not stored, so the last pose holds past the end.

Pushes: the executed ``action`` is the expert's command plus Gaussian noise (std
``agent.action_noise``), or during a push a uniform random command, while
``action.expert`` is the expert's own command. A row is a push when the executed action
differs from the clipped label by more than ``push_threshold`` noise stds in either
component; like ``build_samples``, a sample is dropped when a push lies in its planned
horizon. A push draw that happens to land near the expert's command is read as noise (its
label is then almost the expert's anyway). Without ``action.expert`` no push is known.

Velocity: the dataset has no velocity column, and the env's ``info["velocity"]`` is the
body's (v, w) at the observation, the end of the previous control step. It is estimated
from the poses up to t only (never the step out of t, which the action at t causes: that
would leak the label into the input): the body-frame velocity of the step into t,
``relative(pose[t-1], pose[t]) / dt``, extrapolated half a step with the step before it
(the step's mean velocity lags the velocity at its end by about half a step under the
acceleration limits); 0 at t = 0 (a reset is at rest). On live episodes of the default
body it is within 0.05 m/s and 0.15 rad/s of the truth, 0.02 m/s and 0.06 rad/s on average.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from astra_sim.agents.astra_local.bev_input import BevConfig, local_esdf
from astra_sim.agents.astra_local.plan_data import (
    SAMPLE_KEYS,
    future_steps,
    local_goal,
    stack_samples,
)
from astra_sim.agents.astra_local.plan_features import (
    Featurize,
    RigFeaturizers,
    featurizer_factory,
)
from astra_sim.agents.baselines.dead_reckoning import relative

if TYPE_CHECKING:
    from astra_sim.render.rig import Rig


def pose_velocity(poses: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) body (v, w) at each pose of an episode's (T, 3) poses, from poses <= t only."""
    poses = np.asarray(poses, np.float64)
    into = np.zeros((len(poses), 2))
    into[1:] = relative(poses[:-1], poses[1:])[:, [0, 2]] * fps  # the step into each pose
    vel = into.copy()
    vel[2:] += 0.5 * (into[2:] - into[1:-1])
    return vel.astype(np.float32)


def push_rows(episode: dict[str, np.ndarray], space, noise, threshold: float) -> np.ndarray:
    """(T,) bool: rows whose executed action is far from the expert's (clipped) label."""
    if "action.expert" not in episode:
        return np.zeros(len(episode["action"]), bool)
    low, high = space.low[:2], space.high[:2]
    label = np.clip(episode["action.expert"], low, high)
    tol = threshold * np.asarray(noise, np.float64) + 1e-6
    return (np.abs(episode["action"] - label) > tol).any(axis=1)


def dataset_samples(
    root: str | Path,
    bev: BevConfig,
    horizon: int,
    step_dt: float,
    local_goal_distance: float = 2.5,
    featurize: Callable[[Rig], Featurize] | None = None,
    episodes: int | None = None,
    push_threshold: float = 4.0,
) -> dict[str, np.ndarray]:
    """Planner samples (arrays keyed as ``build_samples``'s) from the dataset at ``root``.

    Args:
        root: a dataset folder written by ``astra-sim collect`` with depth.
        bev, horizon, step_dt: the planner's grid and plan (as ``build_samples``).
        local_goal_distance: metres along the shortest path of the local goal.
        featurize: ``featurize(rig)`` -> ``f(obs) -> (bev (C, X, Y), occupancy (X, Y))``,
            ``obs`` one row's observations keyed without ``observation.``; built once per
            rig. Default: ``DepthLifter(rig, bev)`` on ``obs["depth"]``.
        episodes: read only the first n episodes (None: all).
        push_threshold: noise stds beyond which an executed action is a push.

    Raises:
        ValueError: no depth in the dataset, a start that the recipe does not reproduce,
            or no sample left.
    """
    from tqdm.auto import tqdm

    import astra_sim.envs  # noqa: F401  (registers the envs)
    from astra_sim.data.reader import EpisodeDataset
    from astra_sim.distributed.config import EnvConfig
    from astra_sim.distributed.worker import EnvPool, episode_jobs

    ds = EpisodeDataset(root)
    if "observation.depth" not in ds.features:
        raise ValueError(
            f"{ds.root} has no observation.depth column: the planner's BEV is lifted from "
            "depth; collect the dataset with features=[rgb, depth] (or [depth])"
        )
    columns = [c for c in ("observation.depth", "observation.rgb", "info.pose", "action",
                           "action.expert") if c in ds.features]  # fmt: skip
    recipe, fps = ds.info["recipe"], float(ds.info["fps"])
    noise = recipe.get("agent", {}).get("action_noise", [0.0, 0.0])
    env_cfg = EnvConfig(**recipe["env"])
    jobs = {j.index: j for j in episode_jobs(env_cfg)}
    stride = step_dt * fps
    window = int(np.ceil(horizon * stride))
    featurizers = RigFeaturizers(featurize or featurizer_factory(bev, None))
    out: dict[str, list[np.ndarray]] = {k: [] for k in SAMPLE_KEYS}
    pool = EnvPool(env_cfg)
    try:
        indices = ds.episode_indices[:episodes] if episodes is not None else ds.episode_indices
        for i in tqdm(indices, desc="plan data", unit="episode"):
            if i not in jobs:
                raise ValueError(f"{ds.root}: episode {i} is not in its recipe's episode list")
            job, ep = jobs[i], ds.read_episode(i, columns)
            env = pool.get(job)
            options = {"episode": job.episode} if job.episode is not None else None
            _, info = env.reset(seed=job.seed, options=options)
            poses = ep["info.pose"].astype(np.float64)
            if not np.allclose(info["pose"], poses[0], atol=1e-3):
                raise ValueError(
                    f"{ds.root}: episode {i} starts at {poses[0].tolist()} but its recipe "
                    f"resets to {info['pose'].round(4).tolist()}: the dataset was written by "
                    f"another simulator or scene generator (astra-sim "
                    f"{ds.info.get('astra_sim_version')})"
                )
            base = env.unwrapped
            grid = base.sim.scene.navgrid()
            goals = np.atleast_2d(np.asarray(base.episode.goal.positions, np.float64))
            if len(goals) > 1:
                dists = [grid.geodesic_distance(poses[0, :2], g) for g in goals]
                goals = goals[[int(np.argmin(dists))]]
            feat = featurizers(base.sim.calibrated_rig)
            pushed = push_rows(ep, env.action_space, noise, push_threshold)
            velocity = pose_velocity(poses, fps)
            obs_keys = [k for k in ep if k.startswith("observation.")]
            for t in range(len(poses)):
                if pushed[t : t + window].any():
                    continue  # a push in the planned horizon: the label would be the push
                b, o = feat({k.removeprefix("observation."): ep[k][t] for k in obs_keys})
                out["bev"].append(b)
                out["occupancy"].append(o)
                out["velocity"].append(velocity[t])
                out["goal"].append(local_goal(grid, poses[t], goals[0], local_goal_distance))
                out["steps"].append(future_steps(poses, t, horizon, stride))
                out["esdf"].append(local_esdf(grid, poses[t], bev))
                out["episode"].append(np.int32(i))
    finally:
        pool.close()
    if not out["steps"]:
        raise ValueError(
            f"no planner sample in {ds.root}: every step's planned horizon held a push "
            f"(push_threshold={push_threshold}) or no episode was read (episodes={episodes})"
        )
    return stack_samples(out)
