"""A kinematic differential-drive base that collides against the scene's ESDF.

The default body: no contact dynamics, so it is fast, deterministic and exactly predictable,
which is what training and the odometry heads need. The wheels follow the command through
the config's acceleration limits and a first-order motor lag, the pose follows the wheels by
exact arc integration, and the robot stops dead on contact (a bumper), never sliding along a
wall, so a collision is always visible in the trajectory and in the sensors.
"""

from __future__ import annotations

import math

import numpy as np

from astra_sim.physics.base import BodyState, DiffDriveConfig, check_command
from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavGrid

# The bilinear ESDF changes by at most sqrt(2) per metre inside free cells (and by at most
# 2*sqrt(2) where a blocked cell is a corner); a tick whose clearance exceeds this factor times
# its travel cannot reach an obstacle and needs no lookup.
_LIPSCHITZ = 3.0
_BISECT_POINTS = 16  # points per refinement round of the contact search
_CONTACT_RESOLUTION = 2e-5  # metres along the arc to which the contact point is found
CONTACT_SKIN = 1e-3
"""Metres: a disc this close to the scene is in contact (``collided``), as in pybullet."""


def check_dt(dt: float) -> float:
    """``dt`` as a float; a non-finite or non-positive tick raises a ValueError naming it."""
    try:
        value = float(dt)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"dt must be a finite number of seconds > 0, got {dt!r}")
    return value


def check_pose(pose: np.ndarray, scene: Scene, grid: NavGrid, radius: float) -> np.ndarray:
    """``pose`` (x, y, yaw) as float64 if the robot's disc fits there, else a ValueError.

    Shared by every backend so that they accept exactly the same start poses.
    """
    p = np.asarray(pose, dtype=np.float64).reshape(-1)
    if p.shape != (3,) or not np.isfinite(p).all():
        raise ValueError(f"pose must be a finite (x, y, yaw), got {pose!r}")
    lo, hi = scene.bounds[:, :2]
    if not ((lo <= p[:2]) & (p[:2] <= hi)).all():
        raise ValueError(
            f"pose {p.tolist()} lies outside the scene bounds x in [{lo[0]:.3f}, {hi[0]:.3f}], "
            f"y in [{lo[1]:.3f}, {hi[1]:.3f}]"
        )
    clearance = float(grid.esdf_at(p[:2]))
    if clearance < radius:
        raise ValueError(
            f"pose {p.tolist()} does not fit the robot: the scene's ESDF there is "
            f"{clearance:.3f} m, less than the robot radius {radius} m"
        )
    return p


class WheelShaper:
    """Turns (v, w) commands into wheel speeds the way a motor controller would.

    The command is clipped to the speed limits, slewed at the acceleration limits into a
    reference and followed by the wheels through a first-order lag (in (v, w), which is the
    same as per wheel: the map is linear). Each tick is solved in closed form (the slewed
    reference is piecewise linear in time), so the speeds and the distance they cover are
    exact at any ``dt``. A lag driven by a slew-limited reference never accelerates faster
    than the slew, so the acceleration limits hold for the wheels themselves. Shared with
    the pybullet body so both backends shape commands identically.
    """

    def __init__(self, config: DiffDriveConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """At rest: reference and speeds zero (also what a bumper stop does)."""
        self.ref = (0.0, 0.0)  # slewed (v, w) reference
        self.vw = (0.0, 0.0)  # lagged (v, w) actually driven

    def clip(self, command: np.ndarray) -> tuple[float, float]:
        """A finite (v, w) clipped to the speed limits; NaN or inf raise a ValueError."""
        v, w = (float(x) for x in check_command(command))
        c = self.config
        return min(max(v, -c.max_linear), c.max_linear), min(max(w, -c.max_angular), c.max_angular)

    def step(self, command: np.ndarray, dt: float) -> tuple[float, float]:
        """Advance one tick; returns the mean (v, w) over it (the end value is in ``vw``).

        Plain floats, not arrays: this runs every physics tick and numpy's per-call
        overhead on two-element arrays would dominate it.
        """
        c = self.config
        ref, vw, mean = [], [], []
        for target, u0, y0, acc in zip(
            self.clip(command), self.ref, self.vw, (c.max_linear_acc, c.max_angular_acc),
            strict=True,
        ):  # fmt: skip
            delta = target - u0
            ramp = min(abs(delta) / acc, dt)  # how long the reference still slews
            slope = math.copysign(acc, delta)
            y, area = self._follow(u0, slope, y0, ramp)
            u1 = target if ramp < dt else u0 + slope * ramp
            y, area2 = self._follow(u1, 0.0, y, dt - ramp)
            ref.append(u1)
            vw.append(y)
            mean.append((area + area2) / dt)
        self.ref, self.vw = (ref[0], ref[1]), (vw[0], vw[1])
        return mean[0], mean[1]

    def _follow(self, u0: float, slope: float, y0: float, h: float) -> tuple[float, float]:
        """The lag's output after ``h`` seconds of input ``u0 + slope t``, and its integral."""
        tau = self.config.motor_time_constant
        ramp_area = u0 * h + 0.5 * slope * h * h
        if tau == 0.0:
            return u0 + slope * h, ramp_area
        decay = math.exp(-h / tau)
        gap = y0 - u0 + slope * tau  # y(t) = u(t) - slope tau + gap e^(-t/tau)
        y = u0 + slope * (h - tau) + gap * decay
        return y, ramp_area - slope * tau * h + gap * tau * (1.0 - decay)

    def wheels(self, vw: tuple[float, float]) -> np.ndarray:
        """(v, w) -> (left, right) wheel speeds in rad/s (positive drives forward)."""
        half = 0.5 * self.config.track_width * vw[1]
        r = self.config.wheel_radius
        return np.array([(vw[0] - half) / r, (vw[0] + half) / r])


def arc(pose: np.ndarray, v: float, w: float, t: np.ndarray) -> np.ndarray:
    """Poses (..., 3) reached from ``pose`` after times ``t`` at constant (v, w): exact arcs."""
    t = np.asarray(t, dtype=np.float64)
    x, y, yaw = pose
    half = 0.5 * w * t
    # The chord is v t sin(half) / half (2 sin(half) / w, well conditioned as w -> 0) and
    # points along the mean heading.
    with np.errstate(invalid="ignore", divide="ignore"):
        sinc = np.where(half == 0.0, 1.0, np.sin(half) / half)
    chord = v * t * sinc
    heading = yaw + half
    return np.stack([x + chord * np.cos(heading), y + chord * np.sin(heading), yaw + 2 * half], -1)


def _arc_end(pose: np.ndarray, v: float, w: float, t: float) -> np.ndarray:
    """``arc`` for one time, in scalar math (the per-tick path)."""
    x, y, yaw = (float(q) for q in pose)
    half = 0.5 * w * t
    chord = v * t * (math.sin(half) / half if half != 0.0 else 1.0)
    heading = yaw + half
    yaw = math.remainder(yaw + 2 * half, math.tau)
    return np.array([x + chord * math.cos(heading), y + chord * math.sin(heading), yaw])


class DiffDriveBody:
    """What every differential-drive backend holds: scene, config, its grid, wheel shaper."""

    def __init__(self, scene: Scene, config: DiffDriveConfig | None = None) -> None:
        config = DiffDriveConfig() if config is None else config
        if not isinstance(config, DiffDriveConfig):
            raise ValueError(f"config must be a DiffDriveConfig, got {type(config).__name__}")
        self.scene = scene
        self.config = config
        self.grid = scene.navgrid(robot_radius=config.radius)
        self.shaper = WheelShaper(config)
        self.state = BodyState()


class KinematicBody(DiffDriveBody):
    """A differential-drive disc that follows (v, w) exactly and stops dead on contact.

    Collisions use the scene's ESDF for a robot of ``config.radius``: the disc touches the
    scene when the ESDF at its centre is below the radius. Each tick's swept arc is checked
    at sub-steps no longer than half a grid cell, so no tick can jump a wall however fast.
    A tick whose arc would overlap the scene moves up to the contact point (found by a
    search along the arc, to 20 um) and stops the wheels. It does not slide along walls:
    sliding would hide collisions from a policy that should learn to avoid them.
    ``collided`` is True for a tick that was stopped or that ends within ``CONTACT_SKIN``
    of the scene (so a robot pressed against a wall reports contact on every tick, and one
    turning or backing away from it until it is clear, as pybullet's contacts do).

    Args:
        scene: the scene to drive in.
        config: geometry, limits and motor response (default ``DiffDriveConfig()``).
    """

    def __init__(self, scene: Scene, config: DiffDriveConfig | None = None) -> None:
        super().__init__(scene, config)
        self._clearance = -math.inf  # lower bound of the ESDF minus radius at the pose

    def reset(self, pose: np.ndarray) -> BodyState:
        """Place the base at rest at ``pose`` (x, y, yaw).

        Raises:
            ValueError: if the pose is not finite, lies outside the scene bounds or the disc
                does not fit there (ESDF < radius).
        """
        p = check_pose(pose, self.scene, self.grid, self.config.radius)
        self.shaper.reset()
        self.state = BodyState(pose=p)
        self._clearance = float(self.grid.esdf_at(p[:2])) - self.config.radius
        return self.state.copy()

    def step(self, command: np.ndarray, dt: float) -> BodyState:
        """Advance one tick of ``dt`` seconds under the command (v, w).

        Raises:
            ValueError: if the command holds NaN or inf, or dt is not a positive number.
        """
        dt = check_dt(dt)
        s = self.state
        if not math.isfinite(self._clearance):
            raise RuntimeError("call reset(pose) before step()")
        v0 = self.shaper.vw[0]
        v, w = self.shaper.step(command, dt)
        fraction = self._free_fraction(s.pose, v, w, dt)
        wheel_angles = s.wheel_angles + fraction * dt * self.shaper.wheels((v, w))
        if fraction < 1.0:
            self.shaper.reset()  # a bumper stop: motors off
        collided = fraction < 1.0 or self._clearance < CONTACT_SKIN
        v1, w1 = self.shaper.vw
        self.state = BodyState(
            t=s.t + dt,
            pose=_arc_end(s.pose, v, w, fraction * dt),
            velocity=np.array([v1, w1]),
            accel_body=np.array([(v1 - v0) / dt, v1 * w1, 0.0]),
            ang_vel_body=np.array([0.0, 0.0, w1]),
            wheel_angles=wheel_angles,
            wheel_rates=self.shaper.wheels((v1, w1)),
            collided=collided,
        )
        return self.state.copy()

    def close(self) -> None:
        """Nothing to release; here for the Body protocol."""

    # ------------------------------------------------------------------ collisions
    def _free_fraction(self, pose: np.ndarray, v: float, w: float, dt: float) -> float:
        """The fraction of the tick's arc the disc can travel before touching the scene.

        Also keeps ``_clearance``, ESDF - radius at the resulting pose: exact within
        ``CONTACT_SKIN`` of the scene, a lower bound farther out, so that ticks far from
        obstacles cost no ESDF lookup.
        """
        travel = abs(v) * dt
        if travel == 0.0:  # turning on the spot: a disc never collides
            return 1.0
        if self._clearance - _LIPSCHITZ * travel > CONTACT_SKIN:
            self._clearance -= _LIPSCHITZ * travel  # still a bound, and clear of contact
            return 1.0
        n = max(1, math.ceil(travel / (0.5 * self.grid.config.cell_size)))
        fractions = np.arange(1, n + 1) / n
        free = self._clearances(pose, v, w, dt, fractions)
        hit = np.flatnonzero(free < 0.0)
        if len(hit) == 0:
            self._clearance = float(free[-1])
            return 1.0
        lo = 0.0 if hit[0] == 0 else float(fractions[hit[0] - 1])
        hi = float(fractions[hit[0]])
        lo_clear = self._clearance if hit[0] == 0 else float(free[hit[0] - 1])
        while (hi - lo) * travel > _CONTACT_RESOLUTION:
            probe = lo + (hi - lo) * np.arange(1, _BISECT_POINTS + 1) / (_BISECT_POINTS + 1)
            c = self._clearances(pose, v, w, dt, probe)
            bad = np.flatnonzero(c < 0.0)
            k = int(bad[0]) if len(bad) else _BISECT_POINTS
            if k > 0:
                lo, lo_clear = float(probe[k - 1]), float(c[k - 1])
            if k < _BISECT_POINTS:
                hi = float(probe[k])
        self._clearance = max(lo_clear, 0.0) if lo > 0 else self._clearance
        return lo

    def _clearances(
        self, pose: np.ndarray, v: float, w: float, dt: float, fractions: np.ndarray
    ) -> np.ndarray:
        """ESDF minus radius at the poses reached after ``fractions`` of the tick."""
        poses = arc(pose, v, w, fractions * dt)
        return self.grid.esdf_at(poses[:, :2]) - self.config.radius
