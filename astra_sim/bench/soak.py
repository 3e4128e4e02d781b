"""``astra-sim bench --soak``: many env steps with random actions and frequent resets, watching
for leaks.

A long training or collection run steps the same few envs millions of times. A leak of a
few kilobytes per reset, a file left open by a loader, or a renderer thread that outlives
its env only shows after hours, so this runs the envs the way such a run does (every scene
kind, both bodies, every task, random actions, episodes of random length, now and then an
env closed and made anew) and samples the process's resident memory, open file handles and
threads. Figures after a warm-up (once every env, cache and pool exists) are compared with
the end of the run: memory may grow by less than ``max_rss_growth``, handles and threads
not at all, and after ``close()`` no renderer thread may be left.
"""

from __future__ import annotations

import gc
import json
import platform
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from astra_sim.core.fileio import atomic_write
from astra_sim.core.seeding import make_rng

ENV_IDS = (
    "AstraSim/PointNav-v0",
    "AstraSim/ImageNav-v0",
    "AstraSim/LanguageNav-v0",
    "AstraSim/Localization-v0",
)
SMALL_SCENES: dict[str, dict[str, Any]] = {
    "home": {},
    "office": {"rooms_per_side": 4, "meeting_rooms": 1},
    "warehouse": {"racks": 2, "bays": 4, "docks": 2, "workstations": 2},
}
"""Complete but small layouts (as in the tests): leaks do not depend on the floor area."""
RENDER_THREAD_PREFIX = "embree"


@dataclass(frozen=True)
class SoakConfig:
    """Soak settings.

    Attributes:
        steps: env steps in all (after the warm-up ones).
        warmup: steps before the baseline is taken: every env made and used, and enough
            resets (~250) that the bounded caches (distance fields, scenes) are full.
        kinds: scene kinds; one env per kind and body.
        bodies: body backends.
        mean_episode: mean episode length; lengths are uniform in [1, 2 * mean_episode].
        stop_fraction: fraction of episodes that end with an explicit stop.
        recreate_every: close one env and make it anew every this many steps (0: never).
        sample_every: steps between resource samples.
        rig: camera rig of every env.
        small_scenes: use the small layouts of SMALL_SCENES (default layouts otherwise).
        seed: seed of every draw (env choice, episode lengths, actions, env seeds).
        max_rss_growth: allowed relative growth of resident memory after the warm-up.
    """

    steps: int = 100_000
    warmup: int = 10_000
    kinds: tuple[str, ...] = ("home", "office", "warehouse")
    bodies: tuple[str, ...] = ("kinematic", "pybullet")
    mean_episode: int = 40
    stop_fraction: float = 0.1
    recreate_every: int = 10_000
    sample_every: int = 1_000
    rig: str = "default"
    small_scenes: bool = True
    seed: int = 0
    max_rss_growth: float = 0.05

    def __post_init__(self) -> None:
        for name in ("steps", "mean_episode", "sample_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SoakConfig.{name} must be a positive integer, got {value!r}")
        for name in ("warmup", "recreate_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"SoakConfig.{name} must be an integer >= 0, got {value!r}")
        if not self.kinds or not self.bodies:
            raise ValueError("SoakConfig.kinds and SoakConfig.bodies must not be empty")
        if not 0.0 <= self.stop_fraction <= 1.0:
            raise ValueError(
                f"SoakConfig.stop_fraction must be in [0, 1], got {self.stop_fraction}"
            )


def resources() -> dict[str, int]:
    """This process's resident bytes (as held, and after handing freed pages back to the
    OS), open file descriptors, OS and renderer threads."""
    import psutil

    gc.collect()  # what is still referenced, not what the collector has yet to free
    proc = psutil.Process()
    held = int(proc.memory_info().rss)
    _trim_heap()
    render = sum(t.name.startswith(RENDER_THREAD_PREFIX) for t in threading.enumerate())
    return {
        "rss": int(proc.memory_info().rss),
        "rss_held": held,
        "fds": int(proc.num_fds()),
        "threads": int(proc.num_threads()),
        "render_threads": int(render),
    }


def _trim_heap() -> None:
    """glibc keeps freed memory in its arenas: an env closed and made anew leaves a
    high-water mark that looks like a leak and is not one. malloc_trim returns it, so
    ``rss`` counts what is still allocated (``rss_held`` keeps the raw figure)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:  # not glibc (macOS, musl): the raw figure is all there is
        pass


class _Slot:
    """One env of the soak (a scene kind, a body and a task) and its own action stream."""

    def __init__(self, cfg: SoakConfig, kind: str, body: str, env_id: str, seed: int) -> None:
        self.cfg, self.kind, self.body, self.env_id, self.seed = cfg, kind, body, env_id, seed
        self.made = 0
        self.env = self._make()

    def _make(self) -> Any:
        import gymnasium as gym

        import astra_sim  # noqa: F401  (registers the ids)

        params = SMALL_SCENES[self.kind] if self.cfg.small_scenes else {}
        env = gym.make(
            self.env_id, scene=self.kind, scene_params=params, body=self.body, rig=self.cfg.rig
        )
        env.action_space.seed(self.seed + self.made)
        self.made += 1
        return env

    def remake(self) -> None:
        self.env.close()
        self.env = self._make()


def run_soak(cfg: SoakConfig, out: Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Run the soak; returns (and writes to ``out`` as JSON, atomically) its figures."""
    from tqdm import tqdm

    # tqdm's monitor is a thread of its own that would start mid-run and count as ours.
    tqdm.monitor_interval = 0
    rng = make_rng(cfg.seed, "bench/soak")
    before = resources()
    slots = [
        _Slot(cfg, kind, body, ENV_IDS[i % len(ENV_IDS)], cfg.seed + 1000 * i)
        for i, (kind, body) in enumerate((k, b) for k in cfg.kinds for b in cfg.bodies)
    ]
    samples: list[dict[str, Any]] = []
    counts = {"steps": 0, "resets": 0, "stops": 0, "terminated": 0, "truncated": 0, "remade": 0}
    total, step, baseline, t0 = cfg.warmup + cfg.steps, 0, None, time.perf_counter()
    remake = False
    bar = tqdm(total=total, desc="soak", unit="step", disable=not progress, mininterval=5)
    while step < total:
        # Every env plays the first episodes in turn, so the warm-up has used them all.
        first = counts["resets"] < len(slots)
        slot = slots[counts["resets"] if first else int(rng.integers(len(slots)))]
        slot.env.reset(seed=int(rng.integers(2**31 - 1)))
        counts["resets"] += 1
        length = int(rng.integers(1, 2 * cfg.mean_episode + 1))
        stop = bool(rng.random() < cfg.stop_fraction)
        for k in range(length):
            if stop and k == length - 1:
                slot.env.unwrapped.request_stop()
                counts["stops"] += 1
            _, _, terminated, truncated, _ = slot.env.step(slot.env.action_space.sample())
            step += 1
            bar.update(1)
            if step == cfg.warmup or (step > cfg.warmup and step % cfg.sample_every == 0):
                sample = {"step": step, "t": round(time.perf_counter() - t0, 1), **resources()}
                samples.append(sample)
                baseline = baseline or sample
            remake = remake or bool(cfg.recreate_every and step % cfg.recreate_every == 0)
            if terminated or truncated or step >= total:
                counts["terminated"] += int(terminated)
                counts["truncated"] += int(truncated)
                break
        if remake:  # between episodes, as a trainer replacing a crashed worker's env would
            slots[int(rng.integers(len(slots)))].remake()
            counts["remade"] += 1
            remake = False
    bar.close()
    counts["steps"] = step - cfg.warmup
    elapsed = time.perf_counter() - t0
    end = {"step": step, **resources()}
    for slot in slots:
        slot.env.close()
    closed = resources()
    baseline = baseline or end
    report = _report(cfg, counts, elapsed, before, baseline, end, closed, samples)
    if out is not None:
        atomic_write(out, (json.dumps(report, indent=1) + "\n").encode("utf-8"))
    return report


def _report(
    cfg: SoakConfig,
    counts: dict[str, int],
    elapsed: float,
    before: dict[str, int],
    warm: dict[str, int],
    end: dict[str, int],
    closed: dict[str, int],
    samples: list[dict[str, Any]],
) -> dict[str, Any]:
    growth = (end["rss"] - warm["rss"]) / warm["rss"]
    peak = max([s["rss"] for s in samples] + [end["rss"]])
    checks = {
        "rss_growth_ok": growth < cfg.max_rss_growth,
        "fds_flat": end["fds"] <= warm["fds"],
        "threads_flat": end["threads"] <= warm["threads"],
        "render_threads_released": closed["render_threads"] <= before["render_threads"],
        "threads_back_after_close": closed["threads"] <= before["threads"],
        "fds_back_after_close": closed["fds"] <= before["fds"],
    }
    return {
        "config": asdict(cfg),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "counts": counts,
        "seconds": round(elapsed, 1),
        "steps_per_s": round((counts["steps"] + cfg.warmup) / elapsed, 1),
        "before": before,
        "after_warmup": warm,
        "end": end,
        "after_close": closed,
        "rss_growth": round(growth, 4),
        "rss_peak": peak,
        "checks": checks,
        "passed": all(checks.values()),
        "samples": samples,
    }


def format_soak_report(report: dict[str, Any]) -> str:
    """The figures a person reads: steps, memory, handles, threads, and the checks."""
    mib = 1 << 20
    w, e, c, b = (report[k] for k in ("after_warmup", "end", "after_close", "before"))
    counts = report["counts"]
    lines = [
        f"soak: {counts['steps']} steps after {report['config']['warmup']} warm-up, "
        f"{counts['resets']} resets, {counts['stops']} stops, {counts['remade']} envs remade, "
        f"{report['seconds']} s ({report['steps_per_s']} steps/s)",
        f"  resident memory  after warm-up {w['rss'] / mib:.1f} MiB -> end {e['rss'] / mib:.1f} "
        f"MiB ({100 * report['rss_growth']:+.2f} %), peak {report['rss_peak'] / mib:.1f} MiB; "
        f"held by the allocator {w['rss_held'] / mib:.1f} -> {e['rss_held'] / mib:.1f} MiB",
        f"  open files       before {b['fds']}, after warm-up {w['fds']}, end {e['fds']}, "
        f"after close {c['fds']}",
        f"  threads          before {b['threads']}, after warm-up {w['threads']}, end "
        f"{e['threads']}, after close {c['threads']} (renderer threads left: "
        f"{c['render_threads']})",
    ]
    failed = [name for name, ok in report["checks"].items() if not ok]
    lines.append(
        "  checks           " + ("all passed" if not failed else "FAILED: " + ", ".join(failed))
    )
    return "\n".join(lines)
