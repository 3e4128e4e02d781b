"""What every Astra-Local trainer shares: Ray Train data parallelism, a progress bar, logs.

A trainer writes one loop and runs it either in this process (``ray.workers`` 0 or 1) or
on Ray Train's ``TorchTrainer`` with ``ray.workers`` processes. On Ray, each worker draws
its own batches (its rank is mixed into the seed), gradients are averaged across workers
with one ``all_reduce`` per step (the models' losses are methods, not ``forward``, so
DDP's forward hooks would not see them), and only rank 0 shows the bar, writes the
TensorBoard events and saves the checkpoint. The effective batch is ``workers x
batch_size``. The same recipe and seed give the same checkpoint on each path it runs.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from astra_sim.core.fileio import atomic_write


@dataclass
class RayTrainConfig:
    """Attributes:
    workers: Ray Train workers; 0 or 1 trains in this process with plain PyTorch.
    address: Ray cluster to join (``auto``, ``ray://...``); None starts a local one.
    cpus_per_worker: CPUs each worker reserves.
    use_gpu: one GPU per worker.
    """

    workers: int = 0
    address: str | None = None
    cpus_per_worker: float = 1.0
    use_gpu: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 0:
            raise ValueError(f"ray.workers must be an int >= 0, got {self.workers!r}")
        if not self.cpus_per_worker > 0:
            raise ValueError(f"ray.cpus_per_worker must be > 0, got {self.cpus_per_worker}")

    @property
    def distributed(self) -> bool:
        return self.workers > 1


def world() -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) outside a process group."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    return world()[0] == 0


def rank_stream() -> tuple[int, ...]:
    """Seed words that give each worker its own batches: none on rank 0, so rank 0 (and a
    single process) draws exactly the stream it would draw without Ray."""
    rank = world()[0]
    return (rank,) if rank else ()


def rank_seed(seed: int) -> int:
    """A torch generator seed per worker (``seed`` itself on rank 0)."""
    return seed + 1_000_003 * world()[0]


def stop_together(stop: bool) -> bool:
    """Rank 0's decision to stop, the same on every worker (the local one outside Ray),
    so that no worker waits in an all-reduce its peers have left."""
    if world()[1] == 1:
        return stop
    flag = torch.tensor([float(stop)])
    torch.distributed.broadcast(flag, src=0)
    return bool(flag.item())


def broadcast_parameters(model: torch.nn.Module) -> None:
    """Make every worker start from rank 0's weights (a no-op outside a process group)."""
    if world()[1] > 1:
        for tensor in [*model.parameters(), *model.buffers()]:
            torch.distributed.broadcast(tensor.data, src=0)


def average_gradients(params: Iterable[torch.nn.Parameter]) -> None:
    """Average the gradients over the workers, in one flat all-reduce."""
    _, size = world()
    if size == 1:
        return
    params = [p for p in params if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= size
    offset = 0
    for p, g in zip(params, grads, strict=True):
        n = g.numel()
        p.grad = flat[offset : offset + n].view_as(g).clone()
        offset += n


def check_in_sync(model: torch.nn.Module) -> None:
    """Raise unless every worker holds rank 0's weights (data parallelism's invariant).

    Raises:
        RuntimeError: naming the largest difference, on every worker.
    """
    if world()[1] == 1:
        return
    mine = torch.cat([p.detach().reshape(-1).float() for p in model.parameters()])
    ref = mine.clone()
    torch.distributed.broadcast(ref, src=0)
    gap = (mine - ref).abs().max().reshape(1)
    torch.distributed.all_reduce(gap, op=torch.distributed.ReduceOp.MAX)
    if gap.item() > 0:
        raise RuntimeError(f"Ray Train workers' weights differ from rank 0's by {gap.item():.3g}")


class TrainLog:
    """A progress bar and TensorBoard scalars (in ``tb_dir``) on rank 0; silent elsewhere."""

    def __init__(self, tb_dir: str | Path, total: int, desc: str, tensorboard: bool = True) -> None:
        from tqdm.auto import tqdm

        self.main = is_main()
        self.bar = tqdm(total=total, desc=desc, disable=not self.main, dynamic_ncols=True)
        self.writer = None
        if self.main and tensorboard:
            from tensorboardX import SummaryWriter

            self.writer = SummaryWriter(str(tb_dir))

    def step(self, step: int, scalars: dict[str, float], show: bool = False) -> None:
        if not self.main:
            return
        self.bar.update(1)
        if self.writer is not None:
            for key, value in scalars.items():
                self.writer.add_scalar(key, value, step)
        if show:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in scalars.items()}, refresh=False)

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.close()


def launch(
    worker: Callable[[Any], dict[str, Any]],
    cfg: Any,
    ray_cfg: RayTrainConfig,
    out: str | Path,
    name: str,
) -> dict[str, Any]:
    """Run ``worker(cfg)`` here, or on ``ray_cfg.workers`` Ray Train workers.

    On Ray the worker's rank-0 result comes back through ``ray.train.report``; a worker
    failure raises here with Ray's error.
    """
    if not ray_cfg.distributed:
        return worker(cfg)
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    started = False
    if not ray.is_initialized():
        if ray_cfg.address:
            ray.init(address=ray_cfg.address)
        else:
            ray.init(num_cpus=max(2, int(ray_cfg.workers * ray_cfg.cpus_per_worker + 0.999)))
        started = True

    storage = Path(out).resolve() / "ray_train"
    # Rank 0's result comes back through a file: Ray Train keeps reported metrics only
    # with a checkpoint, and ours are written by the trainers themselves.
    result_file = storage / f"{name}.result.pkl"
    result_file.unlink(missing_ok=True)

    def per_worker() -> None:
        result = worker(cfg)
        if is_main():
            atomic_write(result_file, pickle.dumps(result))
        ray.train.report({"done": 1.0})  # a collective: every rank reports

    try:
        trainer = TorchTrainer(
            per_worker,
            scaling_config=ScalingConfig(
                num_workers=ray_cfg.workers,
                use_gpu=ray_cfg.use_gpu,
                resources_per_worker={"CPU": ray_cfg.cpus_per_worker},
            ),
            run_config=RunConfig(name=name, storage_path=str(storage)),
        )
        fit = trainer.fit()
    finally:
        if started:
            ray.shutdown()
    if fit.error is not None:
        raise RuntimeError(f"Ray Train run {name!r} failed") from fit.error
    if not result_file.is_file():
        raise RuntimeError(f"Ray Train run {name!r} ended without rank 0's result")
    return pickle.loads(result_file.read_bytes())


def recipe_main(
    config_cls: type,
    train_fn: Callable[[Any], dict[str, Any]],
    argv: list[str] | None,
    doc: str,
    report: Callable[[dict[str, Any]], Any] = lambda result: result,
) -> int:
    """A trainer's command line: ``--recipe R [key=value ...]``, train, print ``report``
    of the result as JSON (what ``astra-sim train local`` calls)."""
    import argparse
    import json

    from astra_sim.core.recipe import load_recipe

    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--recipe", default=None, help="agents/astra_local_*.yaml")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides")
    args = parser.parse_args(argv)
    result = train_fn(load_recipe(config_cls, args.recipe, args.overrides))
    print(json.dumps(report(result), indent=2))
    return 0


__all__ = [
    "RayTrainConfig",
    "TrainLog",
    "average_gradients",
    "broadcast_parameters",
    "check_in_sync",
    "is_main",
    "launch",
    "rank_seed",
    "rank_stream",
    "recipe_main",
    "stop_together",
    "world",
]
