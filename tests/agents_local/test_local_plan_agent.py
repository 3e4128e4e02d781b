"""Data builder -> training -> checkpoint -> closed-loop agent, end to end on a tiny budget."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import astra_sim.envs  # noqa: F401
from astra_sim.agents.astra_local.plan_data import PlanDataConfig, build_samples, load_samples
from astra_sim.agents.astra_local.planner_agent import (
    PlannerAgent,
    clearance_grid,
    fallback_arc,
    path_clearance,
)
from astra_sim.agents.astra_local.train_planner import TrainPlannerConfig, load_planner, train
from astra_sim.distributed.agents import make_agent
from astra_sim.distributed.config import AgentConfig
from astra_sim.eval.rollout import run_agent_episode

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("planner")
    cfg = TrainPlannerConfig(
        planner={"head": "flow", "d_model": 32, "heads": 2, "enc_layers": 1, "dec_layers": 1,
                 "patch": 8, "bev": {"size": 16, "cell_size": 0.3, "pixel_stride": 4}},
        data=PlanDataConfig(scenes=["home"], scene_seeds=[0], episodes=2, max_steps=12),
        data_path=str(root / "samples.npz"), out=str(root / "flow.pt"),
        steps=3, batch_size=4, val_fraction=0.5, log_every=0,
    )  # fmt: skip
    summary = train(cfg)
    return cfg, summary


def test_samples_and_training_summary(checkpoint):
    cfg, summary = checkpoint
    samples = load_samples(cfg.data_path)
    n = len(samples["steps"])
    assert samples["bev"].shape == (n, 4, 16, 16) and samples["esdf"].shape == (n, 16, 16)
    assert samples["steps"].shape == (n, 8, 3) and samples["goal"].shape == (n, 2)
    assert summary["train_samples"] > 0 and summary["val_samples"] > 0
    assert 0.0 <= summary["val/collision_rate"] <= 1.0 and summary["val/ade"] >= 0.0


def test_build_samples_is_deterministic():
    cfg = PlanDataConfig(scenes=["home"], scene_seeds=[0], episodes=1, max_steps=4)
    from astra_sim.agents.astra_local.bev_input import BevConfig

    a = build_samples(cfg, BevConfig(size=16, cell_size=0.3, pixel_stride=4), 8, 0.25)
    b = build_samples(cfg, BevConfig(size=16, cell_size=0.3, pixel_stride=4), 8, 0.25)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_pushes_drive_off_course_and_never_become_labels():
    """A pushed episode leaves the expert's line, and no kept sample's planned horizon
    holds a push step (its label would be the push, not the expert)."""
    from astra_sim.agents.astra_local.bev_input import BevConfig

    bev = BevConfig(size=16, cell_size=0.3, pixel_stride=4)
    plain = PlanDataConfig(scenes=["home"], scene_seeds=[0], episodes=1, max_steps=40)
    pushed = PlanDataConfig(**{**plain.__dict__, "push_prob": 0.2, "push_steps": 4})
    a = build_samples(plain, bev, 8, 0.25)
    b = build_samples(pushed, bev, 8, 0.25)
    assert 0 < len(b["steps"]) < len(a["steps"])  # windows with a push are dropped
    assert not np.array_equal(a["goal"][: len(b["goal"])], b["goal"])  # it went elsewhere
    always = PlanDataConfig(**{**plain.__dict__, "push_prob": 1.0, "push_steps": 50})
    with pytest.raises(ValueError, match="push"):
        build_samples(always, bev, 8, 0.25)  # every horizon holds a push: nothing to learn


def test_checkpoint_roundtrip_and_missing_file(checkpoint, tmp_path):
    cfg, _ = checkpoint
    model = load_planner(cfg.out)
    assert model.cfg.head == "flow" and not model.training
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_planner(tmp_path / "none.pt")
    with pytest.raises(ValueError, match="checkpoint"):
        PlannerAgent(AgentConfig(name="x.y:Z"))


@pytest.mark.parametrize("cls", ["PlannerAgent", "PlannerAgentFallback"])
def test_agent_drives_closed_loop(checkpoint, cls):
    cfg, _ = checkpoint
    name = f"astra_sim.agents.astra_local.planner_agent:{cls}"
    agent = make_agent(AgentConfig(name=name, checkpoint=cfg.out))
    env = gym.make("AstraSim/PointNav-v0", scene="home", scene_seeds=[8], max_episode_steps=6)
    record = run_agent_episode(env, agent, seed=0, rng=np.random.default_rng(0))
    env.close()
    assert record.steps >= 1 and np.isfinite(record.trajectory).all()
    assert agent.plans >= 1 and 0.0 <= agent.fallback_rate <= 1.0


def test_fallback_avoids_a_wall_ahead():
    occ = np.zeros((32, 32), np.float32)
    occ[22:, 10:22] = 1.0  # a wall from 1.0 m ahead, across the path
    clearance = clearance_grid(occ, 0.15)
    from astra_sim.agents.astra_local.planner import PlannerConfig

    cfg = PlannerConfig()
    straight = np.tile([0.2, 0.0, 0.0], (8, 1))
    assert path_clearance(straight, clearance, 0.15) < 0.18
    arc = fallback_arc(np.array([3.0, 0.0]), clearance, cfg, 0.18)
    assert path_clearance(arc, clearance, 0.15) >= 0.18
