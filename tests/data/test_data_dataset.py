"""The episode dataset, written without Ray (``ray.workers=0``): shards read back as the
env's own observations, the meta files agree with the data, a PyTorch Dataset serves it,
an interrupted collection resumes without loss or duplicates, and a folder holding
something else is refused untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from conftest import write_panorama_rig

pytest.importorskip("pyarrow")
torch = pytest.importorskip("torch")

from astra_sim.core.recipe import from_dict  # noqa: E402
from astra_sim.data import DatasetExistsError, EpisodeDataset  # noqa: E402
from astra_sim.data.format import shard_name  # noqa: E402
from astra_sim.distributed.collect import collect  # noqa: E402
from astra_sim.distributed.config import CollectConfig  # noqa: E402
from astra_sim.distributed.worker import episode_jobs  # noqa: E402


def small_config(tmp, out, **agent) -> CollectConfig:
    rig = write_panorama_rig(tmp / "rig.yaml", 24)
    env = {"scenes": ["home"], "scene_seeds": [0, 1], "rig": rig, "max_steps": 30,
           "max_geodesic": 3.0, "episodes": 3, "seed": 5}  # fmt: skip
    return from_dict(
        CollectConfig,
        {"out": str(out), "env": env, "ray": {"workers": 0}, "agent": agent,
         "features": ["rgb", "depth", "semantic", "imu", "wheel", "goal"]},
    )  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dataset")
    torch.set_num_threads(1)
    config = small_config(tmp, tmp / "ds", name="expert", action_noise=[0.05, 0.1],
                          recovery_prob=0.1, recovery_steps=3)  # fmt: skip
    info = collect(config)
    return config, info


def test_shards_hold_the_envs_own_observations(dataset):
    config, info = dataset
    ds = EpisodeDataset(config.out)
    assert info["complete"] and info["total_episodes"] == 3 == len(ds)
    assert info["total_frames"] == sum(len(ds.read_episode(i)["action"]) for i in range(3))
    job = episode_jobs(config.env)[1]
    env = gym.make("AstraSim/PointNav-v0", scene="home", scene_seeds=[0, 1],
                   rig=config.env.rig, max_geodesic=3.0, sim={"render_threads": 1})  # fmt: skip
    obs, info0 = env.reset(seed=job.seed)
    episode = ds.read_episode(1)
    np.testing.assert_array_equal(episode["observation.rgb"][0], obs["rgb"])
    np.testing.assert_array_equal(episode["observation.semantic"][0], obs["semantic"])
    np.testing.assert_allclose(episode["observation.depth"][0], obs["depth"], atol=5e-4)
    np.testing.assert_array_equal(episode["observation.imu"][0], obs["imu"])
    np.testing.assert_array_equal(episode["info.pose"][0], info0["pose"].astype(np.float32))
    assert list(episode["frame_index"]) == list(range(len(episode["action"])))
    assert (episode["episode_index"] == 1).all() and episode["next.done"][-1]
    for name, spec in ds.features.items():
        assert episode[name].shape[1:] == tuple(s for s in spec["shape"] if spec["shape"] != [1])
    # Noise and pushes: executed actions differ from the expert's labels somewhere.
    assert not np.array_equal(episode["action"], episode["action.expert"])


def test_meta_files_agree_with_the_data(dataset):
    config, _ = dataset
    ds = EpisodeDataset(config.out)
    info = ds.info
    assert info["fps"] == 10.0 and len(info["rig"]["cameras"]) == 4
    assert info["scenes"]["seeds"] == [0, 1] and info["seeds"]["campaign"] == 5
    rgb = np.concatenate([ds.read_episode(i)["observation.rgb"] for i in range(3)])
    np.testing.assert_allclose(ds.stats["observation.rgb"]["mean"], rgb.mean(axis=(0, 1, 2, 3)))
    imu = np.concatenate([ds.read_episode(i)["observation.imu"] for i in range(3)])
    np.testing.assert_allclose(ds.stats["observation.imu"]["std"], imu.std(axis=(0, 1)), rtol=1e-5)
    assert "observation.semantic" not in ds.stats  # labels, not quantities
    lines = (ds.root / "meta" / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(line)["episode_index"] for line in lines] == [0, 1, 2]
    assert not list(ds.root.rglob("*.tmp"))  # atomic writes leave no temporary files


def test_torch_dataset_serves_steps(dataset):
    config, info = dataset
    steps = EpisodeDataset(config.out).torch_dataset()
    assert len(steps) == info["total_frames"]
    loader = torch.utils.data.DataLoader(steps, batch_size=4)
    batch = next(iter(loader))
    assert batch["observation.rgb"].shape == (4, 4, 24, 24, 3)
    assert batch["observation.rgb"].dtype == torch.uint8
    assert batch["action"].shape == (4, 2) and batch["frame_index"].tolist() == [0, 1, 2, 3]


def test_resume_redoes_only_the_missing_episode(dataset, tmp_path):
    config, _ = dataset
    before = EpisodeDataset(config.out)
    out = tmp_path / "copy"
    shutil.copytree(config.out, out)
    (out / shard_name(1)).unlink()  # an interrupted run: episode 1 never finished
    (out / "meta" / "stats.json").unlink()
    half = out / "data" / "chunk-000" / ".episode_000001.parquet.x1y2.tmp"
    half.write_bytes(b"PAR1 cut short")  # the driver died while renaming it into place
    rig_dir = Path(config.env.rig).parent  # the same rig file: part of the recipe
    info = collect(small_config(rig_dir, out, **_agent(config)))
    assert info["skipped"] == 2 and info["total_episodes"] == 3 and info["complete"]
    after = EpisodeDataset(out)
    assert not half.exists() and after.stats == before.stats
    for i in range(3):
        a, b = before.read_episode(i), after.read_episode(i)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def _agent(config):
    return {"name": "expert", "action_noise": list(config.agent.action_noise),
            "recovery_prob": config.agent.recovery_prob, "recovery_steps": 3}  # fmt: skip


def test_a_folder_holding_something_else_is_refused_untouched(dataset, tmp_path):
    config, _ = dataset
    out = tmp_path / "other"
    shutil.copytree(config.out, out)
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    other = small_config(Path(config.env.rig).parent, out, name="random")
    with pytest.raises(DatasetExistsError, match=r"different dataset.*agent\.name"):
        collect(other)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DatasetExistsError, match="holds no dataset"):
        collect(small_config(tmp_path, foreign, name="expert"))
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_collect_refuses_checkpoint_agents_and_missing_features(tmp_path):
    with pytest.raises(ValueError, match="collect runs the expert or random agent"):
        collect(small_config(tmp_path, tmp_path / "x", name="sb3", checkpoint="a.zip"))
    config = small_config(tmp_path, tmp_path / "y", name="expert")
    config.features = ["goal_image"]
    with pytest.raises(ValueError, match="goal_image are not in this task's observation"):
        collect(config)
    assert not (tmp_path / "y").exists()
