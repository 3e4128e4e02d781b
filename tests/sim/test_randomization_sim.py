"""Domain randomization inside the Simulator: each group changes what it names and nothing
else, identity draws change nothing at all, and each knob does what it says (a camera yaw
offset is a turn of the view, a principal point offset a shift of the image, a wheel
radius error a scale of the wheel readings, latency a delay of the motion)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from conftest import SMALL, cached_scene, write_panorama_rig

from astra_sim.physics.kinematic import KinematicBody
from astra_sim.sensors.imu import ImuConfig
from astra_sim.sensors.wheel_encoder import WheelEncoderConfig
from astra_sim.sim import SimConfig, Simulator
from astra_sim.sim.randomization import parse_randomize
from astra_sim.sim.randomization.actuation import ActuatedBody
from astra_sim.sim.randomization.apply import draw_for, jittered_rig
from astra_sim.sim.randomization.calibration import wheel_calibration_matrix

SEED = 11
COMMANDS = [(0.4, 0.0), (0.5, 0.6), (0.3, -0.8)]
KEYS = ("rgb", "depth", "semantic", "imu", "wheel", "pose")


@pytest.fixture(scope="module")
def home():
    return cached_scene("home", 0, **SMALL["home"])


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    return write_panorama_rig(tmp_path_factory.mktemp("rig") / "rig.yaml", 32)


def start_pose(scene):
    grid = scene.navgrid()
    for xy in grid.sample_navigable(np.random.default_rng(0), 500):
        if grid.esdf_at(xy[None])[0] > 1.0:
            return np.array([xy[0], xy[1], 0.3])
    raise AssertionError("no open spot")


def rollout(scene, block, config, commands=COMMANDS):
    """Reset (seed SEED) then step; one dict of KEYS per observation."""
    with Simulator(scene, config) as sim:
        cfg = parse_randomize(block)
        draw = draw_for(cfg, sim, SEED) if cfg else None
        obs = sim.reset(start_pose(scene), seed=SEED, randomization=draw)
        out = [{**obs, "pose": sim.state.pose.copy()}]
        for c in commands:
            obs, info = sim.step(np.array(c))
            out.append({**obs, "pose": info["pose"]})
    return out


def changed(a, b):
    """The keys whose values differ anywhere in two rollouts."""
    return {
        k for k in KEYS if any(not np.array_equal(x[k], y[k]) for x, y in zip(a, b, strict=True))
    }


# Identity values of every knob against the simulator's defaults (SimConfig(), Shading()).
IDENTITY = {
    "appearance": {"texture_redraw": 0, "colour_gain": 1, "brightness": 1},
    "lighting": {"ambient": 0.6, "diffuse": 0.4, "intensity": 1, "attenuation": 0.03},
    "camera": {"focal_scale": 1, "principal_px": 0, "xyz_m": 0, "yaw_deg": 0, "pitch_deg": 0},
    "image_noise": {"rgb_sigma": 0, "depth_scale": 0},
    "imu": {"noise_scale": 1, "accel_scale_error": 0, "gyro_scale_error": 0},
    "wheel": {"noise_scale": 1, "radius_error": 0, "track_width_error": 0,
              "slip_event_rate": 0.1, "slip_event_std": 0.3},
    "actuation": {"latency_s": 0, "linear_gain": 1, "angular_gain": 1, "linear_noise": 0,
                  "angular_noise": 0},
}  # fmt: skip


def test_identity_draws_of_every_knob_change_nothing_bit_for_bit(home, rig):
    """Every part of the application path runs, and with identity values reproduces the
    unrandomized simulator exactly (noisy IMU and wheels included: same streams)."""
    assert set(IDENTITY) == set(parse_randomize("default").ranges)
    cfg = SimConfig(rig=rig)
    assert not changed(rollout(home, None, cfg), rollout(home, IDENTITY, cfg))


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("appearance", {"rgb"}),
        ("lighting", {"rgb"}),
        ({"image_noise": {"rgb_sigma": [1, 4], "depth_scale": [0.5, 1.5]}}, {"rgb", "depth"}),
        ("camera", {"rgb", "depth", "semantic"}),
        ("imu", {"imu"}),
        ("wheel", {"wheel"}),
        ("actuation", {"rgb", "depth", "semantic", "imu", "wheel", "pose"}),
    ],
)
def test_each_group_changes_what_it_names_and_nothing_else(home, rig, group, expected):
    cfg = SimConfig(rig=rig)
    block = group if isinstance(group, dict) else {group: "default"}
    plain, randomized = rollout(home, None, cfg), rollout(home, block, cfg)
    assert changed(plain, randomized) == expected
    if group == "actuation":  # at rest nothing differs: only the executed commands do
        assert not changed(plain[:1], randomized[:1])


def test_same_seed_same_draws_and_observations_another_seed_others(home, rig):
    cfg = SimConfig(rig=rig)
    block = parse_randomize("default")
    assert not changed(rollout(home, "default", cfg), rollout(home, "default", cfg))
    with Simulator(home, cfg) as sim:
        a, b, c = (draw_for(block, sim, s).to_json() for s in (SEED, SEED, SEED + 1))
    assert a == b and a != c
    assert a["lighting"]["ambient"] != c["lighting"]["ambient"]


def test_naming_another_knob_leaves_the_other_draws_alone(home):
    with Simulator(home, SimConfig()) as sim:
        one = draw_for(parse_randomize({"lighting": {"ambient": [0.3, 0.6]}}), sim, SEED)
        two = draw_for(
            parse_randomize({"lighting": {"ambient": [0.3, 0.6], "intensity": [0.5, 1]}}),
            sim,
            SEED,
        )
    assert one.values["lighting"]["ambient"] == two.values["lighting"]["ambient"]
    assert "intensity" not in one.values["lighting"]


def test_a_camera_yaw_offset_turns_the_view_as_turning_the_robot_does(home):
    """The default rig's cameras sit on the base's z axis, so a 10 degree mount yaw is the
    view of the unrandomized rig from the base turned by 10 degrees."""
    block = {"camera": {"yaw_deg": 10.0}}
    pose = start_pose(home)
    with Simulator(home, SimConfig()) as sim:
        obs = sim.reset(pose, seed=SEED, randomization=draw_for(parse_randomize(block), sim, SEED))
        nominal = Simulator(home, SimConfig())
        turned = nominal.renderer.render(nominal.rig, pose + np.array([0, 0, math.radians(10)]))
        straight = nominal.renderer.render(nominal.rig, pose)
        nominal.close()
    assert not np.array_equal(obs["depth"], straight.depth)  # the image moved
    np.testing.assert_allclose(obs["depth"], turned.depth, atol=1e-3)
    assert np.mean(obs["semantic"] == turned.semantic) > 0.995


def test_a_principal_point_offset_shifts_the_image_by_as_many_pixels(home):
    block = parse_randomize({"camera": {"principal_px": 3.0}})  # cx = cy = +3 px
    pose = start_pose(home)
    with Simulator(home, SimConfig()) as sim:
        plain = sim.render(pose)
        sim.reset(pose, seed=SEED, randomization=draw_for(block, sim, SEED))
        shifted = sim.render(pose)
    # Pixel (r, c) now looks where pixel (r - 3, c - 3) looked: the rays are the same.
    np.testing.assert_array_equal(shifted.depth[:, 3:, 3:], plain.depth[:, :-3, :-3])
    np.testing.assert_array_equal(shifted.rgb[:, 3:, 3:], plain.rgb[:, :-3, :-3])
    assert not np.array_equal(shifted.depth, plain.depth)


def test_a_focal_scale_narrows_the_field_of_view_and_mount_offsets_add_up(home):
    with Simulator(home, SimConfig()) as sim:
        draw = draw_for(
            parse_randomize({"camera": {"focal_scale": 1.2, "xyz_m": 0.01, "pitch_deg": 2}}),
            sim,
            SEED,
        )
        rig = jittered_rig(sim.rig, draw.group("camera"))
        base = sim.rig.mounts[0]
    cam, mount = rig.mounts[0].camera, rig.mounts[0]
    assert cam.focal_px == pytest.approx(1.2 * base.camera.focal_px)
    assert mount.xyz == pytest.approx(tuple(v + 0.01 for v in base.xyz))
    assert mount.pitch == pytest.approx(base.pitch + math.radians(2))
    assert [m.name for m in rig.mounts] == [m.name for m in sim.rig.mounts]


EXACT = SimConfig(imu=ImuConfig.noiseless(), wheel=WheelEncoderConfig.noiseless(ticks_per_rev=0))


def test_a_wheel_radius_error_scales_the_wheel_readings_but_not_the_true_pose(home, rig):
    cfg = dataclasses.replace(EXACT, rig=rig)
    plain = rollout(home, None, cfg)
    big = rollout(home, {"wheel": {"radius_error": 0.05}}, cfg)
    assert changed(plain, big) == {"wheel"}
    for a, b in zip(plain[1:], big[1:], strict=True):
        np.testing.assert_allclose(b["wheel"], a["wheel"] / 1.05, rtol=1e-5, atol=1e-9)


def test_a_track_width_error_changes_turning_readings_only(home, rig):
    cfg = dataclasses.replace(EXACT, rig=rig)
    turn = [(0.0, 1.0)] * 2
    plain = rollout(home, None, cfg, turn)
    wide = rollout(home, {"wheel": {"track_width_error": 0.1}}, cfg, turn)
    assert changed(plain, wide) == {"wheel"}
    # Turning in place, each wheel covers dtheta * b / 2: 10 % more on a 10 % wider track.
    np.testing.assert_allclose(wide[-1]["wheel"], plain[-1]["wheel"] * 1.1, rtol=1e-5)
    np.testing.assert_array_equal(wheel_calibration_matrix(), np.eye(2))


def test_imu_scale_errors_scale_the_readings(home, rig):
    cfg = dataclasses.replace(EXACT, rig=rig)
    plain = rollout(home, None, cfg)
    off = rollout(home, {"imu": {"gyro_scale_error": 0.1, "accel_scale_error": -0.05}}, cfg)
    assert changed(plain, off) == {"imu"}
    np.testing.assert_allclose(off[2]["imu"][:, 3:], plain[2]["imu"][:, 3:] * 1.1, rtol=1e-5)
    np.testing.assert_allclose(off[2]["imu"][:, :3], plain[2]["imu"][:, :3] * 0.95, rtol=1e-5)


def test_latency_delays_the_motion_by_whole_ticks(home):
    """With L ticks of latency the body after n ticks is where it was after n - L ticks."""
    pose, dt, n, lag = start_pose(home), 1 / 200, 60, 10
    plain = KinematicBody(home)
    late = ActuatedBody(KinematicBody(home), lag, (1.0, 1.0), (0.0, 0.0), 20,
                        np.random.default_rng(0))  # fmt: skip
    plain.reset(pose), late.reset(pose)
    poses = [plain.step(np.array([0.5, 0.4]), dt).pose.copy() for _ in range(n)]
    delayed = [late.step(np.array([0.5, 0.4]), dt).pose.copy() for _ in range(n)]
    np.testing.assert_array_equal(delayed[lag - 1], pose)  # not moved yet
    np.testing.assert_array_equal(delayed[-1], poses[n - lag - 1])


def test_gains_scale_the_executed_speed_and_a_stop_stays_a_stop(home):
    pose, dt = start_pose(home), 1 / 200
    body = ActuatedBody(KinematicBody(home), 0, (0.5, 1.0), (0.05, 0.2), 20,
                        np.random.default_rng(0))  # fmt: skip
    body.reset(pose)
    for _ in range(200):
        state = body.step(np.array([0.0, 0.0]), dt)
    np.testing.assert_array_equal(state.pose, pose)  # noise never moves a stopped robot
    body = ActuatedBody(KinematicBody(home), 0, (0.5, 1.0), (0.0, 0.0), 20,
                        np.random.default_rng(0))  # fmt: skip
    body.reset(pose)
    for _ in range(400):
        state = body.step(np.array([0.4, 0.0]), dt)
    assert state.velocity[0] == pytest.approx(0.2, abs=1e-3)
    assert body.config is body.inner.config  # the rest of the body shows through


def test_a_randomization_needs_the_episode_seed(home):
    with Simulator(home, SimConfig()) as sim:
        draw = draw_for(parse_randomize({"camera": "default"}), sim, SEED)
        with pytest.raises(ValueError, match="needs the episode's seed"):
            sim.reset(start_pose(home), randomization=draw)
