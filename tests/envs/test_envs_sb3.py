"""Stable-Baselines3 on the SB3 view: its env checker passes on every task, and PPO trains
on PointNav with continuous and with discrete actions (real SB3, tiny budgets)."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from conftest import SMALL, write_panorama_rig

import astra_sim  # noqa: F401
from astra_sim.envs import ENV_IDS
from astra_sim.envs.wrappers import DiscreteActions, SB3View

sb3 = pytest.importorskip("stable_baselines3")
torch = pytest.importorskip("torch")
from stable_baselines3.common.env_checker import check_env  # noqa: E402

# The continuous (v, w) action is in physical units by design: SB3 recommends [-1, 1].
ACTION_WARNING = "symmetric and normalized Box action space"


@pytest.fixture(scope="module")
def rig(tmp_path_factory) -> str:
    """Four 48x48 cameras: SB3's NatureCNN needs images of at least 36x36 pixels."""
    return write_panorama_rig(tmp_path_factory.mktemp("rig") / "rig48.yaml", 48)


@pytest.fixture
def one_torch_thread():
    """Train on one torch thread: on a busy 2-core machine torch's intra-op threads fight
    the env and each other (beside two CPU-bound processes, the 2048 PPO steps below took
    134 s on torch's 2 threads and 21 s on one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make(env_id: str, rig: str) -> gym.Env:
    return gym.make(env_id, scene_params=SMALL["home"], rig=rig)


def sb3_warnings(env: gym.Env) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, warn=True)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_sb3_checker_passes_on_the_sb3_view(env_id, rig):
    assert [m for m in sb3_warnings(SB3View(make(env_id, rig))) if ACTION_WARNING not in m] == []
    if env_id != "AstraSim/Localization-v0":
        assert sb3_warnings(SB3View(DiscreteActions(make(env_id, rig)))) == []


def test_sb3_ppo_trains_on_pointnav(rig, tmp_path, one_torch_thread):
    env = SB3View(make("AstraSim/PointNav-v0", rig))
    model = sb3.PPO(
        "MultiInputPolicy",
        env,
        n_steps=512,
        batch_size=128,
        n_epochs=2,
        policy_kwargs={"features_extractor_kwargs": {"cnn_output_dim": 64}},
        seed=0,
        device="cpu",
        verbose=0,
    )
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    assert any(not p.equal(b) for p, b in zip(model.policy.parameters(), before, strict=True))
    model.save(tmp_path / "ppo")
    loaded = sb3.PPO.load(tmp_path / "ppo", device="cpu")
    obs, _ = env.reset(seed=3)
    for _ in range(5):
        action, _ = loaded.predict(obs, deterministic=True)
        assert env.action_space.contains(action)
        obs, *_ = env.step(action)


def test_sb3_ppo_trains_with_discrete_actions(rig, one_torch_thread):
    env = SB3View(DiscreteActions(make("AstraSim/PointNav-v0", rig)))
    model = sb3.PPO(
        "MultiInputPolicy",
        env,
        n_steps=64,
        batch_size=32,
        n_epochs=1,
        policy_kwargs={"features_extractor_kwargs": {"cnn_output_dim": 64}},
        seed=0,
        device="cpu",
    )
    model.learn(total_timesteps=128)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(int(action)) and np.ndim(action) == 0
