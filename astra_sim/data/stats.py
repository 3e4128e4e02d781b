"""Per-feature statistics for normalisation, mergeable across episodes.

Each episode's shard carries its own sums (count, sum, sum of squares, min, max per
channel); the dataset's ``meta/stats.json`` merges them in episode order, so the figures
are the same whichever worker wrote which episode, and a resumed collection needs no
second pass over the data.

Images reduce over every axis but the channel (RGB: 3 values, in 0-255 levels; depth: one
value in metres); vectors such as the IMU (K, 6) reduce over the sample axis too, giving
one value per axis. Semantic ids are labels, not quantities: they have no statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NO_STATS = ("observation.semantic", "episode_index", "frame_index", "info.collided",
            "next.done", "next.success")  # fmt: skip


def reduce_axes(array: np.ndarray) -> tuple[int, ...]:
    """Axes to reduce for a (T, ...) stack: all but the last, except scalars per step."""
    return tuple(range(array.ndim - 1)) if array.ndim > 2 else (0,)


def episode_sums(columns: dict[str, np.ndarray]) -> dict[str, dict[str, list[float]]]:
    """Sums of each feature's (T, ...) array, JSON-ready."""
    out = {}
    for key, array in columns.items():
        if key in NO_STATS:
            continue
        a = np.asarray(array)
        if key == "observation.depth" or a.ndim == 1:
            a = a.reshape(len(a), -1, 1)  # depth: one channel; scalars per step
        if a.dtype == np.uint8:
            out[key] = _byte_sums(a.reshape(-1, a.shape[-1]))
            continue
        axes = reduce_axes(a)
        per_step = tuple(i - 1 for i in axes[1:])  # reduce each step, then over steps
        sums = {"sum": 0.0, "sumsq": 0.0, "min": np.inf, "max": -np.inf}
        for step in a:  # one step at a time in float64: no copy of the whole episode
            x = step.astype(np.float64)
            sums["sum"] = sums["sum"] + x.sum(axis=per_step)
            sums["sumsq"] = sums["sumsq"] + np.square(x).sum(axis=per_step)
            sums["min"] = np.minimum(sums["min"], x.min(axis=per_step))
            sums["max"] = np.maximum(sums["max"], x.max(axis=per_step))
        count = float(np.prod([a.shape[i] for i in axes]))
        out[key] = {"count": [count]} | {
            k: np.atleast_1d(v).ravel().tolist() for k, v in sums.items()
        }
    return out


def _byte_sums(pixels: np.ndarray) -> dict[str, list[float]]:
    """Exact sums of (N, channels) uint8 values from per-channel histograms (fast)."""
    levels = np.arange(256, dtype=np.float64)
    hists = [np.bincount(pixels[:, c], minlength=256).astype(np.float64)
             for c in range(pixels.shape[1])]  # fmt: skip
    seen = [np.flatnonzero(h) for h in hists]
    return {
        "count": [float(len(pixels))],
        "sum": [float(h @ levels) for h in hists],
        "sumsq": [float(h @ levels**2) for h in hists],
        "min": [float(s[0]) for s in seen],
        "max": [float(s[-1]) for s in seen],
    }


def merge_sums(parts: list[dict[str, dict[str, list[float]]]]) -> dict[str, Any]:
    """Merge episode sums (in the given order) into mean, std, min, max, count per feature."""
    total: dict[str, dict[str, np.ndarray]] = {}
    for part in parts:
        for key, s in part.items():
            arrays = {k: np.asarray(v, dtype=np.float64) for k, v in s.items()}
            if key not in total:
                total[key] = arrays
                continue
            t = total[key]
            for k in ("count", "sum", "sumsq"):
                t[k] = t[k] + arrays[k]
            t["min"] = np.minimum(t["min"], arrays["min"])
            t["max"] = np.maximum(t["max"], arrays["max"])
    stats = {}
    for key, t in sorted(total.items()):
        n = t["count"][0]
        mean = t["sum"] / n
        var = np.maximum(t["sumsq"] / n - mean**2, 0.0)
        stats[key] = {
            "count": int(n),
            "mean": mean.tolist(),
            "std": np.sqrt(var).tolist(),
            "min": t["min"].tolist(),
            "max": t["max"].tolist(),
        }
    return stats
