"""Self-supervised training of the 3D and 4D encoders on a collected dataset (RGB + depth).

Stage ``3d`` trains the ViT + LSS encoder and the renderer on single frames (rendering L1
on depth and colour). Stage ``4d`` freezes that encoder, takes the voxels of ``past``
frames ``spacing`` control steps apart and predicts the voxels of the next ``futures``
frames at the same spacing (0.5 s in the paper): L1 to the frozen encoder's voxels of those
frames plus the rendering loss of the predicted voxels against the future images.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from astra_sim.agents.astra_local.encoder3d import Encoder3D, Encoder3DConfig, nearest_depth
from astra_sim.agents.astra_local.encoder4d import Encoder4D, Encoder4DConfig
from astra_sim.agents.astra_local.odometry_data import downsample
from astra_sim.agents.astra_local.train_runtime import (
    RayTrainConfig,
    TrainLog,
    average_gradients,
    broadcast_parameters,
    check_in_sync,
    is_main,
    launch,
    rank_seed,
    rank_stream,
    recipe_main,
    world,
)
from astra_sim.core.fileio import atomic_write
from astra_sim.core.recipe import from_dict, to_dict
from astra_sim.core.seeding import make_rng
from astra_sim.data.reader import EpisodeDataset


@dataclass
class EncoderTrainConfig:
    """Attributes:
    stage: ``3d`` or ``4d``.
    data: dataset folder with rgb and depth.
    out: folder for ``encoder3d.pt`` (stage 3d) or ``encoder4d.pt`` (stage 4d).
    encoder: the 3D encoder.
    encoder4d: the 4D encoder (``encoder4d.past`` past frames).
    futures: future frames predicted (stage 4d).
    spacing: control steps between the frames of a 4D sample (5 = 0.5 s at 10 Hz).
    render_weight: weight of the rendering loss of predicted voxels (stage 4d).
    steps: optimiser steps.
    batch_size: frames (3d) or sequences (4d) per step.
    lr: Adam learning rate.
    episodes: first n episodes of ``data`` (0: all).
    seed: initialisation, batches and rendered rays.
    threads: torch CPU threads (per worker).
    device: ``cpu`` or ``cuda`` (with Ray, each worker's own GPU).
    ray: Ray Train workers (``ray.workers > 1``); each draws ``batch_size`` a step.
    """

    stage: str = "3d"
    data: str = "outputs/data/pointnav"
    out: str = "outputs/astra_local/encoder"
    encoder: Encoder3DConfig = field(default_factory=Encoder3DConfig)
    encoder4d: Encoder4DConfig = field(default_factory=Encoder4DConfig)
    futures: int = 4
    spacing: int = 5
    render_weight: float = 1.0
    steps: int = 200
    batch_size: int = 4
    lr: float = 1e-3
    episodes: int = 0
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    ray: RayTrainConfig = field(default_factory=RayTrainConfig)

    def __post_init__(self) -> None:
        if self.stage not in ("3d", "4d"):
            raise ValueError(f"EncoderTrainConfig.stage must be '3d' or '4d', got {self.stage!r}")


def load_frames(root: str | Path, size: int, episodes: int = 0) -> list[dict[str, np.ndarray]]:
    """Per episode: ``rgb`` (T, N, s, s, 3) uint8 and ``depth`` (T, N, s, s) float32 (the
    nearest depth of each block, 0 where nothing was hit)."""
    ds = EpisodeDataset(root)
    out = []
    for i in range(min(episodes, len(ds)) if episodes else len(ds)):
        e = ds.read_episode(i, ["observation.rgb", "observation.depth"])
        near = nearest_depth(torch.from_numpy(e["observation.depth"]), size)
        out.append({"rgb": downsample(e["observation.rgb"], size), "depth": near.numpy()})
    return out


def _save(obj: dict[str, Any], path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write(path, buf.getvalue())


def load_encoder3d(path: str | Path) -> Encoder3D:
    """A stage-3d checkpoint as an ``Encoder3D`` in eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    cfg = from_dict(EncoderTrainConfig, state["config"], str(path))
    enc = Encoder3D(cfg.encoder)
    enc.load_state_dict(state["encoder"])
    return enc.eval()


def train_encoder(
    cfg: EncoderTrainConfig, episodes: list[dict[str, np.ndarray]] | None = None
) -> dict[str, Any]:
    """Run one stage; writes its checkpoint and ``train_log_<stage>.json``; returns the log.

    With ``cfg.ray.workers > 1`` on Ray Train (``episodes``, if given, go to every worker).
    """
    return launch(
        lambda c: _train_worker(c, episodes), cfg, cfg.ray, cfg.out, f"encoder-{cfg.stage}"
    )


def _train_worker(
    cfg: EncoderTrainConfig, episodes: list[dict[str, np.ndarray]] | None
) -> dict[str, Any]:
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    _, size = world()
    if episodes is None:
        episodes = load_frames(cfg.data, cfg.encoder.vit.image_size, cfg.episodes)
    rng = make_rng(cfg.seed, "encoder", cfg.stage, *rank_stream())
    gen = torch.Generator().manual_seed(rank_seed(cfg.seed))
    out = Path(cfg.out)
    if cfg.stage == "3d":
        enc = Encoder3D(cfg.encoder)
        model: torch.nn.Module = enc
    else:
        enc = load_encoder3d(out / "encoder3d.pt")
        enc.requires_grad_(False)
        model = Encoder4D(cfg.encoder4d, enc.voxel_shape)
        span = (cfg.encoder4d.past + cfg.futures - 1) * cfg.spacing + 1
        episodes = [e for e in episodes if len(e["rgb"]) >= span]
        if not episodes:
            raise ValueError(f"no episode has the {span} steps a 4D sample needs")
    enc.to(cfg.device)
    model.to(cfg.device)
    broadcast_parameters(model)
    trained = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(trained, lr=cfg.lr)
    bar = TrainLog(out / f"tb_{cfg.stage}", cfg.steps, f"train encoder {cfg.stage}")
    log, start = [], time.monotonic()
    for step in range(1, cfg.steps + 1):
        picks = rng.integers(len(episodes), size=cfg.batch_size)
        if cfg.stage == "3d":
            frames = [(k, rng.integers(len(episodes[k]["rgb"]))) for k in picks]
            rgb = torch.from_numpy(np.stack([episodes[k]["rgb"][t] for k, t in frames]))
            depth = torch.from_numpy(np.stack([episodes[k]["depth"][t] for k, t in frames]))
            loss, info = enc.loss(rgb.to(cfg.device), depth.to(cfg.device), gen)
        else:
            loss, info = _loss4d(cfg, enc, model, episodes, picks, rng, gen)
        opt.zero_grad()
        loss.backward()
        average_gradients(trained)
        opt.step()
        shown = step == 1 or step % 25 == 0 or step == cfg.steps
        bar.step(step, {"loss": loss.item(), **info}, show=shown)
        if shown:
            log.append({"step": step, "loss": loss.item(), **info})
    bar.close()
    check_in_sync(model)
    result = {
        "stage": cfg.stage,
        "workers": size,
        "seconds": round(time.monotonic() - start, 1),
        "log": log,
    }
    if not is_main():
        return result
    name = "encoder3d.pt" if cfg.stage == "3d" else "encoder4d.pt"
    key = "encoder" if cfg.stage == "3d" else "encoder4d"
    _save({"config": to_dict(cfg), key: model.cpu().state_dict()}, out / name)
    atomic_write(out / f"train_log_{cfg.stage}.json", json.dumps(result, indent=1).encode())
    return result


def _loss4d(
    cfg: EncoderTrainConfig,
    enc: Encoder3D,
    model: torch.nn.Module,
    episodes: list[dict[str, np.ndarray]],
    picks: np.ndarray,
    rng: np.random.Generator,
    gen: torch.Generator,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Predict the future voxels of one batch of frame sequences; L1 + rendering loss."""
    p, f, s = cfg.encoder4d.past, cfg.futures, cfg.spacing
    rgb, depth = [], []
    for k in picks:
        ep = episodes[k]
        t0 = rng.integers(len(ep["rgb"]) - (p + f - 1) * s)
        idx = t0 + s * np.arange(p + f)
        rgb.append(ep["rgb"][idx])
        depth.append(ep["depth"][idx])
    rgb_t = torch.from_numpy(np.stack(rgb)).to(cfg.device)
    depth_t = torch.from_numpy(np.stack(depth)).to(cfg.device)
    b = len(picks)
    with torch.no_grad():
        voxels = enc(rgb_t.flatten(0, 1)).reshape(b, p + f, *enc.voxel_shape)
    times = torch.arange(1, f + 1, dtype=torch.float32, device=cfg.device).repeat(b, 1) * s * 0.1
    pred = model(voxels[:, :p], times)
    vox_l1 = Encoder4D.voxel_l1(pred, voxels[:, p:])
    render, info = enc.render_loss(pred.flatten(0, 1), rgb_t[:, p:].flatten(0, 1),
                                   depth_t[:, p:].flatten(0, 1), gen)  # fmt: skip
    return vox_l1 + cfg.render_weight * render, {"voxel_l1": vox_l1.item(), **info}


def main(argv: list[str] | None = None) -> int:
    """``python -m astra_sim.agents.astra_local.train_encoder --recipe R [key=value ...]``."""
    last_log = lambda result: result["log"][-1]  # noqa: E731
    return recipe_main(EncoderTrainConfig, train_encoder, argv, main.__doc__, last_log)


__all__ = ["EncoderTrainConfig", "load_encoder3d", "load_frames", "main", "train_encoder"]


if __name__ == "__main__":
    raise SystemExit(main())
