"""Wheel encoders against hand-made wheel-angle sequences at 200 Hz: quantisation without
drift, slip, sampling divisor, validation and seeding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from astra_sim.physics.base import BodyState
from astra_sim.sensors import WheelEncoder, WheelEncoderConfig

RATE = 200.0
DT = 1.0 / RATE
TICK = 2 * math.pi / 4096


def wheels(t: float, left: float, right: float) -> BodyState:
    return BodyState(t=t, wheel_angles=np.array([left, right]))


def drive(encoder: WheelEncoder, angles: np.ndarray) -> np.ndarray:
    """Reset at angles[0], update with angles[1:], return the (M, 2) samples."""
    encoder.reset(wheels(0.0, *angles[0]))
    out = [encoder.update(wheels(k * DT, *a)) for k, a in enumerate(angles[1:], start=1)]
    return np.array([s for s in out if s is not None])


def straight(rate: float = 10.0, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE) + 1) * DT
    return np.stack([rate * t, rate * t], axis=1)


def test_straight_drive_noiseless_sums_to_truth_within_one_tick():
    enc = WheelEncoder(WheelEncoderConfig.noiseless(), np.random.default_rng(0))
    samples = drive(enc, straight(10.0, 1.0))
    assert samples.dtype == np.float32 and samples.shape == (100, 2)
    total = samples.astype(np.float64).sum(0)
    assert np.all(np.abs(total - 10.0) < TICK)
    ticks = samples / TICK
    np.testing.assert_allclose(ticks, np.round(ticks), atol=1e-3)
    assert enc.tick_angle == pytest.approx(TICK)


def test_reverse_drive_gives_negative_whole_ticks():
    enc = WheelEncoder(WheelEncoderConfig.noiseless(), np.random.default_rng(0))
    samples = drive(enc, -straight(10.0, 1.0))
    assert np.all(samples < 0)
    assert np.all(np.abs(samples.astype(float).sum(0) + 10.0) < TICK)


def test_no_drift_over_ten_thousand_noisy_samples():
    # Default noise, 4096 ticks, divisor 2; slip events (which are meant to drift) off.
    cfg = WheelEncoderConfig(slip_event_rate=0.0)
    t = np.arange(20001) * DT
    angles = np.stack([10 * t + 2 * np.sin(3 * t), -5 * t + np.cos(t)], axis=1)
    samples = drive(WheelEncoder(cfg, np.random.default_rng(1)), angles)
    assert samples.shape == (10000, 2)
    total = samples.astype(np.float64).sum(0)
    truth = angles[-1] - angles[0]
    # Quantising the cumulative angle keeps the error of the sum under one tick plus the
    # noise of one reading, however many samples are summed.
    assert np.all(np.abs(total - truth) < TICK + 6 * cfg.noise_std)


def test_unquantised_noisy_sum_does_not_drift_either():
    cfg = WheelEncoderConfig(ticks_per_rev=0, noise_std=1e-3, slip_event_rate=0.0)
    t = np.arange(20001) * DT
    angles = np.stack([4 * t, -3 * t], axis=1)
    samples = drive(WheelEncoder(cfg, np.random.default_rng(2)), angles).astype(np.float64)
    assert np.all(np.abs(samples.sum(0) - (angles[-1] - angles[0])) < 6 * cfg.noise_std)
    # Each increment is a difference of two independent readings.
    assert samples[:, 0].std() == pytest.approx(math.sqrt(2) * cfg.noise_std, rel=0.05)


def test_systematic_slip_scales_the_sum():
    cfg = WheelEncoderConfig(noise_std=0.0, slip_ratio=0.1, slip_event_rate=0.0)
    samples = drive(WheelEncoder(cfg, np.random.default_rng(0)), straight(10.0, 1.0))
    assert np.all(np.abs(samples.astype(float).sum(0) - 11.0) < TICK)
    # noiseless switches slip off too.
    ideal = WheelEncoderConfig.noiseless(slip_ratio=0.1)
    samples = drive(WheelEncoder(ideal, np.random.default_rng(0)), straight(10.0, 1.0))
    assert np.all(np.abs(samples.astype(float).sum(0) - 10.0) < TICK)


def test_random_slip_has_the_configured_spread():
    cfg = WheelEncoderConfig(ticks_per_rev=0, noise_std=0.0, slip_std=0.05, slip_event_rate=0.0)
    samples = drive(WheelEncoder(cfg, np.random.default_rng(3)), straight(10.0, 20.0))
    relative = samples.astype(float) / (10.0 * 2 * DT) - 1.0
    assert relative.shape == (2000, 2)
    assert relative.std() == pytest.approx(0.05, rel=0.05)
    assert abs(relative.mean()) < 5 * 0.05 / math.sqrt(relative.size)


def test_default_slip_events_have_the_configured_rate_and_size():
    cfg = WheelEncoderConfig(ticks_per_rev=0, noise_std=0.0)  # default events only
    assert cfg.slip_event_rate > 0
    seconds = 2000.0
    samples = drive(WheelEncoder(cfg, np.random.default_rng(4)), straight(10.0, seconds))
    ratio = samples.astype(float) / (10.0 * 2 * DT) - 1.0
    slipping = np.abs(ratio) > 1e-6
    # Share of time in an event: rate * duration / (1 + rate * duration) per wheel.
    busy = cfg.slip_event_rate * cfg.slip_event_duration
    assert slipping.mean() == pytest.approx(busy / (1 + busy), rel=0.2)
    # Events start: count rising edges per wheel and second.
    starts = (slipping[1:] & ~slipping[:-1]).sum(0) / seconds
    assert np.all(np.abs(starts - cfg.slip_event_rate) < 0.25 * cfg.slip_event_rate)
    assert ratio[slipping].std() == pytest.approx(cfg.slip_event_std, rel=0.15)
    # The wheels slip independently: the difference of their sums (a heading error for
    # wheel-only dead reckoning) is far from zero, unlike without events.
    total = samples.astype(float).sum(0)
    assert abs(total[0] - total[1]) > 10 * 2 * DT * 10.0


def test_no_slip_event_while_the_wheel_stands_still():
    cfg = WheelEncoderConfig(ticks_per_rev=0, noise_std=0.0, slip_event_rate=50.0)
    t = np.arange(2001) * DT
    angles = np.stack([np.zeros_like(t), 10.0 * t], axis=1)
    enc = WheelEncoder(cfg, np.random.default_rng(0))
    samples = drive(enc, angles)
    assert np.all(samples[:, 0] == 0.0)
    assert np.any(np.abs(samples[:, 1] / (10.0 * 2 * DT) - 1.0) > 1e-6)


def test_divisor_sets_the_sample_rate():
    for divisor, per_second in ((1, 200), (2, 100), (4, 50)):
        cfg = WheelEncoderConfig.noiseless(divisor=divisor)
        enc = WheelEncoder(cfg, np.random.default_rng(0))
        enc.reset(wheels(0.0, 0.0, 0.0))
        out = [enc.update(wheels(k * DT, 0.1 * k, 0.1 * k)) for k in range(1, 201)]
        assert sum(s is not None for s in out) == per_second
        assert all((s is not None) == (k % divisor == 0) for k, s in enumerate(out, start=1))


def test_samples_per_period_and_a_divisor_that_does_not_divide():
    cfg = WheelEncoderConfig()
    assert cfg.samples_per_period(20) == 10
    assert WheelEncoder(cfg, np.random.default_rng(0)).samples_per_period(20) == 10
    with pytest.raises(ValueError, match="divisor"):
        cfg.samples_per_period(21)
    with pytest.raises(ValueError, match="divisor"):
        WheelEncoderConfig(divisor=3).samples_per_period(20)
    with pytest.raises(ValueError, match="ticks_per_period"):
        cfg.samples_per_period(0)


def test_reset_counts_from_the_current_angles():
    enc = WheelEncoder(WheelEncoderConfig.noiseless(), np.random.default_rng(0))
    angles = straight(10.0, 1.0) + np.array([123.4, -56.7])
    samples = drive(enc, angles)
    assert np.all(np.abs(samples.astype(float).sum(0) - 10.0) < TICK)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ticks_per_rev", -1),
        ("ticks_per_rev", 4096.0),
        ("divisor", 0),
        ("divisor", True),
        ("noise_std", -1e-4),
        ("slip_std", float("nan")),
        ("slip_ratio", -1.0),
        ("slip_event_rate", -0.1),
        ("slip_event_duration", float("inf")),
        ("slip_event_std", -0.3),
        ("add_noise", 1),
    ],
)
def test_bad_config_raises_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        WheelEncoderConfig(**{field: value})


def test_bad_use_raises():
    enc = WheelEncoder(WheelEncoderConfig(), np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="reset"):
        enc.update(wheels(0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="wheel_angles"):
        enc.reset(BodyState(wheel_angles=np.array([0.0, np.nan])))
    with pytest.raises(TypeError, match="Generator"):
        WheelEncoder(WheelEncoderConfig(), None)


def test_same_seed_is_bit_identical_and_other_seed_differs():
    cfg = WheelEncoderConfig(noise_std=2e-3, slip_std=0.02)
    t = np.arange(401) * DT
    angles = np.stack([3 * t + np.sin(t), 2 * t], axis=1)
    a = drive(WheelEncoder(cfg, np.random.default_rng(5)), angles)
    b = drive(WheelEncoder(cfg, np.random.default_rng(5)), angles)
    c = drive(WheelEncoder(cfg, np.random.default_rng(6)), angles)
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)
    enc = WheelEncoder(cfg, np.random.default_rng(0))
    drive(enc, angles)
    enc.reset(wheels(0.0, *angles[0]), np.random.default_rng(5))
    replay = [enc.update(wheels(k * DT, *x)) for k, x in enumerate(angles[1:], start=1)]
    assert np.array([s for s in replay if s is not None]).tobytes() == a.tobytes()
