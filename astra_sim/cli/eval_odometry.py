"""``astra-sim eval odometry``: odometry methods on the same held-out trajectories.

Writes ``DIR/summary.json`` (``{method: {rte_percent, rre_deg_per_10m, ate_m}}``),
``details.json`` and ``table.md``. The learned methods load the checkpoints shipped in
``agents/checkpoints/odometry/<method>/model.pt`` (or ``--runs``/``--model``: what
``astra-sim train local --recipe agents/astra_local_odometry_small.yaml`` writes); dead
reckoning uses the robot's calibrated wheel radius and track width. The held-out data is a
collected dataset on scenes no model trained on; when ``--data`` does not exist yet it is
collected first (about a minute), with the settings of this command::

    astra-sim collect --recipe train/collect_pointnav.yaml --out outputs/data/odometry_test \\
        'env.scene_seeds=[8,9]' env.seed=1000 env.episodes=24 'features=[rgb,imu,wheel]'
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from astra_sim.core.shipped import shipped_checkpoints

LEARNED = ("bev_odom", "vision", "vision_imu", "vision_imu_wheel")
CLASSICAL = ("wheel_dr", "wheel_gyro_dr")
METHODS = (*LEARNED, *CLASSICAL)
DEFAULT_RUNS = shipped_checkpoints() / "odometry"
HELD_OUT = [
    "env.scene_seeds=[8,9]",
    "env.seed=1000",
    "env.episodes=24",
    "features=[rgb,imu,wheel]",
    "ray.workers=0",
]
"""The held-out odometry set: scene seeds no recipe trains on, expert episodes with noise."""
TRAIN_HINT = (
    "astra-sim train local --recipe agents/astra_local_odometry_small.yaml "
    "data=TRAIN_DATA out={out}"
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("odometry", help="RTE / RRE / ATE of odometry methods on held-out data")
    p.add_argument(
        "--data",
        type=Path,
        default=Path("outputs/data/odometry_test"),
        help="held-out dataset folder (astra-sim collect); collected first if missing",
    )
    p.add_argument("--out", type=Path, required=True, help="report folder (summary.json)")
    p.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma list of {', '.join(METHODS)} (default: all)",
    )
    p.add_argument(
        "--runs",
        type=Path,
        default=DEFAULT_RUNS,
        help="folder with one training run per learned method: RUNS/<method>/model.pt "
        "(default: the shipped checkpoints)",
    )
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="METHOD=PATH",
        help="checkpoint of one learned method (overrides --runs)",
    )
    p.add_argument("--segment", type=float, default=5.0, help="RPE segment length, m (5)")
    p.add_argument("--episodes", type=int, default=0, help="first n episodes (0: all)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument(
        "--tum",
        type=Path,
        help="also write every trajectory in TUM format for evo: DIR/groundtruth/ and "
        "DIR/<method>/episode_NNNNNN.tum",
    )
    p.set_defaults(func=run)


def robot_geometry(data: Path) -> Any:
    """Dead reckoning with the dataset's robot: the ``robot`` geometry and ``imu_hz`` of
    its ``info.json`` (an imported bag records them), else the simulated robot's."""
    from astra_sim.agents.baselines.dead_reckoning import DeadReckoningConfig

    info = json.loads((data / "meta" / "info.json").read_text())
    base, robot = DeadReckoningConfig(), info.get("robot") or {}
    return DeadReckoningConfig(
        float(robot.get("wheel_radius", base.wheel_radius)),
        float(robot.get("track_width", base.track_width)),
        float(info.get("imu_hz", base.imu_hz)),
    )


def checkpoints(args: argparse.Namespace, methods: list[str]) -> dict[str, Path]:
    """The checkpoint of each learned method asked for; a missing one is an error."""
    given = {}
    for item in args.model:
        name, sep, path = item.partition("=")
        if not sep or name not in LEARNED:
            raise ValueError(f"--model {item!r} must be METHOD=PATH with METHOD in {LEARNED}")
        given[name] = Path(path)
    out = {}
    for name in methods:
        if name in LEARNED:
            path = given.get(name, args.runs / name / "model.pt")
            if not path.is_file():
                raise FileNotFoundError(
                    f"{name} checkpoint {path} does not exist; train it with: "
                    + TRAIN_HINT.format(out=path.parent)
                )
            out[name] = path
    return out


def run(args: argparse.Namespace) -> int:
    import torch

    from astra_sim.agents.astra_local.odometry_data import load_episodes
    from astra_sim.agents.astra_local.train_odometry import load_checkpoint
    from astra_sim.eval.odometry import (
        dead_reckoning_predictor,
        evaluate,
        format_table,
        model_predictor,
    )

    torch.set_num_threads(args.threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or not methods:
        raise ValueError(f"unknown odometry methods {unknown}; valid: {', '.join(METHODS)}")
    if not (args.data / "meta" / "info.json").is_file():
        collect_held_out(args.data)
    paths = checkpoints(args, methods)
    models = {name: load_checkpoint(path) for name, path in paths.items()}
    sizes = {cfg.encoder.vit.image_size for _, cfg in models.values()}
    if len(sizes) > 1:
        raise ValueError(f"the checkpoints use different image sizes {sorted(sizes)}")
    size = sizes.pop() if sizes else 8
    indices = list(range(args.episodes)) if args.episodes else None
    episodes = load_episodes(args.data, size, indices)
    predictors = {}
    budgets: dict[str, Any] = {}
    for name in methods:
        if name in models:
            predictors[name] = model_predictor(models[name][0])
            log = paths[name].parent / "train_log.json"
            if log.is_file():
                info = json.loads(log.read_text())
                budgets[name] = {k: info.get(k) for k in ("steps_done", "seconds", "parameters")}
        else:
            predictors[name] = dead_reckoning_predictor(
                use_gyro=name == "wheel_gyro_dr", cfg=robot_geometry(args.data)
            )
    estimates: dict[str, list[Any]] = {name: [] for name in predictors}
    if args.tum:
        from astra_sim.data.tum import recording

        predictors = {k: recording(p, estimates[k]) for k, p in predictors.items()}
    summary = evaluate(
        predictors,
        episodes,
        args.out,
        args.segment,
        {
            "data": str(args.data),
            "checkpoints": {k: str(v) for k, v in paths.items()},
            "training": budgets,
        },
    )
    print(format_table(summary), end="")
    print(f"wrote {args.out / 'summary.json'}")
    if args.tum:
        from astra_sim.data.tum import evaluated_indices, write_trajectories

        kept = evaluated_indices(args.data, indices)
        write_trajectories(args.tum, args.data, kept, [e.pose for e in episodes], estimates)
        print(f"wrote TUM trajectories of {len(kept)} episode(s) to {args.tum}")
    return 0


def collect_held_out(out: Path) -> None:
    """Collect the held-out odometry set into ``out`` (``HELD_OUT`` settings)."""
    from astra_sim.core.recipe import load_recipe
    from astra_sim.distributed.collect import collect
    from astra_sim.distributed.config import CollectConfig

    recipe = shipped_checkpoints().parents[1] / "train" / "collect_pointnav.yaml"
    print(f"held-out dataset {out} does not exist: collecting it ({' '.join(HELD_OUT)})")
    collect(load_recipe(CollectConfig, recipe, [*HELD_OUT, f"out={out}"]))


__all__ = ["HELD_OUT", "METHODS", "add_parser", "collect_held_out", "run"]
