"""The agents evaluation can run, in this process (``ray.workers=0``): a random agent, an
SB3 checkpoint saved by a real (tiny) PPO run, and bad agent input."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
from distributed_helpers import rig_recipe

from astra_sim.core.recipe import RecipeError, from_dict, load_recipe
from astra_sim.distributed.config import EvalConfig
from astra_sim.distributed.evaluate import evaluate_nav

ENV = {"scenes": ["home"], "scene_seeds": [0], "max_steps": 20, "max_geodesic": 3.0,
       "episodes": 2, "seed": 4}  # fmt: skip


def run(tmp_path, folder, env, **agent):
    config = {"out": str(tmp_path / folder), "env": env, "plots": False,
              "ray": {"workers": 0}, "agent": agent}  # fmt: skip
    return evaluate_nav(from_dict(EvalConfig, config))


def test_random_agent_is_seeded_per_episode(tmp_path):
    env = {**ENV, "rig": rig_recipe(tmp_path, 16)}
    a = run(tmp_path, "a", env, name="random")
    b = run(tmp_path, "b", env, name="astra_sim.distributed.agents:RandomAgent")  # by path
    assert a == b and a["home"]["episodes"] == 2
    lines = (tmp_path / "a" / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(x)["steps"] for x in lines] == [20, 20]  # a random walk never stops


def test_sb3_checkpoint_is_evaluated(tmp_path):
    torch = pytest.importorskip("torch")
    sb3 = pytest.importorskip("stable_baselines3")
    from astra_sim.envs.wrappers import SB3View

    torch.set_num_threads(1)
    rig = rig_recipe(tmp_path, 36)  # SB3's default CNN needs 36 x 36 images or more
    train_env = SB3View(gym.make("AstraSim/PointNav-v0", scene="home", rig=rig,
                                 max_episode_steps=20))  # fmt: skip
    model = sb3.PPO("MultiInputPolicy", train_env, n_steps=16, batch_size=16, n_epochs=1,
                    seed=0, device="cpu")  # fmt: skip
    model.learn(16)
    model.save(tmp_path / "ppo.zip")
    summary = run(tmp_path, "ppo", {**ENV, "rig": rig}, name="sb3",
                  checkpoint=str(tmp_path / "ppo.zip"))  # fmt: skip
    assert summary["home"]["episodes"] == 2
    assert 0.0 <= summary["home"]["spl"] <= 1.0


def test_bad_agent_input_is_named(tmp_path):
    valid = r"unknown agent 'astro'; valid agents are: astra, expert, package\.module:Class"
    with pytest.raises(RecipeError, match=valid):
        load_recipe(EvalConfig, None, ["agent.name=astro"])
    with pytest.raises(RecipeError, match=r"agent 'sb3' needs agent\.checkpoint"):
        load_recipe(EvalConfig, None, ["agent.name=sb3"])
    with pytest.raises(FileNotFoundError, match=r"nope\.zip does not exist"):
        run(tmp_path, "x", ENV, name="sb3", checkpoint=str(tmp_path / "nope.zip"))
    with pytest.raises(ValueError, match=r"'no\.such:Agent' cannot be imported"):
        run(tmp_path, "x", ENV, name="no.such:Agent")
    with pytest.raises(RecipeError, match="apply to the expert only"):
        load_recipe(EvalConfig, None, ["agent.name=random", "agent.recovery_prob=0.1"])
    assert not (tmp_path / "x").exists()


def test_a_saved_episode_set_is_played_in_order(tmp_path):
    from astra_sim.tasks import EpisodeSet

    episodes = EpisodeSet.generate("pointnav", "home", [0], 3, rng_seed=2, max_geodesic=3.0)
    episodes.save(tmp_path / "episodes.json")
    env = {"scenes": ["home"], "max_steps": 20, "episodes": 0, "rig": rig_recipe(tmp_path, 16),
           "episodes_file": str(tmp_path / "episodes.json")}  # fmt: skip
    run(tmp_path, "set", env, name="expert")
    lines = (tmp_path / "set" / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(x)["episode_id"] for x in lines] == [e.episode_id for e in episodes]
