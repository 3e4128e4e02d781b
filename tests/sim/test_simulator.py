"""The Simulator: the timing contract, determinism, sensor consistency, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL, cached_scene

from astra_sim.physics.base import GRAVITY
from astra_sim.sensors.imu import ImuConfig
from astra_sim.sensors.wheel_encoder import WheelEncoderConfig
from astra_sim.sim import SimConfig, Simulator


@pytest.fixture(scope="module")
def home():
    return cached_scene("home", 0, **SMALL["home"])


def start_pose(scene, seed=0):
    """A navigable pose with 1 m of clear floor around it."""
    grid = scene.navgrid()
    rng = np.random.default_rng(seed)
    for xy in grid.sample_navigable(rng, 500):
        if grid.esdf_at(xy[None])[0] > 1.0:
            return np.array([xy[0], xy[1], 0.0])
    raise AssertionError("no open spot")


def test_observation_follows_the_timing_contract(home):
    cfg = SimConfig()
    with Simulator(home, cfg, seed=0) as sim:
        obs = sim.reset(start_pose(home))
        obs, info = sim.step(np.array([0.3, 0.0]))
    n_cams = len(sim.rig.mounts)
    assert obs["rgb"].shape == (n_cams, 128, 128, 3) and obs["rgb"].dtype == np.uint8
    assert obs["depth"].shape == (n_cams, 128, 128) and obs["depth"].dtype == np.float32
    assert obs["semantic"].shape == (n_cams, 128, 128) and obs["semantic"].dtype == np.int32
    assert obs["imu"].shape == (cfg.ticks_per_step, 6) and obs["imu"].dtype == np.float32
    assert obs["wheel"].shape == (sim.wheel_samples, 2) and obs["wheel"].dtype == np.float32
    assert cfg.ticks_per_step == 20 and sim.wheel_samples == 10
    assert info["t"] == pytest.approx(0.1)
    assert set(info) >= {"pose", "velocity", "collided"}


def test_same_seed_same_signals_bit_for_bit(home):
    cfg = SimConfig(rgb_noise_sigma=3.0, depth_noise=True)
    runs = []
    for _ in range(2):
        with Simulator(home, cfg, seed=7) as sim:
            trace = [sim.reset(start_pose(home))]
            for i in range(4):
                trace.append(sim.step(np.array([0.4, 0.5 * (-1) ** i]))[0])
        runs.append(trace)
    for a, b in zip(*runs, strict=True):
        for key in a:
            assert np.array_equal(a[key], b[key]), key
    with Simulator(home, cfg, seed=8) as sim:
        other = sim.reset(start_pose(home))
    assert not np.array_equal(other["imu"], runs[0][0]["imu"])
    assert not np.array_equal(other["rgb"], runs[0][0]["rgb"])


def test_at_rest_the_imu_reads_gravity(home):
    with Simulator(home, SimConfig(), seed=1) as sim:
        sim.reset(start_pose(home))
        imu = np.concatenate([sim.step(np.zeros(2))[0]["imu"] for _ in range(5)])
    assert imu[:, 2].mean() == pytest.approx(GRAVITY, abs=0.05)
    assert np.abs(imu[:, 3:].mean(axis=0)).max() < 0.01


def test_wheel_increments_integrate_to_the_distance_driven(home):
    cfg = SimConfig(imu=ImuConfig.noiseless(), wheel=WheelEncoderConfig.noiseless())
    with Simulator(home, cfg, seed=0) as sim:
        start = start_pose(home)
        sim.reset(start)
        wheel = [sim.step(np.array([0.5, 0.0]))[0]["wheel"] for _ in range(10)]
        end = sim.state.pose
    travelled = np.linalg.norm(end[:2] - start[:2])
    assert travelled > 0.3
    from_wheels = np.concatenate(wheel).sum(axis=0) * cfg.robot.wheel_radius
    assert from_wheels == pytest.approx([travelled, travelled], abs=0.01)


@pytest.mark.parametrize("body", ["kinematic", "pybullet"])
def test_driving_into_a_wall_reports_a_collision(home, body):
    cfg = SimConfig(body=body)
    grid = home.navgrid()
    with Simulator(home, cfg, seed=0) as sim:
        sim.reset(start_pose(home))
        hit = False
        for _ in range(150):
            _, info = sim.step(np.array([1.0, 0.0]))
            hit |= info["collided"]
            if hit:
                break
        assert hit
        assert grid.esdf_at(sim.state.pose[None, :2])[0] > 0.1  # stopped, not inside


def test_bad_input_is_refused(home):
    with Simulator(home, SimConfig(), seed=0) as sim:
        sim.reset(start_pose(home))
        with pytest.raises(ValueError, match="finite"):
            sim.step(np.array([np.nan, 0.0]))
        with pytest.raises(ValueError, match="finite"):
            sim.step(np.array([0.0, np.inf]))
        with pytest.raises(ValueError):
            sim.reset(np.array([1e4, 1e4, 0.0]))
    with pytest.raises(ValueError, match="whole multiple"):
        SimConfig(control_hz=7.0, physics_hz=200.0)


def test_step_without_cameras_moves_the_same(home):
    """render=False skips the cameras only: body and sensors follow the same trajectory."""
    runs = []
    for render in (True, False):
        with Simulator(home, SimConfig(), seed=3) as sim:
            sim.reset(start_pose(home))
            for _ in range(5):
                obs, info = sim.step(np.array([0.4, 0.3]), render=render)
            runs.append((obs, info))
    (with_cams, info_a), (without, info_b) = runs
    assert "rgb" in with_cams and set(without) == {"imu", "wheel"}
    assert np.array_equal(info_a["pose"], info_b["pose"])
    assert np.array_equal(with_cams["imu"], without["imu"])
