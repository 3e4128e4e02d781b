"""The encoder trainer: stage 3d then stage 4d on synthetic frames, checkpoints reload."""

from __future__ import annotations

import numpy as np
import torch

from astra_sim.agents.astra_local.train_encoder import (
    EncoderTrainConfig,
    load_encoder3d,
    train_encoder,
)
from astra_sim.core.recipe import from_dict


def tiny_episodes() -> list[dict[str, np.ndarray]]:
    """Two 8-frame episodes of random 4 x 32 px frames and depths."""
    rng = np.random.default_rng(0)
    return [
        {
            "rgb": rng.integers(0, 256, (8, 4, 32, 32, 3), dtype=np.uint8),
            "depth": rng.uniform(0.5, 4.0, (8, 4, 32, 32)).astype(np.float32),
        }
        for _ in range(2)
    ]


def tiny_config(out, **kw) -> dict:
    """A stage-3d recipe (as a dict) of a tiny encoder, renderer and 4D head."""
    return {
        "out": str(out), "steps": 3, "batch_size": 2, "futures": 2, "spacing": 2,
        "encoder": {"vit": {"image_size": 32, "dim": 16, "depth": 1}, "feat_dim": 8,
                    "grid": {"extent": 2.0, "cell": 0.5, "z_cells": 2}, "depth_bins": 8,
                    "render": {"rays": 32, "samples": 8}},
        "encoder4d": {"past": 2, "hidden": 16, "heads": 2, "dit_blocks": 1}, **kw,
    }  # fmt: skip


def test_two_stages_write_checkpoints(tmp_path):
    torch.set_num_threads(1)
    episodes = tiny_episodes()
    tiny = tiny_config(tmp_path)
    log3 = train_encoder(from_dict(EncoderTrainConfig, tiny), episodes)
    enc = load_encoder3d(tmp_path / "encoder3d.pt")
    assert enc(torch.from_numpy(episodes[0]["rgb"][:1])).shape == (1, 8, 2, 8, 8)
    log4 = train_encoder(from_dict(EncoderTrainConfig, {**tiny, "stage": "4d"}), episodes)
    assert (tmp_path / "encoder4d.pt").is_file()
    for log in (log3, log4):
        assert all(np.isfinite(row["loss"]) for row in log["log"])
    assert "voxel_l1" in log4["log"][-1]
