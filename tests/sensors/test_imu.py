"""The IMU against hand-made body motions at 200 Hz: gravity, lever arms, noise statistics,
datasheet figures and seeding."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from astra_sim.physics.base import GRAVITY, BodyState
from astra_sim.sensors import IMU_DATASHEETS, Imu, ImuConfig

RATE = 200.0
DT = 1.0 / RATE


def body(t: float = 0.0, accel=(0.0, 0.0, 0.0), rate=(0.0, 0.0, 0.0)) -> BodyState:
    return BodyState(t=t, accel_body=np.array(accel, float), ang_vel_body=np.array(rate, float))


def run(imu: Imu, states) -> np.ndarray:
    return np.stack([imu.measure(s) for s in states])


def quiet(**overrides) -> ImuConfig:
    """White noise only: no initial bias and no bias walk."""
    fields = {
        "accel_bias_random_walk": 0.0,
        "gyro_bias_random_walk": 0.0,
        "accel_bias_init_std": 0.0,
        "gyro_bias_init_std": 0.0,
    }
    return ImuConfig(**{**fields, **overrides})


def test_at_rest_noiseless_reads_plus_g_on_z_exactly():
    imu = Imu(ImuConfig.noiseless(), RATE, np.random.default_rng(0))
    samples = run(imu, [body(k * DT) for k in range(200)])
    assert samples.dtype == np.float32 and samples.shape == (200, 6)
    expected = np.array([0, 0, GRAVITY, 0, 0, 0], dtype=np.float32)
    assert (samples == expected).all()


def test_at_rest_noisy_mean_is_gravity_plus_bias_within_a_few_sigma():
    n = 4000
    imu = Imu(ImuConfig(), RATE, np.random.default_rng(1))
    samples, biases = [], []
    for k in range(n):
        samples.append(imu.measure(body(k * DT)))
        biases.append(imu.bias)
    samples, biases = np.array(samples, float), np.array(biases)
    truth = np.array([0, 0, GRAVITY, 0, 0, 0])
    sigma = imu.noise_std
    # Without the bias, the mean is the truth to within the white noise's sigma / sqrt(n).
    assert np.all(np.abs((samples - biases).mean(0) - truth) < 5 * sigma / math.sqrt(n))
    # With it, the offset is the small post-calibration bias of the datasheet model.
    cfg = imu.config
    init = np.array([cfg.accel_bias_init_std] * 3 + [cfg.gyro_bias_init_std] * 3)
    assert np.all(np.abs(samples.mean(0) - truth) < 5 * init + 5 * sigma / math.sqrt(n))


def test_constant_turn_gyro_and_centripetal_lever_arm_noiseless():
    w, r = 1.0, (0.1, 0.0, 0.2)
    imu = Imu(ImuConfig.noiseless(offset=r), RATE, np.random.default_rng(0))
    samples = run(imu, [body(k * DT, rate=(0, 0, w)) for k in range(100)])
    expected = np.array([-(w**2) * 0.1, 0, GRAVITY, 0, 0, w], dtype=np.float32)
    assert (samples == expected).all()


def test_constant_turn_noisy_gyro_z_mean():
    imu = Imu(quiet(offset=(0.1, 0.0, 0.2)), RATE, np.random.default_rng(2))
    samples = run(imu, [body(k * DT, rate=(0, 0, 1.0)) for k in range(2000)])
    sigma = imu.noise_std / math.sqrt(len(samples))
    assert abs(samples[:, 5].mean() - 1.0) < 5 * sigma[5]
    assert abs(samples[:, 0].mean() + 0.1) < 5 * sigma[0]


def test_angular_acceleration_gives_the_tangential_term():
    alpha, r = 2.0, np.array([0.1, 0.0, 0.2])
    imu = Imu(ImuConfig.noiseless(offset=tuple(r)), RATE, np.random.default_rng(0))
    rates = [alpha * k * DT for k in range(50)]
    samples = run(imu, [body(k * DT, rate=(0, 0, w)) for k, w in enumerate(rates)])
    # First tick after reset: no previous rate, so no angular acceleration is assumed.
    assert samples[0, 1] == 0.0
    # Then alpha x r = (0, alpha * r_x, 0), and w x (w x r) = (-w^2 r_x, 0, 0).
    np.testing.assert_allclose(samples[1:, 1], alpha * r[0], rtol=1e-5)
    np.testing.assert_allclose(samples[1:, 0], -np.square(rates[1:]) * r[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(samples[:, 2], GRAVITY, rtol=1e-7)


def test_forward_acceleration():
    imu = Imu(ImuConfig.noiseless(), RATE, np.random.default_rng(0))
    samples = run(imu, [body(k * DT, accel=(0.5, 0, 0)) for k in range(10)])
    assert (samples[:, 0] == np.float32(0.5)).all() and (samples[:, 2] == np.float32(GRAVITY)).all()
    noisy = Imu(quiet(), RATE, np.random.default_rng(3))
    samples = run(noisy, [body(k * DT, accel=(0.5, 0, 0)) for k in range(2000)])
    assert abs(samples[:, 0].mean() - 0.5) < 5 * noisy.noise_std[0] / math.sqrt(2000)


def test_white_noise_std_matches_density_times_sqrt_rate():
    cfg = quiet()
    imu = Imu(cfg, RATE, np.random.default_rng(4))
    samples = run(imu, [body(k * DT) for k in range(20000)]).astype(float)
    density = np.array(cfg.accel_noise_density + cfg.gyro_noise_density)
    expected = density * math.sqrt(RATE)
    np.testing.assert_allclose(samples.std(0), expected, rtol=0.05)


def test_bias_random_walk_variance_grows_linearly_in_time():
    cfg = ImuConfig(accel_bias_init_std=0.0, gyro_bias_init_std=0.0)
    walk = np.array([cfg.accel_bias_random_walk] * 3 + [cfg.gyro_bias_random_walk] * 3)
    n1, n2, seeds = 100, 400, 300
    at1, at2 = [], []
    still = body()
    for seed in range(seeds):
        imu = Imu(cfg, RATE, np.random.default_rng(seed))
        for k in range(n2):
            imu.measure(still)
            if k + 1 == n1:
                at1.append(imu.bias)
        at2.append(imu.bias)
    # Normalised by walk * sqrt(t), every axis of every seed is one N(0, 1) draw.
    z1 = np.array(at1) / (walk * math.sqrt(n1 * DT))
    z2 = np.array(at2) / (walk * math.sqrt(n2 * DT))
    assert z1.var() == pytest.approx(1.0, rel=0.2)
    assert z2.var() == pytest.approx(1.0, rel=0.2)
    ratio = np.array(at2).var(0) / np.array(at1).var(0)
    assert ratio.mean() == pytest.approx(n2 / n1, rel=0.2)


def test_default_config_is_the_bmi088_datasheet_in_si():
    cfg = ImuConfig()
    assert cfg == ImuConfig.from_datasheet("bmi088") == ImuConfig.from_datasheet("BMI-088")
    # By hand: 1 ug = 1e-6 * 9.80665 m/s^2, 1 deg = pi / 180 rad.
    assert cfg.accel_noise_density == pytest.approx((160e-6 * 9.80665,) * 2 + (190e-6 * 9.80665,))
    assert cfg.accel_noise_density[2] == pytest.approx(1.8632635e-3)
    assert cfg.gyro_noise_density == pytest.approx((0.014 * math.pi / 180,) * 3)
    assert cfg.gyro_noise_density[0] == pytest.approx(2.443461e-4)
    assert cfg.gyro_bias_init_std == pytest.approx(0.15 * math.pi / 180)
    assert cfg.offset == (0.0, 0.0, 0.2) and cfg.add_noise
    icm = ImuConfig.from_datasheet("ICM-42688-P", offset=(0.0, 0.0, 0.1))
    assert icm.accel_noise_density[2] == pytest.approx(70e-6 * 9.80665)
    assert icm.gyro_noise_density[2] == pytest.approx(0.0028 * math.pi / 180)
    assert icm.offset == (0.0, 0.0, 0.1)
    assert set(IMU_DATASHEETS) == {"bmi088", "icm42688p"}


def test_noiseless_is_the_default_without_noise():
    assert ImuConfig.noiseless() == dataclasses.replace(ImuConfig(), add_noise=False)
    imu = Imu(ImuConfig.noiseless(), RATE, np.random.default_rng(0))
    assert not imu.bias.any() and not imu.noise_std.any()


def test_scalar_density_is_broadcast_to_three_axes():
    cfg = ImuConfig(accel_noise_density=1e-3, gyro_noise_density=[1e-4, 2e-4, 3e-4])
    assert cfg.accel_noise_density == (1e-3, 1e-3, 1e-3)
    assert cfg.gyro_noise_density == (1e-4, 2e-4, 3e-4)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("accel_noise_density", -1e-3),
        ("gyro_noise_density", (1e-4, -1e-4, 1e-4)),
        ("gyro_noise_density", (1e-4, 1e-4)),
        ("accel_bias_random_walk", -1.0),
        ("gyro_bias_random_walk", float("nan")),
        ("accel_bias_init_std", -0.1),
        ("gyro_bias_init_std", "0.1"),
        ("offset", (0.0, 0.0)),
        ("offset", (0.0, float("inf"), 0.0)),
        ("add_noise", "yes"),
    ],
)
def test_bad_config_raises_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        ImuConfig(**{field: value})


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match=r"unknown IMU datasheet.*bmi088"):
        ImuConfig.from_datasheet("mpu6050")
    with pytest.raises(ValueError, match="rate_hz"):
        Imu(ImuConfig(), 0.0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        Imu(ImuConfig(), RATE, np.random.RandomState(0))
    imu = Imu(ImuConfig(), RATE, np.random.default_rng(0))
    with pytest.raises(ValueError, match="accel_body"):
        imu.measure(body(accel=(0.0, float("nan"), 0.0)))
    with pytest.raises(ValueError, match="ang_vel_body"):
        imu.measure(BodyState(ang_vel_body=np.zeros(2)))


def turning_states(n: int = 400) -> list[BodyState]:
    t = np.arange(n) * DT
    return [
        body(tk, accel=(0.3 * math.sin(tk), 0.1, 0.0), rate=(0.0, 0.0, math.cos(2 * tk)))
        for tk in t
    ]


def test_same_seed_is_bit_identical_and_other_seed_differs():
    states = turning_states()
    a = run(Imu(ImuConfig(), RATE, np.random.default_rng(7)), states)
    b = run(Imu(ImuConfig(), RATE, np.random.default_rng(7)), states)
    c = run(Imu(ImuConfig(), RATE, np.random.default_rng(8)), states)
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)
    # reset with a fresh generator of the same seed replays the episode.
    imu = Imu(ImuConfig(), RATE, np.random.default_rng(99))
    run(imu, states[:50])
    imu.reset(np.random.default_rng(7))
    assert run(imu, states).tobytes() == a.tobytes()
