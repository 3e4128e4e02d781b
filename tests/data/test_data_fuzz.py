"""Fuzzing a dataset's meta/ files: a damaged info.json or stats.json is refused with
DatasetFormatError (reading) or DatasetExistsError (resuming a collection), or the dataset
still reads back; never a bare exception."""

from __future__ import annotations

import json
import shutil

import gymnasium as gym
import numpy as np
import pytest
from fuzzing import CHEAP, FUZZ, Tally, damaged_json, expect_named
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("pyarrow")

from astra_sim.data import DatasetExistsError, EpisodeDataset
from astra_sim.data.episode import EpisodeBuffer
from astra_sim.data.format import CODEBASE_VERSION, feature_spec
from astra_sim.data.reader import DatasetFormatError
from astra_sim.data.writer import DatasetWriter

pytestmark = pytest.mark.timeout(120)
RECIPE = {"env": {"task": "pointnav"}, "features": ["rgb", "imu"]}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """One episode of three steps with an image and a vector feature, written as collect
    writes it."""
    root = tmp_path_factory.mktemp("ds") / "data"
    space = gym.spaces.Dict({
        "rgb": gym.spaces.Box(0, 255, (1, 4, 6, 3), np.uint8),
        "imu": gym.spaces.Box(-1, 1, (5, 6), np.float32),
    })  # fmt: skip
    writer = DatasetWriter(root, RECIPE)
    info = {"codebase_version": CODEBASE_VERSION, "features": feature_spec(space, ["rgb", "imu"],
            False), "total_episodes": 0, "total_frames": 0}  # fmt: skip
    writer.open(info)
    buffer, rng = EpisodeBuffer(0, ["rgb", "imu"], 10.0), np.random.default_rng(0)
    for t in range(3):
        obs = {"rgb": rng.integers(0, 255, (1, 4, 6, 3), dtype=np.uint8),
               "imu": rng.normal(size=(5, 6)).astype(np.float32)}  # fmt: skip
        pose = {"pose": np.array([t, 0.0, 0.0]), "collided": False}
        buffer.add(obs, np.array([0.5, 0.0]), pose, -0.01, t == 2, False)
    writer.write_episode(0, buffer.to_parquet({"episode_id": "e0"})[0])
    writer.finish([0])
    meta = {name: json.loads((root / "meta" / name).read_text())
            for name in ("info.json", "stats.json")}  # fmt: skip
    return root, meta


def use(ds: EpisodeDataset) -> None:
    """What a trainer does first: read an episode, decode a row."""
    for index in ds.episode_indices:
        episode = ds.read_episode(index)
        assert len(episode["action"]) == 3


def damaged_copy(dataset, tmp_path_factory, name: str, data) -> object:
    root, meta = dataset
    copy = tmp_path_factory.mktemp("case") / "data"
    shutil.copytree(root, copy)
    (copy / "meta" / name).write_bytes(data.draw(damaged_json(meta[name])))
    return copy


@settings(FUZZ, max_examples=CHEAP // 5)
@given(data=st.data(), name=st.sampled_from(("info.json", "stats.json")))
def test_damaged_meta_is_refused_by_name_or_reads(dataset, tmp_path_factory, data, name):
    root = damaged_copy(dataset, tmp_path_factory, name, data)
    ds = expect_named(f"meta/{name}", lambda: EpisodeDataset(root), DatasetFormatError)
    if ds is not None:
        expect_named(f"meta/{name} (episode)", lambda: use(ds), DatasetFormatError)


@settings(FUZZ, max_examples=CHEAP // 5)
@given(data=st.data())
def test_damaged_info_on_resume_is_refused_by_name(dataset, tmp_path_factory, data):
    root = damaged_copy(dataset, tmp_path_factory, "info.json", data)
    expect_named("resume info.json", lambda: DatasetWriter(root, RECIPE).check(),
                 DatasetExistsError)  # fmt: skip


def test_dataset_fuzzing_reached_both_outcomes():
    counts = Tally.counts.get("meta/info.json")
    if counts is None:
        pytest.skip("run with the fuzz tests above")
    print({k: v for k, v in Tally.counts.items() if "json" in k})
    assert counts["accepted"] > 0 and counts["refused"] > 0
