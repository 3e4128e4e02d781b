"""Trajectories in the TUM format, for ``evo`` and the other SLAM tools that read it.

One pose per line: ``timestamp tx ty tz qx qy qz qw`` (seconds, metres, a unit quaternion),
``#`` comments allowed. Our poses are planar (x, y, yaw): z = 0 and the rotation is about
z. ``astra-sim eval odometry --tum DIR`` writes the ground truth and every method's
estimate per episode (``DIR/<method>/episode_NNNNNN.tum``), time-stamped with the
recording's own clock for an imported bag (``start_time_ns`` of its episode), so::

    evo_ape tum DIR/groundtruth/episode_000000.tum DIR/wheel_dr/episode_000000.tum -a
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.fileio import atomic_write


def tum_text(stamps: np.ndarray, poses: np.ndarray) -> str:
    """TUM lines of planar poses (T, 3) at ``stamps`` (T,) seconds."""
    stamps, poses = np.asarray(stamps, np.float64), np.asarray(poses, np.float64)
    if poses.ndim != 2 or poses.shape[1] != 3 or len(stamps) != len(poses):
        raise ValueError(f"need stamps (T,) and poses (T, 3), got {stamps.shape} {poses.shape}")
    half = poses[:, 2] / 2
    lines = ["# timestamp tx ty tz qx qy qz qw"]
    for t, (x, y, _), s, c in zip(stamps, poses, np.sin(half), np.cos(half), strict=True):
        lines.append(f"{t:.9f} {x:.9f} {y:.9f} 0 0 0 {s:.9f} {c:.9f}")
    return "\n".join(lines) + "\n"


def write_tum(path: str | Path, stamps: np.ndarray, poses: np.ndarray) -> Path:
    """Write a TUM file atomically."""
    return atomic_write(path, tum_text(stamps, poses).encode())


def read_tum(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Stamps (T,) and planar poses (T, 3) of a TUM file (yaw from the quaternion)."""
    rows = np.loadtxt(path, comments="#", ndmin=2)
    if rows.shape[1] != 8:
        raise ValueError(f"{path} is not a TUM trajectory (8 columns), got {rows.shape[1]}")
    qx, qy, qz, qw = rows[:, 4], rows[:, 5], rows[:, 6], rows[:, 7]
    yaw = np.arctan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy * qy + qz * qz))
    return rows[:, 0], np.stack([rows[:, 1], rows[:, 2], yaw], axis=1)


def episode_clock(root: str | Path) -> tuple[float, dict[int, float]]:
    """The dataset's control rate and each episode's start time (s): the recording's
    clock for imported bags (``start_time_ns``), 0 for simulated episodes."""
    root = Path(root)
    info = json.loads((root / "meta" / "info.json").read_text())
    starts: dict[int, float] = {}
    lines = root / "meta" / "episodes.jsonl"
    if lines.is_file():
        for line in lines.read_text().splitlines():
            if line.strip():
                e = json.loads(line)
                starts[int(e["episode_index"])] = e.get("start_time_ns", 0) / 1e9
    return float(info.get("fps", 10.0)), starts


def evaluated_indices(root: str | Path, indices: list[int] | None, min_steps: int = 2) -> list[int]:
    """The episode indices ``odometry_data.load_episodes`` keeps (those of ``min_steps``
    rows or more, of ``indices`` or of all), from ``meta/episodes.jsonl``."""
    lengths = {}
    for line in (Path(root) / "meta" / "episodes.jsonl").read_text().splitlines():
        if line.strip():
            e = json.loads(line)
            lengths[int(e["episode_index"])] = int(e["length"])
    chosen = range(len(lengths)) if indices is None else indices
    return [i for i in chosen if lengths.get(i, 0) >= min_steps]


def recording(predict: Callable[[Any], np.ndarray], store: list[np.ndarray]) -> Callable:
    """``predict`` that also appends each episode's estimated steps to ``store``."""

    def wrapped(ep: Any) -> np.ndarray:
        steps = np.asarray(predict(ep), np.float64)
        store.append(steps)
        return steps

    return wrapped


def write_trajectories(
    out: str | Path,
    root: str | Path,
    indices: list[int],
    truths: list[np.ndarray],
    estimates: dict[str, list[np.ndarray]],
) -> list[Path]:
    """``out/groundtruth/`` and ``out/<method>/`` TUM files, one per evaluated episode.

    Args:
        indices: the dataset episode index of each evaluated episode.
        truths: each episode's true poses (T, 3).
        estimates: method -> each episode's estimated steps (T-1, 3), chained from the
            true start pose as the evaluation does.
    """
    from astra_sim.agents.baselines.dead_reckoning import integrate

    fps, starts = episode_clock(root)
    out = Path(out)
    written = []
    for k, (index, truth) in enumerate(zip(indices, truths, strict=True)):
        stamps = starts.get(index, 0.0) + np.arange(len(truth)) / fps
        name = f"episode_{index:06d}.tum"
        written.append(write_tum(out / "groundtruth" / name, stamps, truth))
        for method, steps in estimates.items():
            poses = integrate(truth[0], steps[k])
            written.append(write_tum(out / method / name, stamps, poses))
    return written


__all__ = [
    "episode_clock",
    "evaluated_indices",
    "read_tum",
    "recording",
    "tum_text",
    "write_trajectories",
    "write_tum",
]
