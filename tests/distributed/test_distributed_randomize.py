"""A collected dataset records its randomization: the ranges in ``meta/info.json`` and
each episode's draws in ``meta/episodes.jsonl``, equal to what the env drew."""

from __future__ import annotations

import json

import gymnasium as gym
from distributed_helpers import SMALL_ENV, rig_recipe

from astra_sim.core.recipe import from_dict
from astra_sim.distributed.collect import collect
from astra_sim.distributed.config import CollectConfig
from astra_sim.distributed.worker import episode_jobs

BLOCK = {"lighting": {"intensity": [0.7, 1.3]}, "wheel": {"radius_error": [-0.02, 0.02]}}


def test_a_dataset_records_the_ranges_and_every_episodes_draws(tmp_path):
    env = {**SMALL_ENV, "episodes": 2, "max_steps": 5, "rig": rig_recipe(tmp_path, 16)}
    cfg = from_dict(CollectConfig, {"out": str(tmp_path / "data"), "ray": {"workers": 0},
                                    "env": {**env, "randomize": BLOCK}})  # fmt: skip
    collect(cfg)
    info = json.loads((tmp_path / "data" / "meta" / "info.json").read_text())
    assert info["randomize"] == {
        "lighting": {"intensity": [0.7, 1.3]},
        "wheel": {"radius_error": [-0.02, 0.02]},
    }
    assert info["recipe"]["env"]["randomize"] == BLOCK
    lines = (tmp_path / "data" / "meta" / "episodes.jsonl").read_text().splitlines()
    episodes = [json.loads(line) for line in lines]
    assert len(episodes) == 2

    # The env of the same recipe, reset with the job's seed, draws the very same values.
    job = episode_jobs(cfg.env)[1]
    probe = gym.make("AstraSim/PointNav-v0", scene="home", scene_seeds=env["scene_seeds"],
                     rig=env["rig"], max_geodesic=env["max_geodesic"], randomize=BLOCK)  # fmt: skip
    _, reset_info = probe.reset(seed=job.seed)
    probe.close()
    assert episodes[1]["randomization"] == reset_info["randomization"]
    assert episodes[0]["randomization"] != episodes[1]["randomization"]
    assert set(episodes[0]["randomization"]) == {"seed", "lighting", "wheel"}
