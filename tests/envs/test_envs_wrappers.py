"""Wrappers: discrete actions move as promised, the SB3 view and normalisation are right,
gymnasium's and SB3's checkers pass, and SB3 PPO trains on PointNav."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from conftest import SMALL
from gymnasium.utils.env_checker import check_env

import astra_sim  # noqa: F401
from astra_sim.envs import ENV_IDS
from astra_sim.envs.wrappers import DiscreteActions, NormalizeObservation, SB3View

IDS = sorted(ENV_IDS)


@pytest.fixture(scope="module")
def small_rig(tmp_path_factory):
    """Four 48x48 cameras: a full panorama that renders fast and suits SB3's NatureCNN."""
    path = tmp_path_factory.mktemp("rig") / "rig48.yaml"
    cams = "\n".join(
        f"  - {{name: c{i}, model: pinhole, width: 48, height: 48, hfov_deg: 90, "
        f"xyz: [0, 0, 0.5], yaw_deg: {90 * i}}}"
        for i in range(4)
    )
    path.write_text("cameras:\n" + cams + "\n")
    return str(path)


def make(env_id, rig, **kw):
    return gym.make(env_id, scene_params=SMALL["home"], rig=rig, **kw)


def checked(fn, env):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(env)
    return [str(w.message) for w in caught]


def test_discrete_forward_and_turns_move_as_promised(small_rig):
    env = DiscreteActions(make("AstraSim/PointNav-v0", small_rig))
    _, info = env.reset(seed=0)
    start = info["pose"].copy()
    for action, expect_turn in ((2, 15.0), (3, -15.0)):
        before = info["pose"].copy()
        _, _, term, _, info = env.step(action)
        turn = math.degrees((info["pose"][2] - before[2] + np.pi) % (2 * np.pi) - np.pi)
        assert turn == pytest.approx(expect_turn, abs=2.0)
        assert np.linalg.norm(info["pose"][:2] - before[:2]) < 0.01
    moved = 0.0
    for _ in range(3):
        before = info["pose"].copy()
        _, _, term, _, info = env.step(1)
        moved = np.linalg.norm(info["pose"][:2] - before[:2])
        if not info["collided"]:
            break
    assert moved == pytest.approx(0.25, abs=0.04)
    assert np.linalg.norm(start[:2]) > 0
    _, _, term, _, info = env.step(0)
    assert term  # stop ends the episode, successful or not
    with pytest.raises(ValueError, match=r"0\.\.3"):
        env.step(7)


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_checker_passes_on_wrappers(env_id, small_rig):
    for wrapped in (
        SB3View(make(env_id, small_rig)),
        NormalizeObservation(make(env_id, small_rig)),
    ):
        messages = checked(lambda e: check_env(e, skip_render_check=True), wrapped)
        assert [
            m
            for m in messages
            if "symmetric and normalized" not in m and "wrapper applied" not in m
        ] == []
    if env_id != "AstraSim/Localization-v0":
        messages = checked(
            lambda e: check_env(e, skip_render_check=True),
            DiscreteActions(make(env_id, small_rig)),
        )
        assert [m for m in messages if "wrapper applied" not in m] == []


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_checker_passes_on_the_sb3_view(env_id, small_rig):
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env = SB3View(make(env_id, small_rig))
    messages = checked(lambda e: sb3_checker.check_env(e, warn=True), env)
    assert [
        m
        for m in messages
        if "symmetric and normalized" not in m and "normalized action space" not in m
    ] == []
    obs, _ = env.reset(seed=1)
    assert obs["image"].shape == (6 if env_id == "AstraSim/ImageNav-v0" else 3, 48, 192)
    assert obs["image"].dtype == np.uint8 and obs["vector"].dtype == np.float32
    again, _ = SB3View(make(env_id, small_rig)).reset(seed=1)
    assert np.array_equal(obs["vector"], again["vector"])


def test_normalised_observations_are_in_range(small_rig):
    env = NormalizeObservation(make("AstraSim/ImageNav-v0", small_rig))
    obs, _ = env.reset(seed=0)
    for key in ("rgb", "depth", "goal_image"):
        assert obs[key].dtype == np.float32 and obs[key].min() >= 0 and obs[key].max() <= 1
    assert obs["imu"][:, 2].mean() == pytest.approx(9.80665 / 160.0, abs=1e-2)


def test_sb3_ppo_trains_on_pointnav(small_rig, tmp_path):
    sb3 = pytest.importorskip("stable_baselines3")
    env = SB3View(make("AstraSim/PointNav-v0", small_rig))
    model = sb3.PPO(
        "MultiInputPolicy",
        env,
        n_steps=512,
        batch_size=128,
        n_epochs=2,
        seed=0,
        device="cpu",
        verbose=0,
    )
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    model.save(tmp_path / "ppo")
    loaded = sb3.PPO.load(tmp_path / "ppo", device="cpu")
    obs, _ = env.reset(seed=3)
    action, _ = loaded.predict(obs, deterministic=True)
    assert env.action_space.contains(
        np.clip(action, env.action_space.low, env.action_space.high).astype(np.float32)
    )
    assert action.shape == env.action_space.shape
