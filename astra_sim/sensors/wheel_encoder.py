"""Incremental wheel encoders: quantised (left, right) angle increments at a divisor of
the physics rate.

The encoder keeps a cumulative *measured* angle per wheel (the true rotation scaled by the
slip factor) and counts the whole encoder ticks it has passed, like the hardware counter
does. Each sample is the difference of two counts, so the increments always sum to the
count at the end: quantisation never accumulates into drift, however long the episode.

Slip comes in three forms. A systematic ratio (an uncalibrated radius; 0 by default, since
calibration removes it), white per-sample slip (0 by default: it averages out), and slip
*events*, on by default: a wheel that crosses a threshold, a rug edge, a cable cover or a
dusty patch spins or drags for a fraction of a second, so for that time its reading departs
from its true rotation by a random fraction. These are the non-systematic odometry errors
that calibration cannot remove (Borenstein and Feng, 1996); they corrupt the heading of
wheel-only dead reckoning most, as one wheel slips at a time. The default rate, duration and
size are our choice for indoor floors, not a datasheet's: one event per wheel every 10 s of
driving on average, lasting 0.25 s on average, with a fraction of standard deviation 0.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from astra_sim.physics.base import BodyState

SLIP_FIELDS = (
    "noise_std",
    "slip_ratio",
    "slip_std",
    "slip_event_rate",
    "slip_event_duration",
    "slip_event_std",
)


@dataclass(frozen=True)
class WheelEncoderConfig:
    """Resolution, errors and sampling of the two wheel encoders.

    Attributes:
        ticks_per_rev: counts per wheel revolution (4096: a 1024-line incremental encoder
            read in quadrature, a common motor encoder); 0 turns quantisation off.
        noise_std: standard deviation of the angle reading at each sample, in radians,
            before quantisation (edge jitter). It does not accumulate: it moves the
            reading, not the count's history.
        slip_ratio: systematic slip, the fraction by which the measured rotation exceeds
            the true one (0.1: the wheels report 10% more rotation).
        slip_std: random slip, the standard deviation of a fresh per-sample, per-wheel
            fraction added to ``slip_ratio``.
        slip_event_rate: slip events per second per wheel while the wheel turns (a Poisson
            process; 0 turns events off).
        slip_event_duration: mean length of an event in seconds (exponential).
        slip_event_std: standard deviation of an event's fraction (normal, floored at
            -0.9: a dragging wheel still reports some rotation); +0.3 means the wheel
            reports 30% more rotation than it made while the event lasts.
        divisor: the encoders sample every ``divisor`` physics ticks (2: 100 Hz at a
            200 Hz physics rate).
        add_noise: if False there is no noise and no slip (systematic, random or events),
            and no random draws; the quantisation, a property of the device, is kept.
            ``noiseless()`` builds that config.
    """

    ticks_per_rev: int = 4096
    noise_std: float = 1e-4
    slip_ratio: float = 0.0
    slip_std: float = 0.0
    slip_event_rate: float = 0.1
    slip_event_duration: float = 0.25
    slip_event_std: float = 0.3
    divisor: int = 2
    add_noise: bool = True

    def __post_init__(self) -> None:
        for name, low in (("ticks_per_rev", 0), ("divisor", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(
                    f"WheelEncoderConfig.{name} must be an int >= {low}, got {value!r}"
                )
            object.__setattr__(self, name, int(value))
        for name in SLIP_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
                raise ValueError(f"WheelEncoderConfig.{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"WheelEncoderConfig.{name} must be finite, got {value}")
            object.__setattr__(self, name, float(value))
        for name in SLIP_FIELDS:
            value = getattr(self, name)
            if name != "slip_ratio" and value < 0:
                raise ValueError(f"WheelEncoderConfig.{name} must be >= 0, got {value}")
        if self.slip_ratio <= -1:
            raise ValueError(
                f"WheelEncoderConfig.slip_ratio must be > -1 (a wheel cannot report a negative "
                f"rotation), got {self.slip_ratio}"
            )
        if not isinstance(self.add_noise, (bool, np.bool_)):
            raise ValueError(f"WheelEncoderConfig.add_noise must be a bool, got {self.add_noise!r}")
        object.__setattr__(self, "add_noise", bool(self.add_noise))

    @classmethod
    def noiseless(cls, **overrides: object) -> WheelEncoderConfig:
        """The default encoders (or ``overrides``) without noise or slip: ``add_noise=False``."""
        return cls(**{**overrides, "add_noise": False})

    @property
    def tick_angle(self) -> float:
        """One encoder count in radians (0.0 when quantisation is off)."""
        return 2.0 * math.pi / self.ticks_per_rev if self.ticks_per_rev else 0.0

    def samples_per_period(self, ticks_per_period: int) -> int:
        """Encoder samples in a control period of ``ticks_per_period`` physics ticks.

        The observation's ``wheel: (M, 2)`` must cover exactly one control period, so the
        divisor has to divide it.

        Raises:
            ValueError: if ``ticks_per_period`` is not a positive int or the divisor does
                not divide it.
        """
        if (
            isinstance(ticks_per_period, bool)
            or not isinstance(ticks_per_period, (int, np.integer))
            or ticks_per_period < 1
        ):
            raise ValueError(f"ticks_per_period must be a positive int, got {ticks_per_period!r}")
        if ticks_per_period % self.divisor:
            raise ValueError(
                f"WheelEncoderConfig.divisor={self.divisor} does not divide the "
                f"{ticks_per_period} physics ticks of a control period"
            )
        return int(ticks_per_period) // self.divisor


class WheelEncoder:
    """Turns the body's cumulative wheel angles into sampled, quantised increments.

    Call ``reset(state)`` at the start of an episode and ``update(state)`` after every
    physics tick; every ``divisor``-th call returns the (left, right) increments since the
    previous sample.
    """

    def __init__(self, config: WheelEncoderConfig, rng: np.random.Generator) -> None:
        self.config = config
        self._rng = _check_rng(rng)
        self._ticks = 0
        self._last_true: np.ndarray | None = None
        self._measured = np.zeros(2)
        # The last sample's count (quantised) or angle (ticks_per_rev == 0).
        self._last_reading = np.zeros(2)
        self._last_t = 0.0
        # Per wheel: seconds left of the slip event in progress, and its fraction.
        self._event_left = np.zeros(2)
        self._event_fraction = np.zeros(2)

    @property
    def tick_angle(self) -> float:
        """One encoder count in radians (0.0 when quantisation is off)."""
        return self.config.tick_angle

    def samples_per_period(self, ticks_per_period: int) -> int:
        """See ``WheelEncoderConfig.samples_per_period``."""
        return self.config.samples_per_period(ticks_per_period)

    def reset(self, state: BodyState, rng: np.random.Generator | None = None) -> None:
        """Zero the counters at the wheels' current angles.

        Args:
            state: the body state the episode starts from.
            rng: replaces the generator given at construction (e.g. one per episode).
        """
        if rng is not None:
            self._rng = _check_rng(rng)
        self._last_true = _wheel_angles(state)
        self._ticks = 0
        self._measured = np.zeros(2)
        self._last_reading = np.zeros(2)
        self._last_t = float(state.t)
        self._event_left = np.zeros(2)
        self._event_fraction = np.zeros(2)

    def update(self, state: BodyState) -> np.ndarray | None:
        """Advance one physics tick; on sample ticks return (left, right) float32 radians.

        Raises:
            RuntimeError: if ``reset`` was never called.
            ValueError: if the state's wheel angles are not two finite numbers.
        """
        if self._last_true is None:
            raise RuntimeError("WheelEncoder.update called before reset(state)")
        self._ticks += 1
        if self._ticks % self.config.divisor:
            return None
        true = _wheel_angles(state)
        delta = true - self._last_true
        self._last_true = true
        dt = max(float(state.t) - self._last_t, 0.0)
        self._last_t = float(state.t)
        cfg = self.config
        if cfg.add_noise:
            scale = np.full(2, 1.0 + cfg.slip_ratio)
            if cfg.slip_std > 0:
                scale = scale + cfg.slip_std * self._rng.standard_normal(2)
            if cfg.slip_event_rate > 0:
                scale = scale + self._slip_events(dt, turning=delta != 0)
            delta = delta * scale
        self._measured = self._measured + delta
        reading = self._measured
        if cfg.add_noise and cfg.noise_std > 0:
            reading = reading + cfg.noise_std * self._rng.standard_normal(2)
        if not cfg.ticks_per_rev:
            increment = reading - self._last_reading
            self._last_reading = reading
            return increment.astype(np.float32)
        # The hardware counter holds the whole ticks passed; differencing counts (exact
        # integers in float64) makes every increment an exact multiple of a tick.
        count = np.floor(reading / cfg.tick_angle)
        increment = (count - self._last_reading) * cfg.tick_angle
        self._last_reading = count
        return increment.astype(np.float32)

    def _slip_events(self, dt: float, turning: np.ndarray) -> np.ndarray:
        """The slip fraction of each wheel over the last ``dt`` seconds (0 outside events).

        An event in progress covers the whole interval; a turning wheel outside one starts
        one with the Poisson probability of the interval. The same draws are made every
        sample, so the stream does not depend on which wheels slipped before.
        """
        cfg = self.config
        starts = self._rng.random(2) < -np.expm1(-cfg.slip_event_rate * dt)
        durations = self._rng.exponential(cfg.slip_event_duration, 2)
        fractions = np.maximum(cfg.slip_event_std * self._rng.standard_normal(2), -0.9)
        new = starts & turning & (self._event_left <= 0)
        self._event_left = np.where(new, durations, self._event_left)
        self._event_fraction = np.where(new, fractions, self._event_fraction)
        out = np.where(self._event_left > 0, self._event_fraction, 0.0)
        self._event_left = self._event_left - dt
        return out


def _wheel_angles(state: BodyState) -> np.ndarray:
    try:
        angles = np.asarray(state.wheel_angles, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"BodyState.wheel_angles must be 2 numbers, got {state.wheel_angles!r}"
        ) from None
    if angles.shape != (2,) or not np.isfinite(angles).all():
        raise ValueError(f"BodyState.wheel_angles must be 2 finite numbers, got {angles.tolist()}")
    return angles.copy()


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


__all__ = ["WheelEncoder", "WheelEncoderConfig"]
