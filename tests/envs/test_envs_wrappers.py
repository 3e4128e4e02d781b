"""Wrappers: discrete actions move as promised and stop ends episodes, the SB3 view and the
normalisation are right and deterministic, and gymnasium's checker passes on each."""

from __future__ import annotations

import dataclasses
import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from conftest import SMALL, write_panorama_rig
from gymnasium.utils.env_checker import check_env

import astra_sim
from astra_sim.envs import ENV_IDS
from astra_sim.envs.wrappers import (
    INSTRUCTION_DIMS,
    DiscreteActions,
    NormalizeObservation,
    SB3View,
    instruction_embedding,
)

IDS = sorted(ENV_IDS)
NAV_IDS = [i for i in IDS if i != "AstraSim/Localization-v0"]
# Checking a wrapped env is the point here, and the continuous (v, w) action is in physical
# units by design; with DiscreteActions the action-space warning must not appear.
EXPECTED = ("different from the unwrapped version", "symmetric and normalized")


@pytest.fixture(scope="module")
def rig(tmp_path_factory) -> str:
    """Four 32x32 cameras: a full panorama that renders fast."""
    return write_panorama_rig(tmp_path_factory.mktemp("rig") / "rig32.yaml", 32)


def make(env_id: str, rig: str, **kw) -> gym.Env:
    return gym.make(env_id, scene_params=SMALL["home"], rig=rig, **kw)


def warnings_of(fn) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught]


def turned_deg(after: np.ndarray, before: np.ndarray) -> float:
    return math.degrees(math.remainder(after[2] - before[2], math.tau))


def test_discrete_turns_and_forward_move_exactly(rig):
    env = DiscreteActions(make("AstraSim/PointNav-v0", rig))
    assert env.action_space == gym.spaces.Discrete(4)
    _, info = env.reset(seed=0)
    for action, expected in ((DiscreteActions.LEFT, 15.0), (DiscreteActions.RIGHT, -15.0)):
        before = info["pose"]
        _, _, terminated, _, info = env.step(action)
        assert turned_deg(info["pose"], before) == pytest.approx(expected, abs=0.1)
        assert np.linalg.norm(info["pose"][:2] - before[:2]) < 1e-3
        assert info["control_steps"] > 1 and not terminated  # several control periods
        assert np.abs(info["velocity"]).max() < 1e-2  # each move ends at rest
    before = info["pose"]
    _, reward, _, _, info = env.step(DiscreteActions.FORWARD)
    assert not info["collided"]
    assert np.linalg.norm(info["pose"][:2] - before[:2]) == pytest.approx(0.25, abs=0.005)
    assert abs(turned_deg(info["pose"], before)) < 0.1
    assert info["control_steps"] > 1 and isinstance(reward, float)
    with pytest.raises(ValueError, match=r"0\.\.3"):
        env.step(7)


def test_discrete_forward_stops_at_a_wall(rig):
    env = DiscreteActions(make("AstraSim/PointNav-v0", rig))
    _, info = env.reset(seed=1)
    for _ in range(60):  # straight ahead until something is in the way
        _, _, terminated, truncated, info = env.step(DiscreteActions.FORWARD)
        assert not (terminated or truncated)
        if info["collided"]:
            break
    assert info["collided"]
    before = info["pose"]
    _, _, _, _, info = env.step(DiscreteActions.FORWARD)
    assert info["control_steps"] == 1  # blocked: the move gives up at once
    assert np.linalg.norm(info["pose"][:2] - before[:2]) < 0.01
    _, _, _, _, info = env.step(DiscreteActions.LEFT)  # turning in place is never blocked
    assert turned_deg(info["pose"], before) == pytest.approx(15.0, abs=0.5)


def test_discrete_stop_ends_the_episode_with_success_only_near_the_goal(rig):
    env = DiscreteActions(make("AstraSim/PointNav-v0", rig))
    env.reset(seed=2)
    _, _, terminated, _, info = env.step(DiscreteActions.STOP)
    assert terminated and not info["success"] and info["control_steps"] == 1
    episode = env.unwrapped.episode
    gx, gy = episode.goal.positions[0][:2]
    at_goal = dataclasses.replace(episode, start=(float(gx), float(gy), 0.0))
    env.reset(seed=2, options={"episode": at_goal})
    _, _, terminated, _, info = env.step(DiscreteActions.STOP)
    assert terminated and info["success"]


def test_discrete_actions_refuse_the_localization_task(rig):
    with pytest.raises(ValueError, match="pose estimate"):
        DiscreteActions(make("AstraSim/Localization-v0", rig))


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_view_shapes_content_and_determinism(env_id, rig):
    base = make(env_id, rig)
    view = SB3View(base)
    raw, _ = base.reset(seed=1)
    obs = view.observation(raw)
    assert view.observation_space.contains(obs)
    channels = 6 if env_id == "AstraSim/ImageNav-v0" else 3
    assert obs["image"].shape == (channels, 32, 4 * 32) and obs["image"].dtype == np.uint8
    assert np.array_equal(obs["image"][:3, :, 32:64], raw["rgb"][1].transpose(2, 0, 1))
    vector = obs["vector"]
    assert vector.dtype == np.float32
    if env_id == "AstraSim/PointNav-v0":
        gx, gy = raw["goal"]
        assert vector[0] == pytest.approx(math.hypot(gx, gy), rel=1e-5)
        assert vector[1:3] == pytest.approx([gx, gy] / np.hypot(gx, gy), abs=1e-5)
        vector = vector[3:]
    assert vector[:6] == pytest.approx(raw["imu"].mean(0) / astra_sim.envs.spaces.IMU_RANGE)
    assert vector[6:8] == pytest.approx(raw["wheel"].sum(0))
    if env_id == "AstraSim/LanguageNav-v0":
        assert np.array_equal(vector[8:], instruction_embedding(raw["instruction"]))
        assert vector[8:].sum() > 0
    first, _ = SB3View(make(env_id, rig)).reset(seed=3)
    again, _ = SB3View(make(env_id, rig)).reset(seed=3)
    for key in ("image", "vector"):
        assert np.array_equal(first[key], again[key])


def test_instruction_embedding_is_a_fixed_hashed_bag_of_words():
    vec = instruction_embedding("Go to the kitchen, then find the red chair!")
    assert vec.shape == (INSTRUCTION_DIMS,) and vec.dtype == np.float32
    assert vec.sum() == 9  # nine words, "the" twice; punctuation and case ignored
    # Pinned: the same in every process (SHA-1, not Python's salted hash()).
    assert np.flatnonzero(vec).tolist() == [3, 5, 15, 24, 27, 30]
    assert np.array_equal(vec, instruction_embedding("go TO the kitchen then find the red chair"))


def test_normalised_observations_are_in_range(rig):
    env = NormalizeObservation(make("AstraSim/ImageNav-v0", rig))
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    for key in ("rgb", "depth", "goal_image"):
        assert obs[key].dtype == np.float32 and obs[key].min() >= 0 and obs[key].max() <= 1
        assert obs[key].max() > 0
    assert np.abs(obs["imu"]).max() <= 1
    assert obs["imu"][:, 2].mean() == pytest.approx(9.80665 / 160.0, abs=1e-2)  # gravity
    obs, *_ = env.step(np.array([0.3, 0.2], np.float32))
    assert env.observation_space.contains(obs)


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_checker_passes_on_each_wrapper(env_id, rig):
    for wrapper in (SB3View, NormalizeObservation):
        env = wrapper(make(env_id, rig))
        messages = warnings_of(lambda env=env: check_env(env, skip_render_check=True))
        assert [m for m in messages if not any(e in m for e in EXPECTED)] == []
    if env_id in NAV_IDS:
        env = DiscreteActions(make(env_id, rig))
        messages = warnings_of(lambda: check_env(env, skip_render_check=True))
        assert [m for m in messages if EXPECTED[0] not in m] == []
