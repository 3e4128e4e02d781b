"""Train a planning head (flow matching, ACT or diffusion policy) on simulator samples.

Read top to bottom: data (rendered by ``plan_data`` or read from a collected dataset by
``plan_dataset``, featurized once by ``plan_features`` -- depth bands or the frozen 3D
encoder -- and cached as ``.npz``; episodes split into train and validation), the model, the
loop (AdamW, seeded batches and noise), then an offline validation: the mean step error of
sampled plans against the demonstration (ADE of the integrated poses) and the fraction of
plans whose poses come within the robot radius of a blocked cell on the privileged ESDF
(offline collision rate). ``ray.workers > 1`` trains on Ray Train (``train_runtime``);
TensorBoard events go to ``<out without .pt>.tb/``.

    python -m astra_sim.agents.astra_local.train_planner \
        --recipe agents/astra_local_planner_small.yaml planner.head=act out=outputs/act.pt
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from astra_sim.agents.astra_local.encoder3d import Encoder3D
from astra_sim.agents.astra_local.esdf_loss import integrate_steps, sample_grid
from astra_sim.agents.astra_local.plan_data import (
    PlanDataConfig,
    build_samples,
    load_samples,
    save_samples,
)
from astra_sim.agents.astra_local.plan_features import (
    encoder_from_payload,
    encoder_payload,
    features_tag,
    featurizer_factory,
    load_bev_encoder,
)
from astra_sim.agents.astra_local.planner import PlannerBase, PlannerConfig, build_planner
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
from astra_sim.core.recipe import to_dict


@dataclass
class TrainPlannerConfig:
    """A planner training run.

    Attributes:
        planner: the head and its sizes (``planner.esdf.enabled`` is the ablation switch).
        data: how samples are rendered when ``data_path`` does not exist yet.
        data_path: the sample cache (``.npz``), built on first use.
        out: where the checkpoint goes (a ``.pt`` file, with a ``.json`` summary beside).
        steps, batch_size, lr, weight_decay: the optimisation.
        val_fraction: share of episodes held out for validation.
        robot_radius: metres; an offline plan collides where the ESDF falls below it.
        threads: torch CPU threads (per worker).
        device: cpu or cuda.
        ray: Ray Train workers (``ray.workers > 1``); each draws ``batch_size`` a step.
        seed: batches, noise and initialisation.
        log_every: steps between log lines.
    """

    planner: PlannerConfig = field(default_factory=PlannerConfig)
    data: PlanDataConfig = field(default_factory=PlanDataConfig)
    data_path: str = "outputs/astra_local/plan_train.npz"
    out: str = "outputs/astra_local/planner.pt"
    steps: int = 600
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.15
    robot_radius: float = 0.18
    threads: int = 1
    device: str = "cpu"
    seed: int = 0
    log_every: int = 50
    ray: RayTrainConfig = field(default_factory=RayTrainConfig)

    def __post_init__(self) -> None:
        if isinstance(self.planner, dict):
            self.planner = PlannerConfig(**self.planner)
        if isinstance(self.data, dict):
            self.data = PlanDataConfig(**self.data)
        if self.steps < 0 or self.batch_size < 1:
            raise ValueError(f"steps must be >= 0 and batch_size >= 1, got {self.steps}, "
                             f"{self.batch_size}")  # fmt: skip
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")


def to_batch(arrays: dict[str, np.ndarray], idx: np.ndarray, device: str = "cpu"):
    """Samples ``idx`` as float32 tensors keyed as the planners read them."""
    keys = ("bev", "occupancy", "velocity", "goal", "steps", "esdf")
    return {k: torch.from_numpy(arrays[k][idx].astype(np.float32)).to(device) for k in keys}


def split_episodes(episodes: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Sample indices of train and validation episodes (whole episodes, seeded)."""
    ids = np.unique(episodes)
    rng = np.random.default_rng(seed)
    n_val = max(1, round(fraction * len(ids))) if len(ids) > 1 else 0
    val_ids = rng.choice(ids, n_val, replace=False) if n_val else np.zeros(0, ids.dtype)
    val = np.isin(episodes, val_ids)
    return np.flatnonzero(~val), np.flatnonzero(val)


@torch.no_grad()
def evaluate(
    model: PlannerBase, arrays: dict[str, np.ndarray], idx: np.ndarray, radius: float, seed: int
) -> dict[str, float]:
    """Offline figures of sampled plans: ADE/FDE (m) and the share of plans that collide."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    ade, fde, hits, losses = [], [], [], []
    for chunk in np.array_split(idx, max(1, len(idx) // 256)):
        batch = to_batch(arrays, chunk, str(next(model.parameters()).device))
        plan = model.sample(batch, gen)
        xy, gt = integrate_steps(plan)[..., :2], integrate_steps(batch["steps"])[..., :2]
        err = (xy - gt).norm(dim=-1)
        ade.append(err.mean(1))
        fde.append(err[:, -1])
        clearance = sample_grid(batch["esdf"], xy, model.cfg.bev.cell_size)
        hits.append((clearance < radius).any(1).float())
        losses.append(model.loss(batch, gen)[0].reshape(1))
    model.train()
    return {
        "val/ade": float(torch.cat(ade).mean()),
        "val/fde": float(torch.cat(fde).mean()),
        "val/collision_rate": float(torch.cat(hits).mean()),
        "val/loss": float(torch.cat(losses).mean()),
    }


def train(cfg: TrainPlannerConfig) -> dict[str, Any]:
    """Train, save the checkpoint to ``cfg.out`` and return the summary."""
    encoder = load_bev_encoder(cfg.planner.bev)  # sizes the planner's feature stem
    path = Path(cfg.data_path)
    if not path.is_file():  # built once here, not by every Ray worker
        save_samples(make_samples(cfg, encoder), path)
    check_cache(cfg, path)
    name = f"planner-{cfg.planner.head}"
    return launch(_train_worker, cfg, cfg.ray, Path(cfg.out).parent, name)


def cache_tags(cfg: TrainPlannerConfig) -> dict[str, str]:
    """What a sample cache was built from: the BEV features and the data source."""
    return {"features": features_tag(cfg.planner.bev), "source": cfg.data.dataset or "render"}


def make_samples(cfg: TrainPlannerConfig, encoder: Any) -> dict[str, np.ndarray]:
    """Planner samples from ``data.dataset`` (a collected dataset) or rendered episodes."""
    p = cfg.planner
    factory = featurizer_factory(p.bev, encoder)
    if cfg.data.dataset:
        from astra_sim.agents.astra_local.plan_dataset import dataset_samples

        if not (Path(cfg.data.dataset) / "meta" / "info.json").is_file():
            raise FileNotFoundError(
                f"data.dataset={cfg.data.dataset} is not a collected dataset: collect one with "
                "`astra-sim collect --recipe train/collect_planner.yaml` (RGB + depth)"
            )

        arrays = dataset_samples(
            cfg.data.dataset, p.bev, p.horizon, p.step_dt, cfg.data.local_goal_distance,
            factory, cfg.data.dataset_episodes or None,
        )  # fmt: skip
    else:
        arrays = build_samples(cfg.data, p.bev, p.horizon, p.step_dt, factory)
    return {**arrays, **{k: np.array(v) for k, v in cache_tags(cfg).items()}}


def check_cache(cfg: TrainPlannerConfig, path: Path) -> None:
    """A cache built from other features or another source is an error, never reused."""
    with np.load(path) as data:
        found = {k: str(data[k]) if k in data.files else d
                 for k, d in (("features", "depth"), ("source", "render"))}  # fmt: skip
    want = cache_tags(cfg)
    if found != want:
        raise ValueError(
            f"data_path={path} holds samples of {found}, this run asks for {want}: "
            "set another data_path (or delete the file to rebuild it)"
        )


def _train_worker(cfg: TrainPlannerConfig) -> dict[str, Any]:
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)  # parameter initialisation
    _, size = world()
    # ---- data
    arrays = load_samples(Path(cfg.data_path))
    train_idx, val_idx = split_episodes(arrays["episode"], cfg.val_fraction, cfg.seed)
    # ---- model
    model = build_planner(cfg.planner).to(cfg.device)
    broadcast_parameters(model)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=max(cfg.steps, 1))
    rng = np.random.default_rng([cfg.seed, *rank_stream()])
    gen = torch.Generator().manual_seed(rank_seed(cfg.seed))
    # ---- loop
    history, start = [], time.time()
    bar = TrainLog(Path(cfg.out).with_suffix(".tb"), cfg.steps, f"train {cfg.planner.head}")
    for step in range(cfg.steps):
        batch = to_batch(arrays, rng.choice(train_idx, cfg.batch_size), cfg.device)
        loss, info = model.loss(batch, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(model.parameters())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        history.append(info)
        shown = bool(cfg.log_every) and (step % cfg.log_every == 0 or step == cfg.steps - 1)
        bar.step(step, info, show=shown)
    bar.close()
    check_in_sync(model)
    # ---- validation and checkpoint
    summary: dict[str, Any] = {
        "head": cfg.planner.head,
        "esdf_loss": cfg.planner.esdf.enabled,
        "steps": cfg.steps,
        "batch_size": cfg.batch_size,
        "workers": size,
        "train_samples": len(train_idx),
        "val_samples": len(val_idx),
        "train_seconds": round(time.time() - start, 1),
        "first_loss": float(np.mean([h["loss/total"] for h in history[:20]])) if history else None,
        "last_loss": float(np.mean([h["loss/total"] for h in history[-20:]])) if history else None,
    }
    if not is_main():
        return summary
    if len(val_idx):
        summary.update(evaluate(model, arrays, val_idx, cfg.robot_radius, cfg.seed))
    save_checkpoint(model, cfg, summary)
    return summary


def save_checkpoint(model: PlannerBase, cfg: TrainPlannerConfig, summary: dict[str, Any]) -> Path:
    """Weights + planner config in ``cfg.out``, the summary as JSON beside it (atomic)."""
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    payload = {
        "planner": to_dict(cfg.planner),
        "state_dict": model.state_dict(),
        "encoder": encoder_payload(load_bev_encoder(cfg.planner.bev)),
        **summary,
    }
    torch.save(payload, tmp)
    tmp.replace(out)
    out.with_suffix(".json").write_text(json.dumps({**summary, "config": to_dict(cfg)}, indent=2))
    return out


def load_planner(path: str | Path, device: str = "cpu") -> PlannerBase:
    """A trained planner from a checkpoint written by ``train`` (eval mode)."""
    return load_planner_and_encoder(path, device)[0]


def load_planner_and_encoder(
    path: str | Path, device: str = "cpu"
) -> tuple[PlannerBase, Encoder3D | None]:
    """The planner and the frozen 3D encoder its checkpoint carries (None: depth features)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"planner checkpoint {path} does not exist")
    payload = torch.load(path, map_location=device, weights_only=False)
    model = build_planner(payload["planner"]).to(device)
    model.load_state_dict(payload["state_dict"])
    return model.eval(), encoder_from_payload(payload.get("encoder"))


def main(argv: list[str] | None = None) -> int:
    """``python -m astra_sim.agents.astra_local.train_planner --recipe R [key=value ...]``."""
    return recipe_main(TrainPlannerConfig, train, argv, main.__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
