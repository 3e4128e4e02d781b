"""A 6-axis MEMS IMU sampled at the physics rate, with datasheet noise figures.

The IMU frame is aligned with the body frame (x forward, y left, z up) and sits at
``ImuConfig.offset`` in it, so the accelerometer sees the lever-arm terms of the base's
rotation. It reports specific force ``f = a - g`` with ``g = (0, 0, -GRAVITY)``: at rest it
reads ``+GRAVITY`` on z, like a real accelerometer (ROS REP-145). Noise follows the usual
continuous-time model (the one Kalibr documents): white noise of density ``N`` gives a
per-sample standard deviation ``N * sqrt(rate_hz)``, and the bias does a random walk whose
step over ``dt`` has standard deviation ``B * sqrt(dt)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from astra_sim.physics.base import GRAVITY, BodyState

_DEG = math.pi / 180.0
_MICRO_G = 1e-6 * GRAVITY
_MILLI_G = 1e-3 * GRAVITY

# Bias random walk is not in MEMS datasheets (they give bias instability from an Allan plot,
# which is a different quantity). These are the typical MEMS values of the example imu.yaml
# in the Kalibr wiki ("YAML formats", IMU configuration); their noise densities (1.86e-3
# m/s^2/sqrt(Hz), 1.87e-4 rad/s/sqrt(Hz)) are those of a BMI088-class part.
TYPICAL_ACCEL_BIAS_RANDOM_WALK = 4.33e-4  # m/s^3/sqrt(Hz)
TYPICAL_GYRO_BIAS_RANDOM_WALK = 2.66e-5  # rad/s^2/sqrt(Hz)

# Initial bias: a robot zeroes its IMU at rest when it starts, so what is left is the offset's
# drift with temperature since then. We model it as the datasheet's temperature coefficient of
# offset (TCO) times a 10 K change. The raw turn-on offsets (BMI088: 20 mg, 1 deg/s) would
# describe a sensor nobody runs uncalibrated.
_TEMPERATURE_CHANGE_K = 10.0

# Bosch Sensortec BMI088, datasheet BST-BMI088-DS001, revision 1.9 (01/2024), tables 4 and 5:
# accelerometer output noise 160 ug/sqrt(Hz) on x and y, 190 on z; gyroscope rate noise
# 0.014 deg/s/sqrt(Hz); TCO < 0.2 mg/K (accel) and 0.015 deg/s/K (gyro). Earlier revisions
# and many summaries quote 175 ug/sqrt(Hz) for the accelerometer.
_BMI088 = {
    "accel_noise_density": (160.0 * _MICRO_G, 160.0 * _MICRO_G, 190.0 * _MICRO_G),
    "gyro_noise_density": (0.014 * _DEG,) * 3,
    "accel_bias_random_walk": TYPICAL_ACCEL_BIAS_RANDOM_WALK,
    "gyro_bias_random_walk": TYPICAL_GYRO_BIAS_RANDOM_WALK,
    "accel_bias_init_std": 0.2 * _MILLI_G * _TEMPERATURE_CHANGE_K,
    "gyro_bias_init_std": 0.015 * _DEG * _TEMPERATURE_CHANGE_K,
}

# TDK InvenSense ICM-42688-P, datasheet DS-000347 revision 1.8, tables 1 and 2: accelerometer
# noise 65 ug/sqrt(Hz) on x and y, 70 on z (the front page says 70); gyroscope rate noise
# 0.0028 deg/s/sqrt(Hz). TCO as quoted from the same tables: +-0.15 mg/K (accel) and
# +-0.005 deg/s/K (gyro).
_ICM42688P = {
    "accel_noise_density": (65.0 * _MICRO_G, 65.0 * _MICRO_G, 70.0 * _MICRO_G),
    "gyro_noise_density": (0.0028 * _DEG,) * 3,
    "accel_bias_random_walk": TYPICAL_ACCEL_BIAS_RANDOM_WALK,
    "gyro_bias_random_walk": TYPICAL_GYRO_BIAS_RANDOM_WALK,
    "accel_bias_init_std": 0.15 * _MILLI_G * _TEMPERATURE_CHANGE_K,
    "gyro_bias_init_std": 0.005 * _DEG * _TEMPERATURE_CHANGE_K,
}

_DATASHEETS = {"bmi088": _BMI088, "icm42688p": _ICM42688P}
IMU_DATASHEETS = tuple(sorted(_DATASHEETS))
"""Names ``ImuConfig.from_datasheet`` accepts (case, '-' and '_' are ignored)."""

Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class ImuConfig:
    """Noise figures and mounting of a 6-axis IMU, in SI units.

    The defaults are the Bosch BMI088 (see ``from_datasheet``). A density may be given as
    one number for all axes or as (x, y, z); it is stored as a tuple of three floats.

    Attributes:
        accel_noise_density: accelerometer white noise, m/s^2/sqrt(Hz), per axis.
        gyro_noise_density: gyroscope white noise, rad/s/sqrt(Hz), per axis.
        accel_bias_random_walk: accelerometer bias diffusion, m/s^3/sqrt(Hz).
        gyro_bias_random_walk: gyroscope bias diffusion, rad/s^2/sqrt(Hz).
        accel_bias_init_std: standard deviation of the bias drawn at reset, m/s^2.
        gyro_bias_init_std: standard deviation of the bias drawn at reset, rad/s.
        offset: IMU position (x, y, z) in the body frame, metres; the IMU axes are the
            body axes.
        add_noise: if False the IMU reports the exact specific force and rate (no bias, no
            white noise, no random draws), for tests and ablations; ``noiseless()`` builds
            that config. (Not a ``noiseless`` field: that name is the classmethod.)
    """

    accel_noise_density: float | Vec3 = _BMI088["accel_noise_density"]
    gyro_noise_density: float | Vec3 = _BMI088["gyro_noise_density"]
    accel_bias_random_walk: float = _BMI088["accel_bias_random_walk"]
    gyro_bias_random_walk: float = _BMI088["gyro_bias_random_walk"]
    accel_bias_init_std: float = _BMI088["accel_bias_init_std"]
    gyro_bias_init_std: float = _BMI088["gyro_bias_init_std"]
    offset: Vec3 = (0.0, 0.0, 0.2)
    add_noise: bool = True

    def __post_init__(self) -> None:
        for name in ("accel_noise_density", "gyro_noise_density"):
            value = _vec3(getattr(self, name), f"ImuConfig.{name}", broadcast=True)
            if (value < 0).any():
                raise ValueError(f"ImuConfig.{name} must be >= 0, got {tuple(value)}")
            object.__setattr__(self, name, tuple(float(v) for v in value))
        for name in (
            "accel_bias_random_walk",
            "gyro_bias_random_walk",
            "accel_bias_init_std",
            "gyro_bias_init_std",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
                raise ValueError(f"ImuConfig.{name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"ImuConfig.{name} must be a finite number >= 0, got {value}")
            object.__setattr__(self, name, float(value))
        offset = _vec3(self.offset, "ImuConfig.offset")
        object.__setattr__(self, "offset", tuple(float(v) for v in offset))
        if not isinstance(self.add_noise, (bool, np.bool_)):
            raise ValueError(f"ImuConfig.add_noise must be a bool, got {self.add_noise!r}")
        object.__setattr__(self, "add_noise", bool(self.add_noise))

    @classmethod
    def from_datasheet(cls, name: str, **overrides: object) -> ImuConfig:
        """The figures of a named IMU (see ``IMU_DATASHEETS``), with fields overridden.

        Raises:
            ValueError: if the name is unknown; the message lists the known ones.
        """
        key = str(name).lower().replace("-", "").replace("_", "").replace(" ", "")
        if key not in _DATASHEETS:
            raise ValueError(f"unknown IMU datasheet {name!r}; known: {', '.join(IMU_DATASHEETS)}")
        return cls(**{**_DATASHEETS[key], **overrides})

    @classmethod
    def noiseless(cls, **overrides: object) -> ImuConfig:
        """The default IMU (or one with ``overrides``) with noise off: ``add_noise=False``."""
        return cls(**{**overrides, "add_noise": False})


class Imu:
    """Samples specific force and angular rate once per physics tick.

    The angular acceleration needed for the tangential lever-arm term is the finite
    difference of ``ang_vel_body`` between consecutive ticks (zero on the first tick after
    ``reset``), so ``measure`` must be called on every tick, in order.
    """

    def __init__(self, config: ImuConfig, rate_hz: float, rng: np.random.Generator) -> None:
        if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float, np.number)):
            raise ValueError(f"Imu rate_hz must be a number, got {rate_hz!r}")
        if not math.isfinite(rate_hz) or rate_hz <= 0:
            raise ValueError(f"Imu rate_hz must be a positive number, got {rate_hz}")
        self.config = config
        self.rate_hz = float(rate_hz)
        self.dt = 1.0 / self.rate_hz
        self._rng = _check_rng(rng)
        self._offset = np.asarray(config.offset, dtype=np.float64)
        self._white_std = np.sqrt(self.rate_hz) * np.array(
            config.accel_noise_density + config.gyro_noise_density
        )
        walk = [config.accel_bias_random_walk] * 3 + [config.gyro_bias_random_walk] * 3
        self._walk_std = np.sqrt(self.dt) * np.array(walk)
        init = [config.accel_bias_init_std] * 3 + [config.gyro_bias_init_std] * 3
        self._init_std = np.array(init)
        self._gravity = np.array([0.0, 0.0, -GRAVITY])
        self._bias = np.zeros(6)
        self._prev_rate: np.ndarray | None = None
        self.reset()

    @property
    def bias(self) -> np.ndarray:
        """The current (ax ay az gx gy gz) bias; ground truth for estimators and tests."""
        return self._bias.copy()

    @property
    def noise_std(self) -> np.ndarray:
        """Per-sample standard deviation of the white noise, (6,), zero without noise."""
        return self._white_std.copy() if self.config.add_noise else np.zeros(6)

    def reset(self, rng: np.random.Generator | None = None) -> None:
        """Start a new episode: forget the previous rate and draw a new initial bias.

        Args:
            rng: replaces the generator given at construction (e.g. one per episode).
        """
        if rng is not None:
            self._rng = _check_rng(rng)
        self._prev_rate = None
        if self.config.add_noise:
            self._bias = self._init_std * self._rng.standard_normal(6)
        else:
            self._bias = np.zeros(6)

    def measure(self, state: BodyState) -> np.ndarray:
        """One sample (ax ay az gx gy gz), float32, for the tick that produced ``state``.

        Raises:
            ValueError: if the state's acceleration or angular velocity is not a finite
                3-vector.
        """
        accel = _vec3(state.accel_body, "BodyState.accel_body")
        rate = _vec3(state.ang_vel_body, "BodyState.ang_vel_body")
        prev = rate if self._prev_rate is None else self._prev_rate
        self._prev_rate = rate
        r = self._offset
        ang_acc = (rate - prev) / self.dt
        # Acceleration of the IMU point on the rigid body: a + dw/dt x r + w x (w x r).
        centripetal = rate * float(rate @ r) - r * float(rate @ rate)
        sample = np.empty(6)
        sample[:3] = accel + _cross(ang_acc, r) + centripetal - self._gravity
        sample[3:] = rate
        if self.config.add_noise:
            draws = self._rng.standard_normal(12)
            self._bias += self._walk_std * draws[:6]
            sample += self._bias + self._white_std * draws[6:]
        return sample.astype(np.float32)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a x b for 3-vectors; np.cross costs ~10x more on arrays this small."""
    a0, a1, a2 = a.tolist()
    b0, b1, b2 = b.tolist()
    return np.array([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0])


def _vec3(value: object, what: str, broadcast: bool = False) -> np.ndarray:
    """``value`` as a finite float64 3-vector, or a ValueError naming ``what``."""
    try:
        vec = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be 3 numbers, got {value!r}") from None
    if broadcast and vec.ndim == 0:
        vec = np.full(3, float(vec))
    if vec.shape != (3,):
        raise ValueError(f"{what} must be 3 numbers, got shape {vec.shape}")
    if not np.isfinite(vec).all():
        raise ValueError(f"{what} must be finite, got {tuple(vec.tolist())}")
    return vec


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


__all__ = [
    "IMU_DATASHEETS",
    "TYPICAL_ACCEL_BIAS_RANDOM_WALK",
    "TYPICAL_GYRO_BIAS_RANDOM_WALK",
    "Imu",
    "ImuConfig",
]
