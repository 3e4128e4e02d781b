"""``astra-sim bench``: how fast the simulator renders, casts rays and steps, on this machine.

Every figure is taken in the same run on the same scene and views as its reference
(pybullet's TinyRenderer), so the ratio survives a noisy machine better than the raw
numbers do.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from astra_sim.core.fileio import atomic_write
from astra_sim.core.seeding import make_rng


@dataclass(frozen=True)
class BenchConfig:
    """Benchmark settings.

    Attributes:
        kinds: scene kinds to measure on (default scenes, seed ``seed``).
        seed: scene and pose seed.
        frames: rig frames rendered per scene by our renderer.
        pybullet_frames: rig frames rendered per scene by pybullet's TinyRenderer.
        sim_steps: simulator steps per scene.
        rig: camera rig name.
        threads: ray-casting threads.
    """

    kinds: tuple[str, ...] = ("home", "warehouse")
    seed: int = 0
    frames: int = 60
    pybullet_frames: int = 15
    sim_steps: int = 40
    rig: str = "default"
    threads: int = 2


def _poses(scene: Any, n: int, seed: int) -> np.ndarray:
    rng = make_rng(seed, "bench/poses")
    xy = scene.navgrid().sample_navigable(rng, n)
    return np.c_[xy, rng.uniform(-np.pi, np.pi, n)]


def _timed(fn: Any, items: Any) -> float:
    t0 = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - t0


def _mount_view(mount: Any, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World eye position and forward direction of a camera mount at a base pose."""
    x, y, yaw = pose
    c, s = np.cos(yaw), np.sin(yaw)
    mx, my, mz = mount.xyz
    eye = np.array([x + c * mx - s * my, y + s * mx + c * my, mz])
    heading = yaw + mount.yaw
    # REP-103: a positive pitch turns the camera's x axis down.
    forward = np.array(
        [
            np.cos(heading) * np.cos(mount.pitch),
            np.sin(heading) * np.cos(mount.pitch),
            -np.sin(mount.pitch),
        ]
    )
    return eye, forward


def bench_scene(kind: str, cfg: BenchConfig) -> dict[str, float]:
    from astra_sim.bench.pybullet_camera import PybulletCameraScene
    from astra_sim.render.cameras import PinholeCamera, Rig
    from astra_sim.render.embree import EmbreeRenderer
    from astra_sim.scenes import generate_scene
    from astra_sim.sim import SimConfig, Simulator

    scene = generate_scene(kind, cfg.seed)
    rig = Rig.from_name(cfg.rig)
    poses = _poses(scene, max(cfg.frames, cfg.pybullet_frames), cfg.seed)
    out: dict[str, float] = {"triangles": len(scene.faces)}

    t0 = time.perf_counter()
    renderer = EmbreeRenderer(scene, threads=cfg.threads)
    out["bvh_build_s"] = time.perf_counter() - t0
    renderer.render(rig, poses[0])  # warm caches
    out["render_fps"] = cfg.frames / _timed(lambda p: renderer.render(rig, p), poses[: cfg.frames])
    rays = [rig.rays(p) for p in poses[: cfg.frames]]
    n_rays = sum(len(o) for o, _ in rays)
    out["rays_per_s"] = n_rays / _timed(lambda od: renderer.cast(*od), rays)

    if all(isinstance(m.camera, PinholeCamera) for m in rig.mounts):
        pb = PybulletCameraScene(scene)
        try:

            def pb_frame(pose: np.ndarray) -> None:
                for mount in rig.mounts:
                    eye, fwd = _mount_view(mount, pose)
                    cam = mount.camera
                    pb.render(eye, fwd, cam.width, cam.height, cam.vfov_deg)

            pb_frame(poses[0])
            pb_time = _timed(pb_frame, poses[: cfg.pybullet_frames])
            out["pybullet_fps"] = cfg.pybullet_frames / pb_time
            out["speedup"] = out["render_fps"] / out["pybullet_fps"]
        finally:
            pb.close()

    sim = Simulator(scene, SimConfig(rig=cfg.rig, render_threads=cfg.threads), seed=cfg.seed)
    try:
        sim.reset(poses[0])
        commands = np.array([[0.4, 0.3], [0.4, -0.3]])
        t0 = time.perf_counter()
        for i in range(cfg.sim_steps):
            sim.step(commands[(i // 10) % 2])
        out["sim_steps_per_s"] = cfg.sim_steps / (time.perf_counter() - t0)
    finally:
        sim.close()
    renderer.close()
    return out


def run_benchmark(cfg: BenchConfig, out_path: str | Path | None = None) -> dict[str, Any]:
    """Measure every scene kind in ``cfg`` and (optionally) write the JSON report."""
    per_kind = {}
    for kind in tqdm(cfg.kinds, desc="bench", unit="scene"):
        per_kind[kind] = bench_scene(kind, cfg)
    keys = ("render_fps", "pybullet_fps", "speedup", "rays_per_s", "sim_steps_per_s")
    report: dict[str, Any] = {
        key: {k: round(v[key], 2) for k, v in per_kind.items() if key in v} for key in keys
    }
    report["scenes"] = {k: {n: round(x, 4) for n, x in v.items()} for k, v in per_kind.items()}
    report["config"] = asdict(cfg)
    report["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    if out_path is not None:
        atomic_write(out_path, (json.dumps(report, indent=1) + "\n").encode())
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"{'scene':<10} {'render fps':>11} {'pybullet fps':>13} {'speedup':>8} "
        f"{'Mrays/s':>8} {'sim steps/s':>12}"
    ]
    for kind, r in report["scenes"].items():
        lines.append(
            f"{kind:<10} {r['render_fps']:>11.1f} {r.get('pybullet_fps', float('nan')):>13.1f} "
            f"{r.get('speedup', float('nan')):>8.1f} {r['rays_per_s'] / 1e6:>8.2f} "
            f"{r['sim_steps_per_s']:>12.1f}"
        )
    return "\n".join(lines)
