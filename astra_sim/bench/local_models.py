"""Training throughput of the Astra-Local models at their shipped recipe sizes.

For each recipe (small and paper-sized, of the 3D encoder, the odometry head and the
flow-matching planner) it builds the model, feeds seeded synthetic batches of the
recipe's shapes and times full optimiser steps (forward, backward, AdamW), after warm-up
steps, synchronising the device around the timed loop. It prints a table and writes a
JSON: samples per second tell what a budget buys on this machine, and the ratio of a
recipe's speed on CUDA to its speed on the CPU is the comparison that travels between
machines.

    python -m astra_sim.bench.local_models --device cpu --sizes small --out bench.json
    python -m astra_sim.bench.local_models --device cuda --sizes small,paper --out gpu.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from astra_sim.core.fileio import atomic_write

RECIPES = Path(__file__).resolve().parents[2] / "agents"
MODELS = ("encoder", "odometry", "planner")


def _recipe(model: str, size: str) -> Any:
    from astra_sim.core.recipe import load_recipe

    path = RECIPES / f"astra_local_{model}_{size}.yaml"
    if model == "encoder":
        from astra_sim.agents.astra_local.train_encoder import EncoderTrainConfig as Cfg
    elif model == "odometry":
        from astra_sim.agents.astra_local.train_odometry import OdometryTrainConfig as Cfg
    else:
        from astra_sim.agents.astra_local.train_planner import TrainPlannerConfig as Cfg
    return load_recipe(Cfg, path)


def build(model: str, size: str, device: str, batch: int | None, gen: torch.Generator):
    """(module, loss closure, samples per step) for one recipe on ``device``."""
    cfg = _recipe(model, size)
    b = batch or cfg.batch_size

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=gen).to(device)

    if model == "encoder":
        from astra_sim.agents.astra_local.encoder3d import Encoder3D

        net = Encoder3D(cfg.encoder).to(device)
        n, s = net.num_cameras, cfg.encoder.vit.image_size
        rgb = (255 * rand(b, n, s, s, 3)).to(torch.uint8)
        depth = 0.5 + 4 * rand(b, n, s, s)
        loss_gen = torch.Generator().manual_seed(0)  # CPU: seeded draws move to the device
        return net, lambda: net.loss(rgb, depth, loss_gen)[0], b
    if model == "odometry":
        from astra_sim.agents.astra_local.train_odometry import build_model

        net = build_model(cfg).to(device)
        n, s, steps = net.encoder.num_cameras, cfg.encoder.vit.image_size, cfg.chunk
        data = {
            "rgb": (255 * rand(b, steps + 1, n, s, s, 3)).to(torch.uint8),
            "imu": rand(b, steps, 20, 6),
            "wheel": 0.02 * rand(b, steps, 10, 2),
            "mask": torch.ones(b, steps, dtype=torch.bool, device=device),
            "target": 0.05 * rand(b, steps, 3),
        }
        return net, lambda: net.loss(data)[0], b * steps
    from astra_sim.agents.astra_local.planner import build_planner

    pc = cfg.planner
    net = build_planner(pc).to(device)
    k = pc.bev.size
    steps = torch.zeros(b, pc.horizon, 3)
    steps[..., 0] = 0.15
    data = {
        "bev": rand(b, pc.bev.channels, k, k),
        "occupancy": (rand(b, k, k) > 0.8).float(),
        "velocity": rand(b, 2),
        "goal": 3 * rand(b, 2),
        "steps": steps.to(device),
        "esdf": 0.1 + rand(b, k, k),
    }
    loss_gen = torch.Generator().manual_seed(0)  # CPU: seeded draws move to the device
    return net, lambda: net.loss(data, loss_gen)[0], b


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure(
    model: str, size: str, device: str, steps: int, warmup: int, batch: int | None
) -> dict[str, Any]:
    """Timed optimiser steps of one recipe; samples are frames, windows or plans."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    net, loss_fn, samples = build(model, size, device, batch, gen)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    for _ in range(warmup):
        opt.zero_grad(set_to_none=True)
        loss_fn().backward()
        opt.step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss_fn().backward()
        opt.step()
    _sync(device)
    seconds = (time.perf_counter() - start) / steps
    return {
        "model": model,
        "size": size,
        "device": device,
        "parameters": sum(p.numel() for p in net.parameters()),
        "samples_per_step": samples,
        "seconds_per_step": seconds,
        "samples_per_s": samples / seconds,
        "peak_gpu_mib": (
            torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--sizes", default="small", help="comma list of small, paper")
    parser.add_argument("--models", default=",".join(MODELS), help="comma list of models")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per recipe")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--batch", type=int, default=None, help="batch size (recipe's)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/local_models.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for size in args.sizes.split(","):
        for model in args.models.split(","):
            if model not in MODELS or size not in ("small", "paper"):
                parser.error(f"unknown model {model!r} or size {size!r}")
            if args.device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
            row = measure(model, size, args.device, args.steps, args.warmup, args.batch)
            rows.append(row)
            print(
                f"{model:9s} {size:6s} {args.device:5s} {row['parameters'] / 1e6:8.2f} M params "
                f"{row['seconds_per_step'] * 1e3:9.1f} ms/step {row['samples_per_s']:9.1f} "
                "samples/s",
                flush=True,
            )
    meta = {"torch": torch.__version__, "threads": args.threads}
    if args.device.startswith("cuda"):
        meta["gpu"] = torch.cuda.get_device_name()
    atomic_write(args.out, json.dumps({"meta": meta, "rows": rows}, indent=1).encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
