"""Astra-Local trainers on Ray Train (``ray.workers=2``) against the plain PyTorch path:
the run reports two workers, rank 0 writes the checkpoint and TensorBoard events, the
loss falls, and both workers end on the same weights (the trainers check it, so a run
whose gradients were not averaged fails)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "distributed"))
from distributed_helpers import local_ray
from test_local_odom_models import slipping_episode, tiny_encoder, tiny_odometry

from astra_sim.agents.astra_local.odometry_data import OdometryChunks
from astra_sim.agents.astra_local.plan_data import save_samples
from astra_sim.agents.astra_local.planner import PlannerConfig
from astra_sim.agents.astra_local.train_odometry import (
    OdometryTrainConfig,
    build_model,
    load_checkpoint,
)
from astra_sim.agents.astra_local.train_odometry import train as train_odometry
from astra_sim.agents.astra_local.train_planner import (
    TrainPlannerConfig,
    load_planner,
)
from astra_sim.agents.astra_local.train_planner import train as train_planner
from astra_sim.agents.astra_local.train_runtime import (
    RayTrainConfig,
    average_gradients,
    world,
)

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    with local_ray(tmp_path_factory):
        yield


def test_odometry_trains_on_two_ray_workers(ray_cluster, tmp_path):
    chunks = OdometryChunks([slipping_episode(i) for i in range(4)], 8)
    cfg = OdometryTrainConfig(
        encoder=tiny_encoder(),
        odometry=tiny_odometry(use_vision=False),
        steps=200,
        batch_size=2,
        chunk=8,
        lr=3e-3,
        log_every=100,
        out=str(tmp_path),
        ray=RayTrainConfig(workers=2),
    )
    fixed = chunks.batch([(0, 20), (1, 12), (2, 23), (3, 9)])
    before = build_model(cfg).loss(fixed)[0].item()
    result = train_odometry(cfg, chunks)
    assert result["workers"] == 2 and result["steps_done"] == 200
    model, loaded = load_checkpoint(tmp_path / "model.pt")
    assert loaded.ray.workers == 2
    with torch.no_grad():
        assert model.loss(fixed)[0].item() < 0.3 * before
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert (tmp_path / "train_log.json").is_file()


def planner_samples(path: Path, channels: int, n: int = 64) -> None:
    """Planner samples with the shapes ``plan_data`` writes (tiny BEV), in 8 episodes."""
    rng = np.random.default_rng(0)
    steps = np.zeros((n, 8, 3), np.float32)
    steps[..., 0] = 0.15
    steps[..., 2] = 0.1 * rng.standard_normal((n, 1))
    save_samples(
        {
            "bev": rng.random((n, channels, 16, 16), dtype=np.float32),
            "occupancy": (rng.random((n, 16, 16)) > 0.8).astype(np.float32),
            "velocity": rng.random((n, 2), dtype=np.float32),
            "goal": 3 * rng.standard_normal((n, 2)).astype(np.float32),
            "steps": steps,
            "esdf": 0.1 + rng.random((n, 16, 16), dtype=np.float32),
            "episode": np.repeat(np.arange(8), n // 8),
        },
        path,
    )


def test_planner_trains_on_two_ray_workers(ray_cluster, tmp_path):
    data = tmp_path / "samples.npz"
    planner = PlannerConfig(
        head="flow", d_model=32, heads=2, enc_layers=1, dec_layers=1, patch=8,
        bev={"size": 16, "cell_size": 0.3},
    )  # fmt: skip
    planner_samples(data, planner.bev.channels)
    cfg = TrainPlannerConfig(
        planner=planner,
        data_path=str(data),
        out=str(tmp_path / "flow.pt"),
        steps=80,
        batch_size=8,
        log_every=10,
        ray=RayTrainConfig(workers=2),
    )
    summary = train_planner(cfg)
    assert summary["workers"] == 2
    assert summary["last_loss"] < summary["first_loss"]
    assert "val/ade" in summary  # rank 0 validated and saved
    load_planner(tmp_path / "flow.pt")
    assert list((tmp_path / "flow.tb").glob("events.out.tfevents.*"))


def test_gradient_averaging_is_a_no_op_in_one_process():
    assert world() == (0, 1)
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.full((3,), 2.0)
    average_gradients([p])
    assert torch.equal(p.grad, torch.full((3,), 2.0))


def test_bad_worker_count_is_named():
    with pytest.raises(ValueError, match=r"ray\.workers"):
        RayTrainConfig(workers=-1)
