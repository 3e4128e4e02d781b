"""``gym.make(..., randomize=...)``: per-episode draws from the env seed, reported in
``info["randomization"]``, with the same episodes as without randomization."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from conftest import write_panorama_rig

import astra_sim  # noqa: F401  (registers the env ids)
from astra_sim.sim.randomization import RandomizeError

BLOCK = {
    "lighting": "default",
    "camera": {"yaw_deg": [-3, 3]},
    "wheel": {"radius_error": [-0.02, 0.02]},
    "actuation": {"latency_s": [0.0, 0.05]},
}


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    return write_panorama_rig(tmp_path_factory.mktemp("rig") / "rig.yaml", 16)


def episode(rig, randomize, seed, steps=3):
    env = gym.make("AstraSim/PointNav-v0", scene="home", rig=rig, randomize=randomize)
    obs, info = env.reset(seed=seed)
    frames = [obs]
    for _ in range(steps):
        obs, *_ = env.step(np.array([0.4, 0.5], np.float32))
        frames.append(obs)
    env.close()
    return info, frames


def test_same_seed_same_draws_and_observations(rig):
    info_a, frames_a = episode(rig, BLOCK, 4)
    info_b, frames_b = episode(rig, BLOCK, 4)
    assert info_a["randomization"] == info_b["randomization"]
    for a, b in zip(frames_a, frames_b, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    info_c, _ = episode(rig, BLOCK, 5, steps=0)
    assert info_c["randomization"] != info_a["randomization"]


def test_the_draws_are_json_and_name_what_the_block_names(rig):
    info, _ = episode(rig, BLOCK, 4, steps=0)
    draws = info["randomization"]
    assert json.loads(json.dumps(draws)) == draws
    assert set(draws) == {"seed", *BLOCK}
    assert set(draws["camera"]) == {"c0", "c1", "c2", "c3"}
    assert set(draws["camera"]["c0"]) == {"yaw_deg"}
    assert -3 <= draws["camera"]["c0"]["yaw_deg"] <= 3
    assert len(draws["wheel"]["radius_error"]) == 2


def test_randomization_keeps_the_episodes_of_the_env(rig):
    plain, _ = episode(rig, None, 4, steps=0)
    randomized, _ = episode(rig, BLOCK, 4, steps=0)
    assert "randomization" not in plain
    assert plain["episode_id"] == randomized["episode_id"]
    np.testing.assert_array_equal(plain["pose"], randomized["pose"])


def test_every_episode_draws_anew(rig):
    env = gym.make("AstraSim/PointNav-v0", scene="home", rig=rig, randomize={"lighting": {}})
    _, first = env.reset(seed=1)
    _, second = env.reset()
    env.close()
    assert first["randomization"]["lighting"] != second["randomization"]["lighting"]


def test_gym_make_refuses_a_bad_block_naming_the_key(rig):
    with pytest.raises(RandomizeError, match=r"randomize\.imu\.noise_scale: \[-1, 1\]"):
        gym.make("AstraSim/PointNav-v0", scene="home", rig=rig,
                 randomize={"imu": {"noise_scale": [-1, 1]}})  # fmt: skip


def test_the_robots_view_hides_the_draws_and_keeps_its_calibration(rig):
    """Behind SensorsOnly the agent gets the calibrated rig, not the randomized cameras,
    and the draws (true calibration errors) are ground truth like the pose."""
    from astra_sim.envs.sensors_only import PrivilegedAccessError, SensorsOnly

    raw = gym.make("AstraSim/PointNav-v0", scene="home", rig=rig,
                   randomize={"camera": {"yaw_deg": 5.0}})  # fmt: skip
    env = SensorsOnly(raw)
    _, info = env.reset(seed=2)
    assert "randomization" not in info
    with pytest.raises(PrivilegedAccessError):
        info["randomization"]
    sim = raw.unwrapped.sim
    assert env.rig is sim.calibrated_rig
    assert sim.rig.mounts[0].yaw == pytest.approx(sim.calibrated_rig.mounts[0].yaw + np.radians(5))
    env.close()
