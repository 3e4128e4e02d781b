"""The composed Astra agent drives behind SensorsOnly, and each oracle switch changes only
what it names."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import astra_sim  # noqa: F401
from astra_sim.agents.astra.agent import AstraAgent
from astra_sim.agents.astra.config import AstraConfig
from astra_sim.envs.sensors_only import PrivilegedAccessError
from astra_sim.eval.rollout import run_agent_episode

STEPS = 14


@pytest.fixture(scope="module")
def agent():
    return AstraAgent(AstraConfig())


@pytest.fixture(scope="module")
def env():
    env = gym.make(
        "AstraSim/LanguageNav-v0", scene="home", scene_seeds=[0], max_episode_steps=STEPS
    )
    yield env
    env.close()


def drive(env, agent, oracles=()):
    agent.oracles = frozenset(oracles)
    record = run_agent_episode(env, agent, seed=3, rng=np.random.default_rng(0))
    return record, agent.episode_log()


def test_the_agent_drives_from_its_senses_behind_sensors_only(env, agent):
    record, log = drive(env, agent)
    assert record.steps == STEPS
    assert log["goal"] is not None and log["goal"]["source"] == "language"
    assert log["fix_attempts"] >= 1 and log["start_tries"] >= 1
    assert log["oracles"] == []
    est = log["trace"]["est_pose"]
    assert len(est) == STEPS and est[-1] is not None  # localized within the episode
    # Its estimate tracks the truth it never read.
    assert np.linalg.norm(np.asarray(est[-1][:2]) - record.trajectory[-2]) < 1.0
    assert set(log["cost_ms"]) == {"odometry", "planner", "fusion", "localizer"}


def test_an_agent_that_reads_ground_truth_fails(env, agent):
    class Cheat(AstraAgent):
        def act(self, obs, info):
            _ = info["pose"]
            return super().act(obs, info)

    cheat = Cheat.__new__(Cheat)
    cheat.__dict__.update(agent.__dict__)
    with pytest.raises(PrivilegedAccessError, match="pose"):
        run_agent_episode(env, cheat, seed=3, rng=np.random.default_rng(0))

    class Peek(AstraAgent):
        def reset(self, env, obs, info, rng):
            _ = env.unwrapped.sim.state.pose

    peek = Peek.__new__(Peek)
    peek.__dict__.update(agent.__dict__)
    with pytest.raises(PrivilegedAccessError):
        run_agent_episode(env, peek, seed=3, rng=np.random.default_rng(0))


def test_oracle_switches_change_only_what_they_name(env, agent):
    _, none = drive(env, agent)
    record, goal = drive(env, agent, {"goal"})
    base = env.unwrapped
    # goal: the true goal region, but the start is still self-localized.
    assert goal["goal"]["source"] == "oracle"
    truth = np.asarray(base.episode.goal.positions)
    assert np.min(np.linalg.norm(truth - goal["goal"]["target"], axis=1)) < 1e-9
    assert goal["start_tries"] >= 1 and goal["fix_attempts"] >= 1
    # start: the filter starts at the true start pose; the goal is still from language.
    record, start = drive(env, agent, {"start"})
    assert start["goal"]["source"] == "language" and start["start_tries"] == 0
    assert np.allclose(start["trace"]["est_pose"][0], base.episode.start, atol=1e-3)
    # pose: the estimate is the truth every step, and no fix is asked for.
    record, pose = drive(env, agent, {"pose"})
    est = np.asarray(pose["trace"]["est_pose"])[:, :2]
    assert np.allclose(est, record.trajectory[: len(est)], atol=1e-3)
    assert pose["fix_attempts"] == 0 and pose["goal"]["source"] == "language"
    # Without oracles the same episode is played with the agent's own estimates.
    assert none["goal"]["source"] == "language" and none["fix_attempts"] >= 1


def test_a_target_to_the_side_is_faced_first_and_a_wedged_robot_backs_out(env, agent):
    from astra_sim.agents.astra.agent import STUCK_SPAN_M, STUCK_STEPS, turn_to_face

    assert turn_to_face(np.array([2.0, 0.5])) is None  # ahead: the head plans
    left, right = turn_to_face(np.array([-0.5, 1.7])), turn_to_face(np.array([0.1, -2.0]))
    assert left[0] == 0 and left[1] > 0 and right[0] == 0 and right[1] < 0
    drive(env, agent)  # an episode leaves the agent reset and driving
    agent._recent.clear()
    still = np.array([1.0, 2.0, 0.0])
    assert not any(agent._stuck(still) for _ in range(STUCK_STEPS - 1))
    assert agent._stuck(still) and not agent._recent  # wedged; the window starts over
    moving = [np.array([1.0 + 2 * STUCK_SPAN_M * k / STUCK_STEPS, 2.0, 0.0]) for k in range(60)]
    assert not any(agent._stuck(p) for p in moving)
