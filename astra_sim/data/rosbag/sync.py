"""Streams at their own rates -> fixed-size rows, one per control period.

A real robot's sensors tick on their own clocks, at rates that drift and with messages that
jitter, while a dataset row holds exactly what the simulator gives per control step: the
camera frame at the tick, ``K`` IMU samples and ``M`` wheel increments covering the period
that ended at the tick, and the pose at the tick. The rows span the time every stream
covers; inside it no stream may fall silent for longer than ``max_gap`` (interpolating
over a long gap would invent data). Times are integer nanoseconds, as in a bag.

- IMU: linear interpolation at the ends of ``K`` equal sub-intervals of the period.
- Wheels: the wheel angles (positions, or velocities integrated by the trapezoid rule)
  are interpolated at ``M + 1`` equal steps of the period and differenced, which keeps
  the total increment of every period exact whatever the encoder rate.
- Camera: the latest frame at or before the tick (causal, as the robot saw it).
- Truth: x, y and the unwrapped yaw interpolated at the tick.
"""

from __future__ import annotations

import numpy as np

from astra_sim.data.rosbag.messages import RosbagImportError

NS = 1e9


def sorted_unique(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Samples in time order, the first of any repeated stamp kept."""
    times = np.asarray(times, np.int64)
    order = np.argsort(times, kind="stable")
    times, values = times[order], np.asarray(values)[order]
    keep = np.concatenate([[True], np.diff(times) > 0]) if len(times) else np.zeros(0, bool)
    return times[keep], values[keep]


def episode_ticks(spans: dict[str, tuple[int, int]], period_ns: int) -> np.ndarray:
    """The row times: every period after the latest stream start, up to the earliest end.

    Args:
        spans: topic -> (first, last) message time of each stream that must cover a row.

    Raises:
        RosbagImportError: the streams overlap for less than two control periods (naming
            the stream that starts last and the one that ends first).
    """
    late = max(spans, key=lambda t: spans[t][0])
    early = min(spans, key=lambda t: spans[t][1])
    start, end = spans[late][0], spans[early][1]
    rows = (end - start) // period_ns if end > start else 0
    if rows < 2:
        origin = min(first for first, _ in spans.values())  # seconds into the recording
        need = f"less than two control periods ({2 * period_ns / NS:.3f} s)"
        if late == early:
            problem = (
                f"spans only {(end - start) / NS:.3f} s ({(start - origin) / NS:.3f} to "
                f"{(end - origin) / NS:.3f} s into the recording), {need}"
            )
        else:
            problem = (
                f"cannot be synchronised with {early}: it starts {(start - origin) / NS:.3f} s "
                f"into the recording and {early} ends at {(end - origin) / NS:.3f} s, so they "
                f"overlap for {max(end - start, 0) / NS:.3f} s, {need}"
            )
        raise RosbagImportError(late, problem)
    return start + period_ns * np.arange(1, rows + 1, dtype=np.int64)


def check_gaps(topic: str, times: np.ndarray, start: int, end: int, max_gap_ns: int) -> None:
    """Raise if ``topic`` goes silent for more than ``max_gap_ns`` between start and end."""
    lo = max(int(np.searchsorted(times, start, side="right")) - 1, 0)
    hi = int(np.searchsorted(times, end, side="left")) + 1
    span = times[lo:hi]
    if len(span) < 2:
        return
    gaps = np.diff(span)
    worst = int(np.argmax(gaps))
    if gaps[worst] > max_gap_ns:
        raise RosbagImportError(
            topic,
            f"cannot be synchronised: no message for {gaps[worst] / NS:.3f} s after "
            f"{(span[worst] - start) / NS:.3f} s into the episode (max_gap is "
            f"{max_gap_ns / NS:.3f} s); raise max_gap or cut the bag",
        )


def _seconds(times: np.ndarray, origin: int) -> np.ndarray:
    return (np.asarray(times, np.int64) - origin).astype(np.float64) / NS


def resample_imu(
    times: np.ndarray, samples: np.ndarray, ticks: np.ndarray, period_ns: int, k: int
) -> np.ndarray:
    """(T, K, 6) IMU samples at the ends of K equal sub-intervals of each period."""
    origin = int(ticks[0])
    at = ticks[:, None] - period_ns + period_ns * np.arange(1, k + 1)[None] // k
    x = _seconds(times, origin)
    q = _seconds(at.ravel(), origin)
    out = np.stack([np.interp(q, x, samples[:, c]) for c in range(samples.shape[1])], -1)
    return out.reshape(len(ticks), k, samples.shape[1])


def wheel_angles(times: np.ndarray, kind: str, values: np.ndarray) -> np.ndarray:
    """Cumulative wheel angles (N, 2): positions unwrapped, or velocities integrated."""
    if kind == "position":
        return np.unwrap(values, axis=0)
    dt = np.diff(_seconds(times, int(times[0])))[:, None]
    steps = 0.5 * (values[1:] + values[:-1]) * dt
    return np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(steps, axis=0)])


def resample_wheels(
    times: np.ndarray, angles: np.ndarray, ticks: np.ndarray, period_ns: int, m: int
) -> np.ndarray:
    """(T, M, 2) wheel angle increments over M equal steps of each period."""
    origin = int(ticks[0])
    at = ticks[:, None] - period_ns + period_ns * np.arange(m + 1)[None] // m
    x = _seconds(times, origin)
    q = _seconds(at.ravel(), origin)
    cum = np.stack([np.interp(q, x, angles[:, c]) for c in range(2)], -1)
    return np.diff(cum.reshape(len(ticks), m + 1, 2), axis=1)


def resample_poses(times: np.ndarray, poses: np.ndarray, ticks: np.ndarray) -> np.ndarray:
    """(T, 3) planar poses at the ticks; yaw interpolated unwrapped, then wrapped."""
    origin = int(ticks[0])
    x, q = _seconds(times, origin), _seconds(ticks, origin)
    yaw = np.unwrap(poses[:, 2])
    out = np.stack(
        [np.interp(q, x, poses[:, 0]), np.interp(q, x, poses[:, 1]), np.interp(q, x, yaw)], -1
    )
    out[:, 2] = np.arctan2(np.sin(out[:, 2]), np.cos(out[:, 2]))
    return out


def latest_before(times: np.ndarray, ticks: np.ndarray) -> np.ndarray:
    """Index of the last sample at or before each tick (-1 where there is none)."""
    return np.searchsorted(times, ticks, side="right") - 1


__all__ = [
    "check_gaps",
    "episode_ticks",
    "latest_before",
    "resample_imu",
    "resample_poses",
    "resample_wheels",
    "sorted_unique",
    "wheel_angles",
]
