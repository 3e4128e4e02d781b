"""Training of the odometry models: the Astra head (any modality subset) and BEV-ODOM.

Both train on the same windows of a collected dataset with the same encoder, optimiser and
budget, with L1 on the relative pose of the last step. A run is a pure function of its
config (seeded batches and initialisation); the checkpoint stores the config with the
weights so evaluation rebuilds the exact model. ``ray.workers > 1`` trains on Ray Train
(``train_runtime``).
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from astra_sim.agents.astra_local.encoder3d import Encoder3D, Encoder3DConfig
from astra_sim.agents.astra_local.odometry import OdometryConfig, OdometryHead, pose_l1
from astra_sim.agents.astra_local.odometry_data import OdometryChunks, load_episodes
from astra_sim.agents.astra_local.train_runtime import (
    RayTrainConfig,
    TrainLog,
    average_gradients,
    broadcast_parameters,
    check_in_sync,
    is_main,
    launch,
    rank_stream,
    recipe_main,
    stop_together,
    world,
)
from astra_sim.agents.baselines.bev_odom import BevOdom, BevOdomConfig
from astra_sim.core.fileio import atomic_write
from astra_sim.core.recipe import from_dict, to_dict
from astra_sim.core.seeding import make_rng

METHODS = ("astra", "bev_odom")


@dataclass
class OdometryTrainConfig:
    """Attributes:
    method: ``astra`` (the odometry head) or ``bev_odom`` (the two-frame baseline).
    data: collected dataset folder (``astra-sim collect``).
    out: folder for ``model.pt`` and ``train_log.json``.
    encoder: the 3D encoder (both methods).
    init_encoder: a stage-3d checkpoint of ``train_encoder`` (rendering-pretrained) to
        start the encoder from, as the paper does; null trains it from scratch.
    odometry: the head (``astra``; ``bev_odom`` takes its correlation sizes and d_model).
    steps: optimiser steps.
    max_minutes: stop early after this wall time (0: no limit); the log says where.
    batch_size: chunks per step.
    chunk: consecutive steps per chunk (each a training target with its own window).
    lr: peak learning rate (AdamW, cosine decay).
    weight_decay: AdamW weight decay.
    episodes: use the first n episodes of ``data`` (0: all).
    seed: initialisation and batch order.
    log_every: steps between log lines.
    threads: torch CPU threads (per worker).
    device: ``cpu`` or ``cuda`` (with Ray, each worker's own GPU).
    ray: Ray Train workers (``ray.workers > 1``); each draws ``batch_size`` chunks a step.
    """

    method: str = "astra"
    data: str = "outputs/data/pointnav"
    out: str = "outputs/odometry/astra"
    encoder: Encoder3DConfig = field(default_factory=Encoder3DConfig)
    init_encoder: str | None = None
    odometry: OdometryConfig = field(default_factory=OdometryConfig)
    steps: int = 300
    max_minutes: float = 0.0
    batch_size: int = 2
    chunk: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    episodes: int = 0
    seed: int = 0
    log_every: int = 25
    threads: int = 1
    device: str = "cpu"
    ray: RayTrainConfig = field(default_factory=RayTrainConfig)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown odometry method {self.method!r}; valid: {METHODS}")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("OdometryTrainConfig needs steps >= 1 and batch_size >= 1")


class AstraOdometry(nn.Module):
    """The 3D encoder (when vision is on) and the odometry head, on dataset batches."""

    def __init__(self, encoder: Encoder3DConfig, odometry: OdometryConfig) -> None:
        super().__init__()
        self.window = odometry.window
        self.cfg = odometry
        self.encoder = Encoder3D(encoder) if odometry.use_vision else None
        channels = self.encoder.bev_channels if self.encoder else 0
        self.head = OdometryHead(odometry, channels, encoder.grid.xy_cells)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Frames (B, F, N, S, S, 3) -> BEV (B, F, C, X, Y)."""
        b, f = images.shape[:2]
        bev = Encoder3D.bev(self.encoder(images.reshape(b * f, *images.shape[2:])))
        return bev.reshape(b, f, *bev.shape[1:])

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """A chunk (see ``OdometryChunks``) -> the pose of every step (B, S, 3)."""
        c = self.cfg
        return self.head(
            self.encode(batch["rgb"]) if c.use_vision else None,
            batch["imu"] if c.use_imu else None,
            batch["wheel"] if c.use_wheel else None,
            batch.get("mask"),
        )

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        loss = pose_l1(self(batch), batch["target"], batch.get("mask"))
        return loss, {"odom/l1": loss.item()}


def build_model(cfg: OdometryTrainConfig) -> nn.Module:
    """The untrained model of ``cfg`` (initialised from ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    if cfg.method == "bev_odom":
        o = cfg.odometry
        return BevOdom(BevOdomConfig(cfg.encoder, o.corr_radius, o.corr_dim, o.d_model))
    return AstraOdometry(cfg.encoder, cfg.odometry)


def save_checkpoint(model: nn.Module, cfg: OdometryTrainConfig, path: str | Path) -> Path:
    """Config and weights in one file, written atomically."""
    buf = io.BytesIO()
    torch.save({"config": to_dict(cfg), "state_dict": model.state_dict()}, buf)
    return atomic_write(path, buf.getvalue())


def load_checkpoint(path: str | Path) -> tuple[nn.Module, OdometryTrainConfig]:
    """The trained model (eval mode) and its config.

    Raises:
        FileNotFoundError: naming the path if it does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"odometry checkpoint {path} does not exist")
    state = torch.load(path, map_location="cpu", weights_only=True)
    cfg = from_dict(OdometryTrainConfig, state["config"], str(path))
    model = build_model(cfg)
    model.load_state_dict(state["state_dict"])
    return model.eval(), cfg


def train(cfg: OdometryTrainConfig, chunks: OdometryChunks | None = None) -> dict[str, Any]:
    """Train, save ``out/model.pt`` and return the log (losses, steps done, seconds).

    With ``cfg.ray.workers > 1`` on Ray Train (each worker loads the data itself unless
    ``chunks`` is given, which is then sent to every worker).
    """
    return launch(
        lambda c: _train_worker(c, chunks), cfg, cfg.ray, cfg.out, f"odometry-{cfg.method}"
    )


def _train_worker(cfg: OdometryTrainConfig, chunks: OdometryChunks | None) -> dict[str, Any]:
    torch.set_num_threads(cfg.threads)
    _, size = world()
    model = build_model(cfg)
    if cfg.init_encoder and getattr(model, "encoder", None) is not None:
        state = torch.load(cfg.init_encoder, map_location="cpu", weights_only=True)
        model.encoder.load_state_dict(state["encoder"])
    model.to(cfg.device)
    broadcast_parameters(model)
    if chunks is None:
        n = list(range(cfg.episodes)) if cfg.episodes else None
        chunks = OdometryChunks(load_episodes(cfg.data, cfg.encoder.vit.image_size, n), cfg.chunk)
    rng = make_rng(cfg.seed, "odometry/batches", *rank_stream())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 20) * 0.5 * (1 + math.cos(math.pi * s / cfg.steps))
    )
    log: list[dict[str, float]] = []
    bar = TrainLog(Path(cfg.out) / "tb", cfg.steps, f"train {cfg.method}")
    start = time.monotonic()
    step = 0
    model.train()
    for step in range(1, cfg.steps + 1):
        batch = {k: v.to(cfg.device) for k, v in chunks.sample(cfg.batch_size, rng).items()}
        loss, info = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        average_gradients(model.parameters())
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        minutes = (time.monotonic() - start) / 60
        shown = step % cfg.log_every == 0 or step == 1
        bar.step(step, {**info, "lr": sched.get_last_lr()[0]}, show=shown)
        if shown:
            log.append({"step": step, "minutes": round(minutes, 2), **info})
        # Every worker must stop at the same step: rank 0's clock decides.
        if cfg.max_minutes and stop_together(minutes >= cfg.max_minutes):
            break
    bar.close()
    check_in_sync(model)
    result = {
        "method": cfg.method,
        "modalities": cfg.odometry.modalities if cfg.method == "astra" else ["vision"],
        "steps_done": step,
        "workers": size,
        "seconds": round(time.monotonic() - start, 1),
        "train_steps_in_data": len(chunks),
        "parameters": sum(p.numel() for p in model.parameters()),
        "log": log,
    }
    if is_main():
        out = Path(cfg.out)
        save_checkpoint(model.eval().cpu(), cfg, out / "model.pt")
        atomic_write(out / "train_log.json", json.dumps(result, indent=1).encode())
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m astra_sim.agents.astra_local.train_odometry --recipe R [key=value ...]``."""
    report = lambda result: {k: v for k, v in result.items() if k != "log"}  # noqa: E731
    return recipe_main(OdometryTrainConfig, train, argv, main.__doc__, report)


__all__ = [
    "METHODS",
    "AstraOdometry",
    "OdometryTrainConfig",
    "build_model",
    "load_checkpoint",
    "main",
    "save_checkpoint",
    "train",
]


if __name__ == "__main__":
    raise SystemExit(main())
