"""Collection on a real local Ray (2 CPUs): 2 workers write the same dataset as one
process without Ray; a worker killed mid-episode is restarted and its episode redone with
nothing lost or duplicated; a run that gives up resumes; the dataset opens as a Ray
Dataset."""

from __future__ import annotations

import pytest
from distributed_helpers import SMALL_ENV, assert_same_dataset, local_ray, rig_recipe

ray = pytest.importorskip("ray")
pytest.importorskip("pyarrow")

from astra_sim.core.recipe import from_dict  # noqa: E402
from astra_sim.data import EpisodeDataset  # noqa: E402
from astra_sim.distributed.collect import collect  # noqa: E402
from astra_sim.distributed.config import CollectConfig  # noqa: E402
from astra_sim.distributed.pool import WorkerFailedError  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """The reference: the campaign collected in this process, without Ray."""
    tmp = tmp_path_factory.mktemp("collect")
    rig = rig_recipe(tmp)

    def config(out, **over) -> CollectConfig:
        data = {"out": str(out), "env": {**SMALL_ENV, "rig": rig},
                "agent": {"action_noise": [0.05, 0.1]}, "ray": {"workers": 2}}  # fmt: skip
        for key, value in over.items():
            data[key] = {**data.get(key, {}), **value}
        return from_dict(CollectConfig, data)

    collect(config(tmp / "local", ray={"workers": 0}))
    with local_ray(tmp_path_factory):
        yield config, EpisodeDataset(tmp / "local")


def test_two_workers_write_what_one_process_writes(campaign, tmp_path):
    config, reference = campaign
    info = collect(config(tmp_path / "ray2"))
    assert info["complete"] and info["total_episodes"] == SMALL_ENV["episodes"]
    assert_same_dataset(EpisodeDataset(tmp_path / "ray2"), reference)

    rows = EpisodeDataset(tmp_path / "ray2").ray_dataset(columns=["episode_index", "action"])
    assert rows.count() == info["total_frames"]


def test_a_killed_worker_loses_and_duplicates_nothing(campaign, tmp_path, capsys):
    config, reference = campaign
    # The hook: the actor running episode 1 calls os._exit at its step 3, on attempt 0.
    out = tmp_path / "crash"
    info = collect(config(out, fault={"crash_episodes": [1], "crash_step": 3}))
    assert "died during episode 1" in capsys.readouterr().out
    assert info["complete"] and info["total_episodes"] == SMALL_ENV["episodes"]
    ds = EpisodeDataset(out)
    assert_same_dataset(ds, reference)
    frames = [int(f) for i in ds.episode_indices for f in ds.read_episode(i)["frame_index"]]
    assert len(frames) == info["total_frames"] == sum(len(range(n)) for n in _lengths(ds))


def _lengths(ds):
    return [len(ds.read_episode(i)["action"]) for i in ds.episode_indices]


def test_an_interrupted_collection_resumes(campaign, tmp_path):
    config, reference = campaign
    out = tmp_path / "resume"
    # Episode 2 kills its worker on every attempt allowed: the run gives up part-way.
    with pytest.raises(WorkerFailedError, match=r"episode 2: its worker died on each of 1 attempt"):
        collect(config(out, fault={"crash_episodes": [2]}, ray={"max_retries": 1}))
    finished = EpisodeDataset(out).episode_indices
    assert 2 not in finished
    info = collect(config(out))  # the same recipe again: a resume
    assert info["skipped"] == len(finished) and info["complete"]
    assert_same_dataset(EpisodeDataset(out), reference)
