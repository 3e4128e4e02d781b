"""Per-scene render figures: every backend and pybullet's TinyRenderer on the same views.

Each backend renders the same seeded poses of the same scene, and pybullet's software
renderer (what a pip-only robotics user has without a GPU) renders the same pinhole views
in the same run, so each backend's speedup over it survives a noisy machine better than
the raw numbers do.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from astra_sim.core.seeding import make_rng


def poses(scene: Any, n: int, seed: int) -> np.ndarray:
    """``n`` seeded navigable base poses (x, y, yaw) of ``scene``."""
    rng = make_rng(seed, "bench/poses")
    xy = scene.navgrid().sample_navigable(rng, n)
    return np.c_[xy, rng.uniform(-np.pi, np.pi, n)]


def timed(fn: Any, items: Any) -> float:
    """Seconds ``fn`` takes over ``items``."""
    t0 = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - t0


def mount_view(mount: Any, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def backend_fps(
    scene: Any, backend: str, rig: Any, views: np.ndarray, threads: int
) -> dict[str, float]:
    """Build time, rig frames/s and (Embree) rays/s of one backend on ``views``."""
    from astra_sim.render.protocol import make_renderer

    t0 = time.perf_counter()
    renderer = make_renderer(scene, backend, threads=threads)
    renderer.render(rig, views[0])  # warm caches (and upload, for gl)
    out = {"build_s": time.perf_counter() - t0}
    try:
        out["render_fps"] = len(views) / timed(lambda p: renderer.render(rig, p), views)
        if hasattr(renderer, "cast"):
            rays = [rig.rays(p) for p in views]
            n_rays = sum(len(o) for o, _ in rays)
            out["rays_per_s"] = n_rays / timed(lambda od: renderer.cast(*od), rays)
    finally:
        renderer.close()
    return out


def pybullet_fps(scene: Any, rig: Any, views: np.ndarray) -> float | None:
    """Rig frames/s of pybullet's TinyRenderer on the same views (None for non-pinhole rigs)."""
    from astra_sim.bench.pybullet_camera import PybulletCameraScene
    from astra_sim.render.cameras import PinholeCamera

    if not all(isinstance(m.camera, PinholeCamera) for m in rig.mounts):
        return None
    pb = PybulletCameraScene(scene)
    try:

        def frame(pose: np.ndarray) -> None:
            for mount in rig.mounts:
                eye, fwd = mount_view(mount, pose)
                cam = mount.camera
                pb.render(eye, fwd, cam.width, cam.height, cam.vfov_deg)

        frame(views[0])
        return len(views) / timed(frame, views[1:]) if len(views) > 1 else 1 / timed(frame, views)
    finally:
        pb.close()


def sim_steps_per_s(
    scene: Any, backend: str, rig: str, steps: int, start: Any, threads: int
) -> float:
    """Simulator steps/s (body, sensors, render) with ``backend``, on all cores."""
    from astra_sim.sim import SimConfig, Simulator

    sim = Simulator(scene, SimConfig(rig=rig, renderer=backend, render_threads=threads))
    try:
        sim.reset(start)
        commands = np.array([[0.4, 0.3], [0.4, -0.3]])
        sim.step(commands[0])
        t0 = time.perf_counter()
        for i in range(steps):
            sim.step(commands[(i // 10) % 2])
        return steps / (time.perf_counter() - t0)
    finally:
        sim.close()


def crossover(fps: dict[int, dict[str, float]]) -> float | None:
    """Triangle count where gl and embree render equally fast, by log-log interpolation of
    their ratio between the measured sizes; None if one is faster throughout."""
    sizes = sorted(fps)
    ratio = [math.log(fps[n]["gl"] / fps[n]["embree"]) for n in sizes]
    for i in range(len(sizes) - 1):
        (n0, r0), (n1, r1) = (sizes[i], ratio[i]), (sizes[i + 1], ratio[i + 1])
        if r0 >= 0 > r1:
            f = r0 / (r0 - r1)
            return float(math.exp(math.log(n0) + f * (math.log(n1) - math.log(n0))))
    return None
