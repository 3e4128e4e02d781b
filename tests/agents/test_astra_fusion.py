"""The SE(2) EKF of the composed agent: prediction, gated fixes, consistency, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from astra_sim.agents.astra.fusion import FixOutcome, FusionConfig, PoseFilter
from astra_sim.agents.baselines.dead_reckoning import arc_step, compose, integrate

STEPS = 200
FIX_EVERY = 20
SEEDS = range(8)
# Odometry worse than its noise model in a way the model does not describe: a 0.5 % scale
# error and a yaw drift of 3 mrad per metre.
BIAS = np.array([0.0005, 0.0, 0.0003])
START_SIGMA = np.array([0.05, 0.05, 0.02])


def loop_steps() -> np.ndarray:
    """True steps (200, 3) of 0.1 m around a 20 m loop: 4 straights and 4 quarter turns."""
    turning = (np.arange(STEPS) // 25) % 2 == 1
    return arc_step(np.full(STEPS, 0.1), np.where(turning, (np.pi / 2) / 25, 0.0))


def yaw_error(est: np.ndarray, truth: np.ndarray) -> np.ndarray:
    e = est - truth
    e[2] = math.atan2(math.sin(e[2]), math.cos(e[2]))
    return e


def run(seed: int, fix_every: int | None, bias=None, streak: int = 2) -> dict:
    """One noisy run around the loop; per step: position error, NEES and 3-sigma check."""
    rng = np.random.default_rng(seed)
    cfg = FusionConfig(reject_streak=streak)
    steps = loop_steps()
    truth = integrate(np.zeros(3), steps)
    f = PoseFilter(cfg)
    f.initialize(truth[0] + rng.normal(0.0, START_SIGMA), np.diag(START_SIGMA**2))
    fix_sd = [cfg.fix_sigma_xy, cfg.fix_sigma_xy, cfg.fix_sigma_yaw]
    err, nees, inside = [], [], []
    for t, u in enumerate(steps, start=1):
        odom_sd = np.sqrt(np.diag(f.step_noise(u)))  # the noise the filter assumes
        f.predict(u + rng.normal(0.0, odom_sd) + (BIAS if bias is None else bias))
        if fix_every and t % fix_every == 0:
            f.update(truth[t] + rng.normal(0.0, fix_sd))
        e, P = yaw_error(f.pose, truth[t]), f.cov
        err.append(math.hypot(e[0], e[1]))
        nees.append(float(e @ np.linalg.solve(P, e)))
        inside.append(float(e[:2] @ np.linalg.solve(P[:2, :2], e[:2])) <= 9.0)
    return {
        "err": np.array(err),
        "nees": np.array(nees),
        "inside": np.array(inside),
        "filter": f,
    }


@pytest.fixture(scope="module")
def runs() -> dict:
    return {
        "fixes": [run(s, FIX_EVERY) for s in SEEDS],
        "none": [run(s, None) for s in SEEDS],
    }


def numeric_jacobians(x: np.ndarray, u: np.ndarray, h: float = 1e-6):
    """Central-difference Jacobians of compose(x, u) wrt x and wrt u."""
    F, G = np.zeros((3, 3)), np.zeros((3, 3))
    for i in range(3):
        d = np.zeros(3)
        d[i] = h
        F[:, i] = [yaw_error(compose(x + d, u), compose(x - d, u))[k] / (2 * h) for k in range(3)]
        G[:, i] = [yaw_error(compose(x, u + d), compose(x, u - d))[k] / (2 * h) for k in range(3)]
    return F, G


def test_prediction_composes_steps_and_the_covariance_grows_with_travel():
    f = PoseFilter()
    f.initialize([1.0, 2.0, 0.3])
    pose, traces, sigmas = np.array([1.0, 2.0, 0.3]), [np.trace(f.cov)], [f.position_sigma()]
    for u in loop_steps()[:80]:  # a straight, a quarter turn, a straight, part of a turn
        f.predict(u)
        pose = compose(pose, u)
        traces.append(np.trace(f.cov))
        sigmas.append(f.position_sigma())
    assert np.allclose(f.pose, pose, atol=1e-12)
    assert np.allclose(f.pose, integrate(np.array([1.0, 2.0, 0.3]), loop_steps()[:80])[-1])
    assert np.all(np.diff(traces) > 0) and np.all(np.diff(sigmas) > 0)
    assert f.accepted == 0 and f.rejected == 0


def test_prediction_propagates_with_the_jacobians_of_compose_and_the_step_noise():
    rng = np.random.default_rng(3)
    cfg = FusionConfig()
    f = PoseFilter(cfg)
    A = rng.normal(size=(3, 3))
    P0 = A @ A.T * 0.01 + np.eye(3) * 1e-3
    x0, u = np.array([0.4, -1.2, 2.5]), np.array([0.12, -0.03, 0.2])
    f.initialize(x0, P0)
    f.predict(u)
    d = math.hypot(u[0], u[1])
    s_t = cfg.odom_trans_frac * d + cfg.odom_trans_floor
    s_y = cfg.odom_yaw_frac * 0.2 + cfg.odom_yaw_per_m * d + cfg.odom_yaw_floor
    Q = np.diag([s_t**2, s_t**2, s_y**2])
    assert np.allclose(f.step_noise(u), Q, rtol=1e-12, atol=0)
    F, G = numeric_jacobians(x0, u)
    assert np.allclose(f.cov, F @ P0 @ F.T + G @ Q @ G.T, rtol=1e-6, atol=1e-12)
    assert np.array_equal(f.cov, f.cov.T)


def test_fixes_keep_the_estimate_close_and_within_its_covariance(runs):
    res = runs["fixes"]
    err = np.concatenate([r["err"] for r in res])
    assert all(r["err"][-1] < 0.3 for r in res)
    assert err.max() < 0.4 and np.percentile(err, 95) < 0.25
    nees = np.concatenate([r["nees"] for r in res])
    assert 1.0 < nees.mean() < 6.0  # 3 dof: about 3 for a consistent filter
    assert np.concatenate([r["inside"] for r in res]).mean() >= 0.9
    filters = [r["filter"] for r in res]
    assert all(f.accepted + f.rejected == STEPS // FIX_EVERY for f in filters)
    assert sum(f.accepted for f in filters) >= 0.9 * len(filters) * STEPS // FIX_EVERY


def test_without_fixes_the_same_runs_drift_more(runs):
    with_fixes = [r["err"] for r in runs["fixes"]]
    without = [r["err"] for r in runs["none"]]
    assert np.mean(np.concatenate(without)) > 1.25 * np.mean(np.concatenate(with_fixes))
    assert np.mean([e[-1] for e in without]) > 1.5 * np.mean([e[-1] for e in with_fixes])
    for a, b in zip(runs["fixes"], runs["none"], strict=True):  # and the filter knows it
        assert b["filter"].position_sigma() > 2 * a["filter"].position_sigma()


def test_a_streak_of_rejected_fixes_reopens_the_gate():
    # Wheels 5 % off, far beyond the noise model: the filter grows overconfident and gates
    # out true fixes; after two in a row it widens and takes the next ones again.
    out = run(0, 20, bias=np.array([0.005, 0.0, 0.002]))
    f = out["filter"]
    assert f.rejected >= 2 and f.accepted >= 5
    assert out["err"][-20:].max() < 0.5
    stuck = run(0, 20, bias=np.array([0.005, 0.0, 0.002]), streak=10**6)
    assert stuck["err"][-20:].max() > 2 * out["err"][-20:].max()


def test_an_outlier_fix_is_gated_out_unless_gating_is_off():
    f = PoseFilter()
    assert f.gate == pytest.approx(11.345, abs=1e-3)
    f.initialize([0.0, 0.0, 0.0])
    cov = f.cov
    d2 = f.mahalanobis2([5.0, 0.0, 0.0])
    out = f.update([5.0, 0.0, 0.0])
    assert isinstance(out, FixOutcome)
    assert not out.accepted and f.rejected == 1 and f.accepted == 0
    assert out.mahalanobis2 == pytest.approx(d2) and d2 > 100
    assert np.array_equal(f.pose, np.zeros(3)) and np.array_equal(f.cov, cov)
    assert np.array_equal(out.correction, np.zeros(3))
    near = f.update([0.2, -0.1, 0.05])  # a plausible fix still goes through
    assert near.accepted and f.accepted == 1 and f.rejected == 1
    g = PoseFilter(FusionConfig(gate_probability=1.0))
    g.initialize([0.0, 0.0, 0.0])
    out = g.update([5.0, 0.0, 0.0])
    assert out.accepted and g.rejected == 0 and g.pose[0] > 2.0
    assert np.allclose(out.correction, g.pose)


def test_an_accepted_fix_moves_by_the_kalman_gain_and_shrinks_the_covariance():
    f = PoseFilter()
    f.initialize([0.0, 0.0, 0.0])
    before = f.cov
    out = f.update([0.2, -0.1, 0.05], cov=np.diag([0.09, 0.09, 0.01]))  # equal to P: K = I/2
    assert out.accepted
    assert np.allclose(out.correction, [0.1, -0.05, 0.025])
    assert np.allclose(f.cov, before / 2)
    assert np.array_equal(f.cov, f.cov.T) and np.all(np.linalg.eigvalsh(f.cov) > 0)


def test_the_yaw_innovation_wraps():
    f = PoseFilter()
    f.initialize([0.0, 0.0, 3.1])
    assert f.mahalanobis2([0.0, 0.0, -3.1]) < 1.0  # 0.083 rad apart, not 6.2
    out = f.update([0.0, 0.0, -3.1])
    assert out.accepted and 0.0 < out.correction[2] < 0.09
    assert abs(abs(f.pose[2]) - np.pi) < 0.05 and -np.pi < f.pose[2] <= np.pi
    g = PoseFilter()
    g.initialize([0.0, 0.0, -np.pi])
    assert g.pose[2] == pytest.approx(np.pi)  # (-pi, pi]


def test_bad_input_is_named():
    f = PoseFilter()
    assert not f.initialized
    with pytest.raises(RuntimeError, match="initialize"):
        f.update([0.0, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="initialize"):
        f.predict([0.1, 0.0, 0.0])
    with pytest.raises(RuntimeError, match="initialize"):
        _ = f.pose
    with pytest.raises(ValueError, match="pose must be finite"):
        f.initialize([0.0, np.inf, 0.0])
    f.initialize([0.0, 0.0, 0.0])
    assert f.initialized
    with pytest.raises(ValueError, match="step must be finite"):
        f.predict([np.nan, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"step must have shape \(3,\)"):
        f.predict([0.0, 0.0])
    with pytest.raises(ValueError, match="fix must be finite"):
        f.update([0.0, np.nan, 0.0])
    with pytest.raises(ValueError, match=r"cov must have shape \(3, 3\)"):
        f.update([0.0, 0.0, 0.0], cov=np.eye(2))
    with pytest.raises(ValueError, match="cov must be positive definite"):
        f.update([0.0, 0.0, 0.0], cov=-np.eye(3))
    assert np.array_equal(f.pose, np.zeros(3)) and f.accepted == 0 and f.rejected == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("fix_sigma_xy", 0.0),
        ("odom_trans_frac", -0.01),
        ("odom_yaw_floor", float("nan")),
        ("init_sigma_yaw", float("inf")),
        ("gate_probability", 1.5),
        ("gate_probability", 0.0),
        ("fix_sigma_yaw", "0.05"),
    ],
)
def test_bad_config_values_are_named(field, value):
    with pytest.raises(ValueError, match=f"FusionConfig.{field}"):
        FusionConfig(**{field: value})
