"""The envs on habitat scene datasets: ``gym.make(..., scene_dataset=PATH, episodes=PATH)``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import astra_sim  # noqa: F401  (registers the envs)
from astra_sim.eval.rollout import run_expert_episode
from astra_sim.scenes.habitat import export_habitat, load_habitat_scene
from astra_sim.tasks import EpisodeSampler
from astra_sim.tasks.habitat_episodes import write_pointnav
from tests.conftest import cached_scene, write_panorama_rig
from tests.scenes.habitat_files import pointnav_episode, write_episodes, write_room_dataset


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A generated home written as a habitat dataset with 4 PointNav episodes."""
    root = tmp_path_factory.mktemp("habitat")
    scene = cached_scene("home", 1)
    out = export_habitat(scene, root / "ds")
    sampler = EpisodeSampler(scene, scene.navgrid(), np.random.default_rng(5), min_geodesic=2.0)
    episodes = [sampler.sample() for _ in range(4)]
    path = write_pointnav(root / "ep.json.gz", episodes, out.scene_id, str(out.config))
    return out, path, episodes, write_panorama_rig(root / "rig.yaml", 16)


def test_expert_succeeds_on_imported_episodes(exported):
    out, path, episodes, rig = exported
    env = gym.make("AstraSim/PointNav-v0", scene_dataset=out.config, episodes=path, rig=rig)
    try:
        records = [run_expert_episode(env, seed=i) for i in range(len(episodes))]
    finally:
        env.close()
    assert [r.episode_id for r in records] == [e.episode_id for e in episodes]
    assert all(r.metrics["success"] == 1.0 for r in records), [r.metrics for r in records]
    assert all(r.metrics["spl"] > 0.8 for r in records)
    assert all(r.scene_kind == "habitat" for r in records)


def test_geodesics_of_the_file_agree_with_our_planner_on_the_imported_scene(exported):
    out, _, episodes, _ = exported
    grid = load_habitat_scene(out.config).navgrid()
    for ep in episodes:  # written from our planner on the original, z-up scene
        d = grid.geodesic_distance(np.asarray(ep.start[:2]), ep.goal.positions[0])
        assert d == pytest.approx(ep.geodesic_distance, rel=0.01)


def test_scene_dataset_alone_samples_episodes(exported):
    out, _, _, rig = exported
    env = gym.make("AstraSim/PointNav-v0", scene_dataset=out.config, rig=rig)
    try:
        obs, info = env.reset(seed=3)
        assert info["scene_kind"] == "habitat" and obs["rgb"].shape == (4, 16, 16, 3)
        base = env.unwrapped
        assert list(base._sims) == [("home-1", None)]  # the sampled episode reused the scene
        obs, *_ = env.step(np.array([0.2, 0.0], np.float32))
        assert obs["semantic"].max() > 0
    finally:
        env.close()


def test_starts_against_a_wall_are_fitted_to_our_robot(tmp_path):
    config = write_room_dataset(tmp_path)
    # habitat's 0.1 m agents stand where our 0.18 m robot does not fit
    eps = [
        pointnav_episode("0", (0.12, 2.0), (4.0, 2.0)),
        pointnav_episode("1", (1.0, 3.0), (4.0, 1.0)),
    ]
    path = write_episodes(tmp_path / "ep.json.gz", eps)
    rig = write_panorama_rig(tmp_path / "rig.yaml", 8)
    env = gym.make("AstraSim/PointNav-v0", scene_dataset=config, episodes=path, rig=rig)
    try:
        _, info = env.reset(seed=0)
        moved = env.unwrapped.episode
        assert moved.info["start_moved_m"] > 0.05 and info["pose"][0] >= 0.18
        env.reset(seed=1)
        assert "start_moved_m" not in env.unwrapped.episode.info
    finally:
        env.close()


def test_habitat_episode_sets_refuse_splits(exported):
    out, path, _, rig = exported
    with pytest.raises(ValueError, match="keep each split in its own file"):
        gym.make(
            "AstraSim/PointNav-v0", scene_dataset=out.config, episodes=path, split="val", rig=rig
        )
