"""Per-scene render figures: every backend and pybullet's TinyRenderer on the same views.

Each backend renders the same seeded poses of the same scene, and pybullet's software
renderer (what a pip-only robotics user has without a GPU) renders the first of those
pinhole views in the same run; a backend's speedup over it divides the backend's frame
rate on exactly those views by pybullet's, so it survives a noisy machine better than the
raw numbers do. They take turns (``interleaved``): a round is one pass of every backend
and of pybullet, and a speedup is the median over rounds of the ratio within a round. On a
shared 2-core virtual machine one 60-frame pass of the same renderer varied by up to a
fifth between passes a second apart, so a single pass per renderer, measured tens of
seconds apart, could move a ratio by more than the change being measured. A pass repeats
its views until it has run ``min_pass_s``, so that a fast renderer's figure is an average
over as long a stretch of the machine's weather as pybullet's slow pass is.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from astra_sim.core.seeding import make_rng


def cpu_ticks() -> np.ndarray | None:
    """This machine's CPU time so far, from ``/proc/stat``: (busy, idle, steal) ticks, or
    None where there is no such file (not Linux)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return np.array([user + nice + system + irq + softirq, idle + iowait, steal], float)


def steal_share(before: np.ndarray | None, after: np.ndarray | None) -> float | None:
    """The share of CPU time between two ``cpu_ticks`` that the hypervisor gave to other
    guests (``steal``): on a shared virtual machine, what a busy neighbour took. It can
    slow the 2-thread renderers more than pybullet's single-threaded one, so a ratio
    measured under much steal may understate them (on the development machine it stayed
    at 0-1.2 % while frame rates moved by up to 1.6x between rounds: not the cause there)."""
    if before is None or after is None:
        return None
    d = after - before
    return round(float(d[2] / d.sum()), 4) if d.sum() > 0 else 0.0


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


def pass_times(fn: Any, items: Any, min_seconds: float = 0.0) -> np.ndarray:
    """Seconds ``fn`` takes on each of ``items``, averaged over whole passes repeated until
    they have run ``min_seconds`` (at least one pass)."""
    total = np.zeros(len(items))
    passes, start = 0, time.perf_counter()
    while passes == 0 or time.perf_counter() - start < min_seconds:
        for i, item in enumerate(items):
            t0 = time.perf_counter()
            fn(item)
            total[i] += time.perf_counter() - t0
        passes += 1
    return total / passes


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


def interleaved(
    scene: Any,
    backends: list[str],
    rig: Any,
    views: np.ndarray,
    pybullet_frames: int | None,
    threads: int,
    rounds: int,
    min_pass_s: float = 0.0,
) -> dict[str, Any]:
    """Rig frames/s of every backend and of pybullet (on the first ``pybullet_frames`` of
    ``views``; None skips it) over ``rounds`` rounds of one pass each, taking turns.

    Returns ``{"backends": {name: {"build_s", "render_fps", "render_fps_rounds",
    ["rays_per_s"], ["speedup", "speedup_rounds", "pybullet_views_fps_rounds"]}},
    ["pybullet_fps", "pybullet_fps_rounds", "pybullet_frames"]}``: medians over rounds,
    and each round's figure; ``pybullet_views_fps_rounds`` is the backend's frame rate on
    the views pybullet rendered, the numerator of each round's speedup.
    """
    if pybullet_frames is not None and not 1 <= pybullet_frames <= len(views):
        raise ValueError(f"pybullet_frames must be in 1..{len(views)}, got {pybullet_frames}")
    from astra_sim.bench.pybullet_camera import PybulletCameraScene
    from astra_sim.render.cameras import PinholeCamera
    from astra_sim.render.protocol import make_renderer

    renderers, out = {}, {"backends": {}}
    pb = None
    if pybullet_frames is not None and not all(
        isinstance(m.camera, PinholeCamera) for m in rig.mounts
    ):
        pybullet_frames = None  # TinyRenderer has pinhole cameras only
    try:
        for backend in backends:
            t0 = time.perf_counter()
            renderers[backend] = make_renderer(scene, backend, threads=threads)
            renderers[backend].render(rig, views[0])  # warm caches (and upload, for gl)
            out["backends"][backend] = {"build_s": time.perf_counter() - t0}
        if pybullet_frames is not None:
            pb = PybulletCameraScene(scene)

            def pb_frame(pose: np.ndarray) -> None:
                for mount in rig.mounts:
                    eye, fwd = mount_view(mount, pose)
                    cam = mount.camera
                    pb.render(eye, fwd, cam.width, cam.height, cam.vfov_deg)

            pb_frame(views[0])
        k = pybullet_frames
        per_round: dict[str, list[float]] = {name: [] for name in [*backends, "pybullet"]}
        on_pb_views: dict[str, list[float]] = {name: [] for name in backends}
        for _ in range(rounds):
            for backend, r in renderers.items():
                each = pass_times(lambda p, r=r: r.render(rig, p), views, min_pass_s)
                per_round[backend].append(len(views) / float(each.sum()))
                if k is not None:
                    on_pb_views[backend].append(k / float(each[:k].sum()))
            if pb is not None:
                each = pass_times(pb_frame, views[:k], min_pass_s)
                per_round["pybullet"].append(k / float(each.sum()))
        for backend, r in renderers.items():
            row = out["backends"][backend]
            row["render_fps"] = float(np.median(per_round[backend]))
            row["render_fps_rounds"] = [round(x, 1) for x in per_round[backend]]
            if hasattr(r, "cast"):
                rays = [rig.rays(p) for p in views]
                n_rays = sum(len(o) for o, _ in rays)
                row["rays_per_s"] = n_rays / timed(lambda od, r=r: r.cast(*od), rays)
            if pb is not None:
                ratios = np.array(on_pb_views[backend]) / np.array(per_round["pybullet"])
                row["speedup"] = float(np.median(ratios))
                row["speedup_rounds"] = [round(float(x), 2) for x in ratios]
                row["pybullet_views_fps_rounds"] = [round(x, 1) for x in on_pb_views[backend]]
        if pb is not None:
            out["pybullet_fps"] = float(np.median(per_round["pybullet"]))
            out["pybullet_fps_rounds"] = [round(x, 2) for x in per_round["pybullet"]]
            out["pybullet_frames"] = k
    finally:
        for r in renderers.values():
            r.close()
        if pb is not None:
            pb.close()
    return out


def backend_fps(
    scene: Any, backend: str, rig: Any, views: np.ndarray, threads: int
) -> dict[str, float]:
    """Build time and rig frames/s (one pass) of one backend on ``views``."""
    row = interleaved(scene, [backend], rig, views, None, threads, rounds=1)
    return row["backends"][backend]


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
