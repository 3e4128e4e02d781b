"""The Astra-Local trainers on a CUDA device (``-m gpu``; skipped without one): each runs a
few steps on the GPU, its loss stays finite, and the checkpoint it writes loads on the CPU
and gives the GPU model's outputs there."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_local_enc_train import tiny_config, tiny_episodes
from test_local_odom_models import slipping_episode, tiny_encoder, tiny_odometry
from test_local_train_ray import planner_samples

from astra_sim.agents.astra_local.odometry_data import OdometryChunks
from astra_sim.agents.astra_local.planner import PlannerConfig
from astra_sim.agents.astra_local.train_encoder import (
    EncoderTrainConfig,
    load_encoder3d,
    train_encoder,
)
from astra_sim.agents.astra_local.train_odometry import OdometryTrainConfig, load_checkpoint
from astra_sim.agents.astra_local.train_odometry import train as train_odometry
from astra_sim.agents.astra_local.train_planner import TrainPlannerConfig, load_planner
from astra_sim.agents.astra_local.train_planner import train as train_planner
from astra_sim.core.recipe import from_dict

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def test_odometry_trains_on_the_gpu(tmp_path):
    chunks = OdometryChunks([slipping_episode(i) for i in range(4)], 8)
    cfg = OdometryTrainConfig(
        encoder=tiny_encoder(),
        odometry=tiny_odometry(),  # all modalities: the vision encoder runs on the GPU too
        steps=20,
        batch_size=2,
        chunk=8,
        out=str(tmp_path),
        device="cuda",
    )
    result = train_odometry(cfg, chunks)
    assert all(np.isfinite(row["odom/l1"]) for row in result["log"])
    model, _ = load_checkpoint(tmp_path / "model.pt")
    batch = chunks.episode(1)
    with torch.no_grad():
        cpu = model(batch)
        gpu = model.cuda()({k: v.cuda() for k, v in batch.items()}).cpu()
    torch.testing.assert_close(cpu, gpu, atol=1e-4, rtol=1e-3)


def test_encoder_trains_on_the_gpu(tmp_path):
    episodes = tiny_episodes()
    tiny = tiny_config(tmp_path, device="cuda")
    log3 = train_encoder(from_dict(EncoderTrainConfig, tiny), episodes)
    log4 = train_encoder(from_dict(EncoderTrainConfig, {**tiny, "stage": "4d"}), episodes)
    for log in (log3, log4):
        assert all(np.isfinite(row["loss"]) for row in log["log"])
    enc = load_encoder3d(tmp_path / "encoder3d.pt")
    assert next(enc.parameters()).device.type == "cpu"


def test_planner_trains_on_the_gpu(tmp_path):
    planner = PlannerConfig(
        head="flow", d_model=32, heads=2, enc_layers=1, dec_layers=1, patch=8,
        bev={"size": 16, "cell_size": 0.3},
    )  # fmt: skip
    planner_samples(tmp_path / "samples.npz", planner.bev.channels)
    cfg = TrainPlannerConfig(
        planner=planner,
        data_path=str(tmp_path / "samples.npz"),
        out=str(tmp_path / "flow.pt"),
        steps=40,
        batch_size=8,
        device="cuda",
    )
    summary = train_planner(cfg)
    assert np.isfinite(summary["last_loss"]) and "val/ade" in summary
    load_planner(tmp_path / "flow.pt")  # onto the CPU
