"""Habitat's y-up world and our z-up frame, converted here and nowhere else.

Habitat's world is right-handed with y up and -z the default forward; an agent's rotation
is a quaternion [x, y, z, w] whose local forward is -z. Ours is REP-103: x forward, y left,
z up. The exact map is ``ours = (x_h, -z_h, y_h)``, a permutation with one sign flip, so
points convert without rounding. Assets carry their own frame on top of that: a stage's
``up``/``front`` say which asset axes habitat rotates onto its world up (+y) and front (-z)
(habitat-sim ``geo/CoordinateFrame.cpp``). A bare ``.glb`` stage defaults to up +z, front
+y (the Matterport convention), which makes asset coordinates equal to ours.

Our scenes are one floor at z = 0 (cameras sit at fixed heights above it), so every
conversion also takes the habitat height of the floor and subtracts it.
"""

from __future__ import annotations

import math

import numpy as np

WORLD_TO_OURS = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
"""3x3 rotation from habitat world coordinates to ours (its inverse is its transpose)."""

HABITAT_UP = (0.0, 1.0, 0.0)
HABITAT_FRONT = (0.0, 0.0, -1.0)
GLB_DEFAULT_UP = (0.0, 0.0, 1.0)
GLB_DEFAULT_FRONT = (0.0, 1.0, 0.0)


def _unit(v: object, name: str) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    n = float(np.linalg.norm(a)) if a.shape == (3,) else 0.0
    if a.shape != (3,) or not np.isfinite(a).all() or n == 0:
        raise ValueError(f"{name} must be a non-zero 3-vector, got {v!r}")
    return a / n


def frame_to_world(up: object = HABITAT_UP, front: object = HABITAT_FRONT) -> np.ndarray:
    """The 3x3 rotation habitat applies to an asset whose local ``up``/``front`` are given.

    It maps ``up`` to world +y, ``front`` to world -z and ``front x up`` (the asset's right)
    to world +x, as habitat-sim's ``CoordinateFrame::rotationFrameToWorld`` does.

    Raises:
        ValueError: if up and front are not orthogonal non-zero vectors.
    """
    u, f = _unit(up, "up"), _unit(front, "front")
    if abs(float(u @ f)) > 1e-6:
        raise ValueError(f"up {list(up)} and front {list(front)} must be orthogonal")
    local = np.stack([f, u, np.cross(f, u)], axis=1)
    world = np.stack([np.array(HABITAT_FRONT), np.array(HABITAT_UP), np.array([1.0, 0, 0])], 1)
    return world @ local.T


def quat_wxyz_matrix(q: object) -> np.ndarray:
    """3x3 rotation of a [w, x, y, z] quaternion (the order of habitat's scene instances)."""
    w, x, y, z = _quat(q, "rotation [w, x, y, z]")
    return _quat_matrix(w, x, y, z)


def _quat(q: object, name: str) -> tuple[float, float, float, float]:
    a = np.asarray(q, dtype=np.float64).reshape(-1)
    n = float(np.linalg.norm(a)) if a.shape == (4,) else 0.0
    if a.shape != (4,) or not np.isfinite(a).all() or n < 1e-9:
        raise ValueError(f"{name} must be 4 finite numbers, not all 0, got {q!r}")
    a = a / n
    return float(a[0]), float(a[1]), float(a[2]), float(a[3])


def _quat_matrix(w: float, x: float, y: float, z: float) -> np.ndarray:
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def habitat_to_ours(points: object, floor_height: float = 0.0) -> np.ndarray:
    """Habitat world points (..., 3) in ours (..., 3), the floor at ``floor_height`` to z = 0."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] != 3 or not np.isfinite(p).all():
        raise ValueError(f"habitat points must be finite (..., 3), got {points!r}")
    out = np.stack([p[..., 0], -p[..., 2], p[..., 1] - floor_height], axis=-1)
    return out + 0.0  # no -0.0 in files written from these


def ours_to_habitat(points: object, floor_height: float = 0.0) -> np.ndarray:
    """Our points (..., 3) (or (..., 2) on the floor) in habitat world coordinates."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] not in (2, 3) or not np.isfinite(p).all():
        raise ValueError(f"points must be finite (..., 2) or (..., 3), got {points!r}")
    z = p[..., 2] if p.shape[-1] == 3 else np.zeros(p.shape[:-1])
    return np.stack([p[..., 0], z + floor_height, -p[..., 1]], axis=-1) + 0.0


def habitat_yaw(rotation_xyzw: object) -> float:
    """Our yaw (radians, about +z, 0 = +x) of an agent with habitat rotation [x, y, z, w].

    The agent's forward (-z in its own frame) is rotated into the world and projected on
    the floor; a rotation about +y by t gives yaw t + pi/2 (habitat's -z is our +y).

    Raises:
        ValueError: if the quaternion is malformed or points the agent straight up or down.
    """
    x, y, z, w = _quat(rotation_xyzw, "rotation [x, y, z, w]")  # normalised, order kept
    forward = WORLD_TO_OURS @ (_quat_matrix(w, x, y, z) @ np.array([0.0, 0.0, -1.0]))
    if math.hypot(forward[0], forward[1]) < 1e-6:
        raise ValueError(f"rotation {list(rotation_xyzw)} points the agent straight up or down")
    return math.atan2(forward[1], forward[0])


def yaw_to_habitat(yaw: float) -> list[float]:
    """Habitat rotation [x, y, z, w] about +y for our yaw: [0, sin(t/2), 0, cos(t/2)],
    t = yaw - pi/2, the form habitat-lab's PointNav generator writes."""
    t = math.remainder(float(yaw) - math.pi / 2, 2 * math.pi)
    return [0.0, math.sin(t / 2), 0.0, math.cos(t / 2)]
