"""Fuzzing the env's keyword arguments and actions: bad ones are refused with an error that
names them (ours, or a ValueError saying which argument), good ones make an env that resets
and steps; never a bare exception from deep inside."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from conftest import write_panorama_rig
from fuzzing import CHEAP, FUZZ, JSON_VALUES, Tally, expect_named, tiny_scene
from hypothesis import given, settings
from hypothesis import strategies as st

import astra_sim  # noqa: F401  (registers the ids)
from astra_sim.core.errors import AstraSimError
from astra_sim.envs import ENV_IDS

pytestmark = pytest.mark.timeout(180)
NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 50) | JSON_VALUES
KWARGS = {
    "scene_seeds": st.integers(-3, 3) | st.lists(st.integers(-1, 3), max_size=3) | JSON_VALUES,
    "split": st.sampled_from((None, "train", "val", "bogus")) | JSON_VALUES,
    "sim": st.fixed_dictionaries(
        {},
        optional={
            "control_hz": NUMBERS,
            "physics_hz": NUMBERS,
            "render_threads": NUMBERS,
            "rgb_noise_sigma": NUMBERS,
            "renderer": st.sampled_from(("embree", "nope")),
            "bogus_key": JSON_VALUES,
        },
    ),
    "body": st.sampled_from(("kinematic", "pybullet", "wheels")) | JSON_VALUES,
    "success_distance": NUMBERS,
    "min_geodesic": NUMBERS,
    "max_geodesic": NUMBERS,
    "stop_linear": NUMBERS,
    "stop_angular": NUMBERS,
    "reward": st.fixed_dictionaries(
        {}, optional={"success_bonus": NUMBERS, "slack": NUMBERS, "typo": NUMBERS}
    ),
    # "human" is gymnasium's: gym.make wraps the rgb_array frame in a pygame window.
    "render_mode": st.sampled_from((None, "rgb_array", "ansi")),
}
REFUSED = (AstraSimError, ValueError)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("env")
    scene_dir = tiny_scene().save(tmp / "scene")
    return {"scene_dir": str(scene_dir), "rig": write_panorama_rig(tmp / "rig.yaml", 4)}


def names_the_input(error: Exception, kwargs: dict) -> None:
    """A plain ValueError must say which argument (or sim field) was wrong."""
    if isinstance(error, AstraSimError):
        return
    keys = set(kwargs) | set(kwargs.get("sim") or {}) | set(kwargs.get("reward") or {})
    text = str(error).replace("_", " ")
    named = any(k.replace("_", " ").rstrip("s") in text for k in keys)  # "scene seed(s)"
    assert named or "action" in text, f"{error!r} names no input"


def make_and_run(env_id: str, base: dict, kwargs: dict) -> None:
    env = gym.make(env_id, **base, **kwargs)
    try:
        env.reset(seed=0)
        env.step(np.zeros(env.action_space.shape, np.float32))
    finally:
        env.close()


@settings(FUZZ, max_examples=CHEAP // 6)
@given(
    env_id=st.sampled_from(sorted(ENV_IDS)),
    kwargs=st.fixed_dictionaries({}, optional=KWARGS),
)
def test_env_kwargs_are_refused_by_name_or_work(setup, env_id, kwargs):
    expect_named("env kwargs", lambda: make_and_run(env_id, setup, kwargs), REFUSED,
                 lambda e: names_the_input(e, kwargs))  # fmt: skip


ACTIONS = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=6),
    st.lists(st.integers(-(2**40), 2**40), max_size=6),
    JSON_VALUES,
    st.sampled_from(("fast", b"\x00\x01", {"v": 1.0}, object(), [[0.1, 0.2]], [0.1, "x"])),
)


@pytest.fixture(scope="module")
def env(setup):
    """One env for every action example: making one per example would dominate the run."""
    env = gym.make("AstraSim/PointNav-v0", **setup).unwrapped
    yield env
    env.close()


@settings(FUZZ, max_examples=CHEAP // 2)
@given(action=ACTIONS)
def test_actions_are_refused_by_name_or_stepped(env, action):
    env.reset(seed=0)
    result = expect_named("action", lambda: env.step(action), ValueError,
                          lambda e: names_the_input(e, {}))  # fmt: skip
    if result is not None:
        obs, reward, *_ = result
        assert np.isfinite(reward) and env.observation_space.contains(obs)


def test_env_fuzzing_reached_both_outcomes():
    Tally.assert_both_outcomes("env kwargs", "action")
