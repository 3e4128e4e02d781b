"""The composed agent's other goal and localizer paths: ImageNav (the goal image through the
landmark localizer) and the MLLM localizer (a tiny random Qwen2.5-VL), each a few steps
behind SensorsOnly."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import astra_sim  # noqa: F401
from astra_sim.agents.astra.agent import AstraAgent
from astra_sim.agents.astra.config import AstraConfig
from astra_sim.eval.rollout import run_agent_episode

STEPS = 12


def test_imagenav_goal_comes_from_the_goal_image():
    env = gym.make("AstraSim/ImageNav-v0", scene="home", scene_seeds=[0], max_episode_steps=STEPS)
    try:
        agent = AstraAgent(AstraConfig())
        record = run_agent_episode(env, agent, seed=3, rng=np.random.default_rng(0))
    finally:
        env.close()
    log = agent.episode_log()
    assert record.steps == STEPS  # it drove on: the goal image gave a goal
    assert log["goal"]["source"] == "image" and log["goal"]["landmark"] is None
    assert len(log["goal"]["pose"]) == 3 and not log["goal_failure"]
    truth = np.asarray(env.unwrapped.episode.goal.positions, np.float64).reshape(-1, 2)
    assert np.linalg.norm(truth - log["goal"]["target"], axis=1).min() < 1.0


def test_the_mllm_localizer_drives_the_start_localization():
    pytest.importorskip("transformers")
    from tests.llm.llm_helpers import tiny_model

    cfg = AstraConfig(localizer="mllm", model=str(tiny_model()), start_tries=2, start_moves=0)
    env = gym.make(
        "AstraSim/LanguageNav-v0", scene="home", scene_seeds=[0], max_episode_steps=STEPS
    )
    try:
        agent = AstraAgent(cfg)
        assert type(agent.localizer).__name__ == "MLLMLocalizer"
        record = run_agent_episode(env, agent, seed=3, rng=np.random.default_rng(0))
    finally:
        env.close()
    log = agent.episode_log()
    # A random model's answers do not parse to a pose: two attempts through it, then the
    # episode ends as not localized rather than driving blind.
    assert log["agent_outcome"] == "not_localized" and record.steps < STEPS
    assert log["fix_attempts"] == 2 and all(f["pose"] is None for f in log["trace"]["fixes"])
