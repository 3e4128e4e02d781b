"""Closed-loop episodes of an agent in an env, recorded for tables, plots and videos."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from astra_sim.agents.expert import ExpertAgent

METRIC_KEYS = (
    "success",
    "spl",
    "soft_spl",
    "distance_to_goal",
    "path_length",
    "collisions",
    "time",
)


@dataclass
class EpisodeRecord:
    """What one episode did: its measures, its path, and (optionally) its frames."""

    task: str
    episode_id: str
    scene_kind: str
    scene_seed: int | None
    instruction: str
    geodesic_distance: float
    metrics: dict[str, float]
    steps: int
    trajectory: np.ndarray
    goals: np.ndarray
    frames: list[np.ndarray] = field(default_factory=list)
    truncated: bool = False
    last_collision_step: int | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready: identifiers and measures, no arrays."""
        return {
            "task": self.task,
            "episode_id": self.episode_id,
            "scene_kind": self.scene_kind,
            "scene_seed": self.scene_seed,
            "instruction": self.instruction,
            "geodesic_distance": round(self.geodesic_distance, 4),
            "steps": self.steps,
            **{k: round(float(v), 4) for k, v in self.metrics.items()},
        }


def run_expert_episode(env: gym.Env, seed: int, frame_every: int = 0) -> EpisodeRecord:
    """One episode of the geodesic expert; ``frame_every`` > 0 keeps every n-th render."""
    base = env.unwrapped
    _, info = env.reset(seed=seed)
    expert = ExpertAgent(base.sim.scene)
    episode = base.episode
    expert.reset(info["pose"], episode.goal.positions)
    frames, trajectory, steps, done = [], [info["pose"][:2].copy()], 0, False
    while not done:
        action = expert.act(info["pose"], info["collided"])
        if expert.done:
            base.request_stop()
        _, _, terminated, truncated, info = env.step(action.astype(np.float32))
        steps += 1
        trajectory.append(info["pose"][:2].copy())
        if frame_every and (steps % frame_every == 0 or terminated or truncated):
            frames.append(env.render())
        done = terminated or truncated
    return _record(base, info, steps, trajectory, frames)


def _record(base: Any, info: dict, steps: int, trajectory: list, frames: list) -> EpisodeRecord:
    """The record of the episode ``base`` (the unwrapped env) just finished."""
    episode = base.episode
    return EpisodeRecord(
        task=base.task,
        episode_id=episode.episode_id,
        scene_kind=episode.scene_kind,
        scene_seed=episode.scene_seed,
        instruction=episode.goal.instruction,
        # SPL's d0 (the distance reported at reset), not the file's rounded record of it.
        geodesic_distance=float(
            base.measures["spl"].d0 if "spl" in base.measures else episode.geodesic_distance
        ),
        metrics={k: float(info[k]) for k in METRIC_KEYS if k in info},
        steps=steps,
        trajectory=np.asarray(trajectory),
        goals=np.asarray(episode.goal.positions),
        frames=frames,
    )


def metrics_table(records: list[EpisodeRecord]) -> str:
    """A plain-text table of the measures, one row per episode and a mean row per task."""
    head = f"{'task':<12} {'episode':<28} {'success':>7} {'spl':>6} {'path m':>7} {'coll.':>5}"
    rows = [head, "-" * len(head)]
    for r in records:
        m = r.metrics
        rows.append(
            f"{r.task:<12} {r.episode_id[-28:]:<28} {m['success']:>7.0f} "
            f"{m['spl']:>6.3f} {m['path_length']:>7.2f} {m['collisions']:>5.0f}"
        )
    for task in sorted({r.task for r in records}):
        sel = [r.metrics for r in records if r.task == task]
        rows.append(
            f"{task:<12} {'mean of ' + str(len(sel)):<28} "
            f"{np.mean([m['success'] for m in sel]):>7.2f} "
            f"{np.mean([m['spl'] for m in sel]):>6.3f} "
            f"{np.mean([m['path_length'] for m in sel]):>7.2f} "
            f"{np.mean([m['collisions'] for m in sel]):>5.1f}"
        )
    return "\n".join(rows)


def run_agent_episode(
    env: gym.Env,
    agent: Any,
    seed: int,
    rng: np.random.Generator,
    options: dict[str, Any] | None = None,
    on_step: Callable[..., None] | None = None,
) -> EpisodeRecord:
    """One episode of any agent with the ``astra_sim.agents.base.Agent`` interface.

    ``agent.reset(env, obs, info, rng)`` starts it, ``agent.act(obs, info)`` gives each
    action, and ``agent.stop`` asks the env to end the episode. ``on_step(t, obs, action,
    info, reward, terminated, truncated, next_info)`` sees every transition (collection
    records them); ``info`` is the one the action was chosen from.

    An agent with ``sensors_only`` gets the robot's view of the env (``SensorsOnly``, with
    its ``oracles``) and each ``info`` with the ground truth stripped; the record's measures
    still come from the env's own ``info``.
    """
    base = env.unwrapped
    obs, info = env.reset(seed=seed, options=options)
    view, strip = env, (lambda i: i)
    if getattr(agent, "sensors_only", False):
        from astra_sim.envs.sensors_only import SensorInfo, SensorsOnly

        view, strip = SensorsOnly(env, getattr(agent, "oracles", ())), SensorInfo
    agent.reset(view, obs, strip(info), rng)
    trajectory, steps, done = [info["pose"][:2].copy()], 0, False
    truncated, last_collision = False, None
    while not done:
        action = agent.act(obs, strip(info))
        if agent.stop:
            base.request_stop()
        next_obs, reward, terminated, truncated, next_info = env.step(action)
        if on_step is not None:
            on_step(steps, obs, action, info, reward, terminated, truncated, next_info)
        steps += 1
        obs, info = next_obs, next_info
        trajectory.append(info["pose"][:2].copy())
        if info.get("collided"):
            last_collision = steps
        done = terminated or truncated
    record = _record(base, info, steps, trajectory, [])
    record.truncated, record.last_collision_step = bool(truncated), last_collision
    return record
