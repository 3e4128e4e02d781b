"""Shared pieces of the Astra-Global MLLM tests: the tiny model, a small map and dataset.

Each is built once per test session (functools.cache) in one temp folder, so the test
modules share them; everything is seeded, so every run builds the same bytes.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("trl")
pytest.importorskip("peft")

SMALL_MAP = {"travel": 1.0, "turn_deg": 60.0, "spacing": 4.0}


@functools.cache
def work_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="astra-llm-tests-"))


@functools.cache
def tiny_model() -> Path:
    """The tiny random Qwen2.5-VL checkpoint (seed 0)."""
    import torch

    from astra_sim.agents.astra_global.mllm.model import build_tiny_model

    torch.set_num_threads(1)
    return build_tiny_model(work_dir() / "tiny")


@functools.cache
def small_world():
    """(scene, map) of home seed 0 with a sparse map (58 nodes, 26 landmarks)."""
    from astra_sim.mapping.build import MapConfig
    from astra_sim.mapping.cache import cached_map
    from astra_sim.scenes.generators import generate_scene

    return generate_scene("home", 0), cached_map("home", 0, MapConfig(**SMALL_MAP))


@functools.cache
def queries(count: int = 2):
    from astra_sim.eval.localization import QueryConfig, make_queries
    from astra_sim.render.rig import Rig

    scene, topo = small_world()
    return make_queries(scene, topo, Rig.from_name("default"), QueryConfig(count, query_scale=1))


def data_recipe(out: Path, **changes):
    from astra_sim.agents.astra_global.mllm.data import DataRecipe, MapSection

    fields = dict(
        out=str(out), kinds=["home"], train_seeds=[1], test_seeds=[0], map=MapSection(**SMALL_MAP),
        queries_per_scene=2, candidates=2, references=2, max_prompt_tokens=400,
        tokenizer=str(tiny_model()),
    )  # fmt: skip
    fields.update(changes)
    return DataRecipe(**fields)


@functools.cache
def small_dataset() -> Path:
    """Every task, home seed 1 (train) and 0 (test), two queries per scene."""
    from astra_sim.agents.astra_global.mllm.data import write_global_datasets

    out = work_dir() / "data"
    write_global_datasets(data_recipe(out), progress=False)
    return out


def train_section(**changes):
    from astra_sim.agents.astra_global.mllm.recipes import TrainSection

    fields = dict(
        max_steps=2, learning_rate=1e-3, batch_size=2, logging_steps=1, use_cpu=True, bf16=False
    )
    fields.update(changes)
    return TrainSection(**fields)
