"""Episode jobs and the worker that runs them: an env per scene kind plus one agent.

A job is a pure function of the campaign seed and its index, so any worker gives the same
episode for it: the env is reset with the job's seed and the agent draws from the job's
own generator. ``EpisodeWorker`` is a plain class; ``astra_sim.distributed.pool`` runs it
in this process (no Ray) or as Ray actors, one env each.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from astra_sim.core.seeding import make_rng
from astra_sim.distributed.agents import make_agent
from astra_sim.distributed.config import TASKS, AgentConfig, EnvConfig, FaultConfig
from astra_sim.tasks import Episode, EpisodeSet


@dataclass(frozen=True)
class EpisodeJob:
    """Episode ``index`` of a campaign: its scene kind, reset seed and (maybe) a set episode."""

    index: int
    scene_kind: str
    seed: int
    episode: Episode | None = None


def episode_jobs(cfg: EnvConfig) -> list[EpisodeJob]:
    """The campaign's episodes in index order (from the episode file, or sampled)."""
    if cfg.episodes_file is not None:
        episodes = EpisodeSet.load(cfg.episodes_file)
        chosen = list(episodes.splits()[cfg.split]) if cfg.split else list(episodes)
        chosen = [e for e in chosen if e.task == cfg.task]
        if not chosen:
            where = f" in split {cfg.split!r}" if cfg.split else ""
            raise ValueError(f"{cfg.episodes_file}: no {cfg.task} episodes{where}")
        if cfg.episodes:
            chosen = chosen[: cfg.episodes]
        return [EpisodeJob(i, e.scene_kind, _seed(cfg.seed, i), e) for i, e in enumerate(chosen)]
    kinds = cfg.scenes
    return [EpisodeJob(i, kinds[i % len(kinds)], _seed(cfg.seed, i)) for i in range(cfg.episodes)]


def _seed(seed: int, index: int) -> int:
    return int(make_rng(seed, "episode", index).integers(2**31 - 1))


def agent_rng(seed: int, index: int) -> np.random.Generator:
    """The generator the agent of episode ``index`` draws from (noise, pushes, actions)."""
    return make_rng(seed, "agent", index)


class EnvPool:
    """One env per (scene kind, scene parameters), built on first use and kept."""

    def __init__(self, cfg: EnvConfig, wrap: Any = None):
        self.cfg = cfg
        self.wrap = wrap or (lambda env: env)
        self._envs: dict[str, gym.Env] = {}

    def get(self, job: EpisodeJob) -> gym.Env:
        cfg = self.cfg
        if job.episode is not None:
            params, seeds = job.episode.scene_params, [job.episode.scene_seed or 0]
        else:
            params, seeds = cfg.scene_params.get(job.scene_kind) or {}, cfg.scene_seeds
        key = json.dumps([job.scene_kind, params], sort_keys=True)
        if key not in self._envs:
            env = gym.make(
                TASKS[cfg.task],
                scene=job.scene_kind,
                scene_seeds=seeds,
                scene_params=params,
                rig=cfg.rig,
                body=cfg.body,
                sim={"render_threads": cfg.render_threads},
                success_distance=cfg.success_distance,
                min_geodesic=cfg.min_geodesic,
                max_geodesic=np.inf if cfg.max_geodesic is None else cfg.max_geodesic,
                max_episode_steps=cfg.max_steps,
                randomize=cfg.randomize,
            )
            self._envs[key] = self.wrap(env)
        return self._envs[key]

    def close(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs.clear()


class EpisodeWorker:
    """Runs jobs for collection (``collect``: returns a shard) or evaluation (a summary).

    Args:
        env_cfg, agent_cfg: the campaign's env and agent.
        mode: ``collect`` or ``eval``.
        features: observation keys to store (collect).
        fault: the crash hook; honoured only inside an actor (``in_actor``), never in the
            driver's own process.
        pictures: episodes with an index below this get a top-down picture and an
            animation, when the agent keeps a log (``episode_log``: the Astra agent).
    """

    def __init__(
        self,
        env_cfg: EnvConfig,
        agent_cfg: AgentConfig,
        mode: str,
        features: list[str] | None = None,
        fault: FaultConfig | None = None,
        in_actor: bool = False,
        pictures: int = 0,
    ):
        import astra_sim  # noqa: F401  (registers the env ids in this process)

        if mode not in ("collect", "eval"):
            raise ValueError(f"mode must be 'collect' or 'eval', got {mode!r}")
        self.env_cfg, self.agent_cfg, self.mode = env_cfg, agent_cfg, mode
        self.features = list(features or [])
        self.fault = fault or FaultConfig()
        self.in_actor = in_actor
        self.pictures = int(pictures)
        self.agent = make_agent(agent_cfg)
        self.pool = EnvPool(env_cfg, self.agent.wrap)

    def describe(self, job: EpisodeJob) -> dict[str, Any]:
        """What ``meta/info.json`` needs from a live env: features, rates, rig."""
        from astra_sim.data.format import feature_spec

        base = self.pool.get(job).unwrapped
        sim = base.sim_config
        rig = base.sim.calibrated_rig  # not an episode's randomized cameras
        # The ranges spelled out, only where there are any (datasets without stay as they were).
        randomize = {} if base.randomize is None else {"randomize": base.randomize.to_json()}
        return {
            **randomize,
            "features": feature_spec(
                base.observation_space, self.features, self.agent_cfg.name == "expert"
            ),
            "fps": sim.control_hz,
            "physics_hz": sim.physics_hz,
            "imu_hz": sim.physics_hz,
            "wheel_samples_per_step": int(base.sim.wheel_samples),
            "rig": {
                "source": str(self.env_cfg.rig),
                "cameras": [
                    {
                        "name": m.name or f"cam{i}",
                        "model": type(m.camera).__name__,
                        "height": int(m.camera.shape[0]),
                        "width": int(m.camera.shape[1]),
                        "xyz": list(m.xyz),
                        "yaw": m.yaw,
                        "pitch": m.pitch,
                    }
                    for i, m in enumerate(rig.mounts)
                ],
            },
        }

    def run(self, job: EpisodeJob, attempt: int = 0) -> dict[str, Any]:
        """Play one job; returns ``{"index", "summary", ["shard"]}``."""
        from astra_sim.eval.rollout import run_agent_episode

        env = self.pool.get(job)
        crash = self.in_actor and attempt == 0 and job.index in self.fault.crash_episodes
        buffer = None
        if self.mode == "collect":
            from astra_sim.data.episode import EpisodeBuffer

            buffer = EpisodeBuffer(job.index, self.features, env.unwrapped.sim_config.control_hz)

        def on_step(t, obs, action, info, reward, terminated, truncated, next_info):
            if crash and t == self.fault.crash_step:
                os._exit(17)  # the test hook: the actor's process dies mid-episode
            if buffer is not None:
                buffer.add(
                    obs,
                    action,
                    info,
                    reward,
                    terminated or truncated,
                    bool(next_info.get("success", False)),
                    self.agent.label,
                )

        options = {"episode": job.episode} if job.episode is not None else None
        rng = agent_rng(self.env_cfg.seed, job.index)
        record = run_agent_episode(env, self.agent, job.seed, rng, options, on_step)
        path = record.metrics.get("path_length", 0.0)
        per_m = record.metrics.get("collisions", 0.0) / path if path > 0 else 0.0
        summary = {
            "episode_index": job.index,
            **record.summary(),
            "collisions_per_m": round(per_m, 4),
        }
        if env.unwrapped.randomization is not None:  # this episode's domain randomization
            summary["randomization"] = env.unwrapped.randomization
        out: dict[str, Any] = {"index": job.index, "summary": summary}
        if hasattr(self.agent, "episode_log"):
            out["summary"], out["pictures"] = self._astra_scores(env, job, record, summary)
        if buffer is not None:
            out["shard"], out["summary"] = buffer.to_parquet(summary)
        return out

    def _astra_scores(self, env: gym.Env, job: EpisodeJob, record: Any, summary: dict) -> tuple:
        """The composed agent's episode scored against ground truth, and its pictures."""
        from astra_sim.eval.astra_outcome import astra_episode_summary, picture_trace

        base = env.unwrapped
        log = self.agent.episode_log()
        summary = {**summary, **astra_episode_summary(record, log, base.episode)}
        pictures: dict[str, bytes] = {}
        if job.index < self.pictures:
            from astra_sim.eval.astra_pictures import episode_animation, episode_picture

            grid = base.sim.scene.navgrid()
            trace = picture_trace(record, log, base.episode, summary)
            pictures[f"episode_{job.index:04d}.png"] = episode_picture(grid, trace)
            pictures[f"episode_{job.index:04d}.gif"] = episode_animation(grid, trace)
        return summary, pictures

    def close(self) -> None:
        self.pool.close()
