"""The registered envs: checker, determinism, vector envs, expert success, bad input."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from conftest import SMALL
from gymnasium.utils.env_checker import check_env

import astra_sim  # noqa: F401  (registers the ids)
from astra_sim.core.errors import UnknownNameError
from astra_sim.envs import ENV_IDS
from astra_sim.eval.rollout import run_expert_episode
from astra_sim.tasks import EpisodeFormatError, EpisodeSet

IDS = sorted(ENV_IDS)
EXPECTED_WARNINGS = ("recommend using a symmetric and normalized space",)


def make(env_id, **kw):
    kw.setdefault("scene_params", SMALL["home"])
    return gym.make(env_id, **kw)


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_check_env_passes_without_unexpected_warnings(env_id):
    env = make(env_id, render_mode="rgb_array")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=False)
    unexpected = [
        str(w.message) for w in caught if not any(e in str(w.message) for e in EXPECTED_WARNINGS)
    ]
    assert unexpected == []
    frame = env.unwrapped.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_rollout(env_id):
    envs = [make(env_id) for _ in range(2)]
    traces = []
    for env in envs:
        env.action_space.seed(5)
        obs, info = env.reset(seed=11)
        trace = [(obs, 0.0, info)]
        for _ in range(4):
            obs, reward, _term, _trunc, info = env.step(env.action_space.sample())
            trace.append((obs, reward, info))
        traces.append(trace)
        env.close()
    for (o1, r1, i1), (o2, r2, i2) in zip(*traces, strict=True):
        assert r1 == r2
        for key in o1:
            assert np.array_equal(o1[key], o2[key]) if key != "instruction" else o1[key] == o2[key]
        assert np.array_equal(i1["pose"], i2["pose"])


@pytest.mark.parametrize("env_id", IDS)
def test_async_vector_env(env_id):
    vec = gym.make_vec(env_id, num_envs=2, vectorization_mode="async", scene_params=SMALL["home"])
    try:
        obs, _ = vec.reset(seed=3)
        assert obs["rgb"].shape[0] == 2
        obs, reward, _term, _trunc, _ = vec.step(vec.action_space.sample())
        assert reward.shape == (2,)
    finally:
        vec.close()


def test_string_id_with_module_prefix():
    env = gym.make("astra_sim:AstraSim/PointNav-v0", scene_params=SMALL["home"])
    assert env.spec.max_episode_steps == 1000
    env.close()


@pytest.mark.parametrize("kind", ["home", "office", "warehouse"])
def test_expert_reaches_pointnav_goals(kind):
    env = make("AstraSim/PointNav-v0", scene=kind, scene_seeds=[0, 1], scene_params=SMALL[kind])
    success, spl = run_expert(env, episodes=6, seed=0)
    env.close()
    assert success >= 5 / 6 and spl > 0.85


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["home", "office", "warehouse"])
def test_expert_reaches_pointnav_goals_in_100_episodes(kind):
    env = make(
        "AstraSim/PointNav-v0",
        scene=kind,
        scene_seeds=list(range(10)),
        scene_params={},
        sim={"rig": "default"},
    )
    success, spl = run_expert(env, episodes=100, seed=1)
    env.close()
    assert success >= 0.95 and spl > 0.9


def run_expert(env, episodes, seed):
    records = [run_expert_episode(env, seed * 1000 + i) for i in range(episodes)]
    return (
        np.mean([r.metrics["success"] for r in records]),
        np.mean([r.metrics["spl"] for r in records]),
    )


def test_unknown_scene_kind_is_named():
    with pytest.raises(UnknownNameError, match="home, office, warehouse"):
        gym.make("AstraSim/PointNav-v0", scene="castle")


def test_bad_actions_are_refused():
    env = make("AstraSim/PointNav-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="finite"):
        env.step(np.array([np.nan, 0.0], np.float32))
    env.close()


def test_episode_file_that_does_not_parse(tmp_path):
    bad = tmp_path / "episodes.json"
    bad.write_text("{ not json")
    with pytest.raises(EpisodeFormatError, match=r"episodes\.json"):
        make("AstraSim/PointNav-v0", episodes=str(bad))


def test_saved_episodes_play_in_order(tmp_path):
    path = tmp_path / "eps.json"
    EpisodeSet.generate(
        "pointnav", "home", seeds=[0], per_scene=3, rng_seed=0, scene_params=SMALL["home"]
    ).save(path)
    env = make("AstraSim/PointNav-v0", episodes=str(path))
    ids = [env.reset(seed=0)[1]["episode_id"] for _ in range(4)]
    env.close()
    assert ids[3] == ids[0] and len(set(ids[:3])) == 3
