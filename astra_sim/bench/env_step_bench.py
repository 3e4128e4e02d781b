"""Full env steps per second on one core, and where a step's time goes.

A step of ``AstraSim/PointNav-v0`` is: check the action, 20 body ticks at 200 Hz with an IMU
sample each and wheel-encoder samples, one rig render, image noise and observation assembly,
the task's measures, the task observation and the info dict. It is measured in a fresh
process pinned to one CPU (``os.sched_setaffinity``), with the renderer on one thread
(llvmpipe rasterizing in the calling thread, ``LP_NUM_THREADS=0``), so "per core" means
what it says and a previous GL context cannot leak in.

The breakdown times each part through a thin wrapper on its method (a few hundred
nanoseconds per call, about 1 % of a step); the headline figure is taken first, without
wrappers. Run ``python -m astra_sim.bench.env_step_bench '{"renderer": "gl"}'`` for one
measurement as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

PARTS = {
    "render": ("astra_sim.render.gl_backend:GLRenderer.render",
               "astra_sim.render.embree:EmbreeRenderer.render"),
    "body_200hz": ("astra_sim.physics.kinematic:KinematicBody.step",),
    "imu": ("astra_sim.sensors.imu:Imu.measure",),
    "wheels": ("astra_sim.sensors.wheel_encoder:WheelEncoder.update",),
    "noise_and_obs": ("astra_sim.sim.simulator:Simulator.assemble",),
    "measures": ("astra_sim.tasks.measures:Measures.update",),
    "task_obs": ("astra_sim.envs.nav_env:AstraNavEnv._task_obs",),
}  # fmt: skip
"""Breakdown rows and the methods whose time each sums; the rest of a step is ``other``."""


@dataclass(frozen=True)
class EnvStepConfig:
    """What one per-core measurement runs.

    Attributes:
        renderer: render backend of the env's simulator.
        scene: scene kind (seed 0).
        rig: camera rig.
        steps: timed env steps (after ``warmup``).
        warmup: untimed steps first (caches, the first render's setup).
        cpu: the CPU to pin to.
        seed: env and action seed.
    """

    renderer: str = "gl"
    scene: str = "home"
    rig: str = "default"
    steps: int = 300
    warmup: int = 20
    cpu: int = 0
    seed: int = 0


def _load(path: str) -> tuple[Any, str]:
    module, attr = path.split(":")
    cls_name, method = attr.split(".")
    mod = __import__(module, fromlist=[cls_name])
    return getattr(mod, cls_name), method


def _instrument(totals: dict[str, float]) -> None:
    """Wrap every PARTS method so its time adds to ``totals[part]`` (this process only)."""
    for part, paths in PARTS.items():
        for path in paths:
            try:
                cls, name = _load(path)
            except (ImportError, AttributeError):
                continue
            inner = getattr(cls, name)

            def timed(*args: Any, _inner: Any = inner, _part: str = part, **kw: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return _inner(*args, **kw)
                finally:
                    totals[_part] += time.perf_counter() - t0

            setattr(cls, name, timed)


def _run(env: Any, actions: Any, steps: int) -> tuple[float, int]:
    """Seconds spent in ``env.step`` over ``steps`` steps (resets not counted), resets."""
    spent, resets = 0.0, 0
    for i in range(steps):
        t0 = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(actions[i % len(actions)])
        spent += time.perf_counter() - t0
        if terminated or truncated:
            env.reset()
            resets += 1
    return spent, resets


def measure_here(cfg: EnvStepConfig) -> dict[str, Any]:
    """Measure in this process (call it in a fresh, pinned one: see ``measure``)."""
    import gymnasium as gym
    import numpy as np

    import astra_sim  # noqa: F401  (registers the ids)

    sim = {"renderer": cfg.renderer, "render_threads": 1, "rig": cfg.rig}
    env = gym.make("AstraSim/PointNav-v0", scene=cfg.scene, sim=sim)
    env.reset(seed=cfg.seed)
    backend = type(env.unwrapped.sim.renderer).__name__
    rng = np.random.default_rng(cfg.seed)
    space = env.action_space
    actions = rng.uniform(space.low, space.high, (256, *space.shape)).astype(np.float32)
    _run(env, actions, cfg.warmup)
    spent, resets = _run(env, actions, cfg.steps)
    totals: dict[str, float] = defaultdict(float)
    _instrument(totals)
    spent_instrumented, _ = _run(env, actions, cfg.steps)
    env.close()
    ms = {part: 1e3 * totals[part] / cfg.steps for part in PARTS}
    ms["other"] = 1e3 * spent_instrumented / cfg.steps - sum(ms.values())
    return {
        "steps_per_s": cfg.steps / spent,
        "ms_per_step": 1e3 * spent / cfg.steps,
        "breakdown_ms": {k: round(v, 3) for k, v in ms.items()},
        "renderer_class": backend,
        "resets": resets,
        "config": asdict(cfg),
    }


def measure(cfg: EnvStepConfig, timeout: float = 600.0) -> dict[str, Any]:
    """``measure_here`` in a fresh process pinned to ``cfg.cpu``; its JSON report."""
    env = dict(os.environ, LP_NUM_THREADS="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-m", "astra_sim.bench.env_step_bench", json.dumps(asdict(cfg))],
        env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"env step benchmark ({cfg.renderer}) failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    cfg = EnvStepConfig(**json.loads(argv[0])) if argv else EnvStepConfig()
    os.sched_setaffinity(0, {cfg.cpu})
    print(json.dumps(measure_here(cfg)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
