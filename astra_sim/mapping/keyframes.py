"""Keyframes: temporal downsampling of a tour, a new frame whenever the view has changed enough.

Consecutive control steps (0.1 s apart) see almost the same thing, so a map built from every
frame would be large and redundant. Astra keeps a frame every 0.5 m of travel or 30 degrees
of turn. Both are measured against the last *keyframe* (straight-line distance and wrapped
heading difference), not integrated along the way: what matters for a new view is how far
the camera is from the last stored one, and a robot that backs off and drives on, or dithers
its heading, then makes no redundant keyframes.
"""

from __future__ import annotations

import math

import numpy as np


def _positive(value: float, name: str) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def wrap_angle(a: float | np.ndarray) -> float | np.ndarray:
    """Angle(s) wrapped into [-pi, pi)."""
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


class KeyframeSelector:
    """Online keyframe rule: feed poses in order, it says which ones start a new keyframe.

    Online, so the tour can keep only the keyframes' images while it drives instead of every
    frame (a tour of 1000 steps with four 128x128 cameras is ~700 MB of images).

    Args:
        travel: metres from the last keyframe's position that make a new keyframe.
        turn_deg: degrees of heading change from the last keyframe that make a new keyframe.
    """

    def __init__(self, travel: float = 0.5, turn_deg: float = 30.0) -> None:
        self.travel = _positive(travel, "travel")
        self.turn = math.radians(_positive(turn_deg, "turn_deg"))
        self._last: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the last keyframe, so the next pose is a keyframe."""
        self._last = None

    def __call__(self, pose: np.ndarray) -> bool:
        """Whether ``pose`` (x, y, yaw) is a keyframe; the first pose always is."""
        pose = np.asarray(pose, dtype=np.float64).reshape(-1)
        if pose.shape != (3,) or not np.isfinite(pose).all():
            raise ValueError(f"pose must be 3 finite numbers (x, y, yaw), got {pose.tolist()}")
        last = self._last
        # A small tolerance so that a pose exactly at the threshold (0.5 m, 30 deg) counts
        # despite floating-point rounding in the poses.
        if (
            last is None
            or math.hypot(pose[0] - last[0], pose[1] - last[1]) >= self.travel - 1e-9
            or abs(float(wrap_angle(pose[2] - last[2]))) >= self.turn - 1e-9
        ):
            self._last = pose.copy()
            return True
        return False


def select_keyframes(poses: np.ndarray, travel: float = 0.5, turn_deg: float = 30.0) -> np.ndarray:
    """Indices of the keyframes among ``poses`` (N, 3) under the rule of `KeyframeSelector`.

    Returns:
        (K,) int64 increasing indices; index 0 is always included when N > 0.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 2 or poses.shape[1] != 3:
        raise ValueError(f"poses must be an (N, 3) array of (x, y, yaw), got shape {poses.shape}")
    selector = KeyframeSelector(travel, turn_deg)
    return np.array([i for i, p in enumerate(poses) if selector(p)], dtype=np.int64)
