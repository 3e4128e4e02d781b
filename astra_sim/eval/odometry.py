"""Odometry evaluation on held-out trajectories: RTE (%), rotation error (deg/10 m), ATE.

Every method sees the same held-out episodes (their recorded sensors, at the dataset's
default, datasheet noise) and estimates one relative pose per control step; the steps are
chained from the true start pose into a trajectory, which evo compares with the ground
truth:

- ATE: evo's APE on the translation, after an SE(3) alignment (no scale; none for a
  straight episode, which has no unique one), RMSE over all poses of all episodes (each
  episode aligned on its own).
- RTE: evo's RPE on the translation over pose pairs ``segment`` metres of true travel
  apart (all pairs, chosen on the ground truth so every method is scored on the same
  pairs), mean error divided by the segment length, in percent.
- RRE: evo's RPE on the rotation angle over the same pairs, mean degrees per 10 m.

Errors of all episodes are pooled before averaging, so a long episode counts more.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from astra_sim.agents.astra_local.odometry_data import OdometryChunks, OdometryEpisode
from astra_sim.agents.baselines.dead_reckoning import DeadReckoning, DeadReckoningConfig, integrate
from astra_sim.core.fileio import atomic_write

Predictor = Callable[[OdometryEpisode], np.ndarray]
"""An episode -> its (T-1, 3) estimated relative poses of steps 1..T-1."""


def dead_reckoning_predictor(use_gyro: bool, cfg: DeadReckoningConfig | None = None) -> Predictor:
    """Wheel (or wheel + gyro) dead reckoning with the calibrated geometry."""
    base = cfg or DeadReckoningConfig()
    dr = DeadReckoning(
        DeadReckoningConfig(base.wheel_radius, base.track_width, base.imu_hz, use_gyro)
    )

    def predict(ep: OdometryEpisode) -> np.ndarray:
        return dr.run(ep.wheel[1:], ep.imu[1:])

    return predict


def model_predictor(model: torch.nn.Module) -> Predictor:
    """A trained odometry model (``AstraOdometry`` or ``BevOdom``), one episode per call."""

    def predict(ep: OdometryEpisode) -> np.ndarray:
        batch = OdometryChunks([ep], 1).episode(0)
        with torch.no_grad():
            return model.eval()(batch)[0].double().numpy()

    return predict


def _se3(poses: np.ndarray) -> np.ndarray:
    """Planar poses (T, 3) -> (T, 4, 4) homogeneous transforms at z = 0."""
    c, s = np.cos(poses[:, 2]), np.sin(poses[:, 2])
    out = np.tile(np.eye(4), (len(poses), 1, 1))
    out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1] = c, -s, s, c
    out[:, 0, 3], out[:, 1, 3] = poses[:, 0], poses[:, 1]
    return out


def trajectory_errors(
    truth: np.ndarray, estimate: np.ndarray, segment: float, dt: float = 0.1
) -> dict[str, np.ndarray]:
    """evo's per-pose APE and per-pair RPE (translation, rotation) of one episode.

    Returns ``ape`` (T,) metres, ``rpe_t`` (P,) metres and ``rpe_r`` (P,) degrees; the RPE
    arrays are empty when the episode travels less than ``segment`` metres.
    """
    from evo.core import metrics
    from evo.core.filters import FilterException
    from evo.core.geometry import GeometryException
    from evo.core.metrics import PoseRelation
    from evo.core.trajectory import PoseTrajectory3D
    from evo.core.units import Unit
    from evo.main_ape import ape
    from evo.main_rpe import rpe

    stamps = np.arange(len(truth)) * dt
    ref = PoseTrajectory3D(poses_se3=list(_se3(truth)), timestamps=stamps)
    est = PoseTrajectory3D(poses_se3=list(_se3(estimate)), timestamps=stamps)
    # evo aligns the estimate in place: every call gets its own copy.
    try:
        a = ape(copy.deepcopy(ref), copy.deepcopy(est), PoseRelation.translation_part, align=True)
    except GeometryException:
        # A straight trajectory has no unique alignment; it starts at the true pose anyway.
        a = ape(copy.deepcopy(ref), copy.deepcopy(est), PoseRelation.translation_part)
    out = {"ape": a.np_arrays["error_array"], "rpe_t": np.zeros(0), "rpe_r": np.zeros(0)}
    length = float(np.linalg.norm(np.diff(truth[:, :2], axis=0), axis=1).sum())
    if length <= segment:
        return out
    for key, rel in (
        ("rpe_t", metrics.PoseRelation.translation_part),
        ("rpe_r", metrics.PoseRelation.rotation_angle_deg),
    ):
        try:
            r = rpe(
                copy.deepcopy(ref),
                copy.deepcopy(est),
                rel,
                delta=segment,
                delta_unit=Unit.meters,
                all_pairs=True,
                # Pairs from the ground truth's travel: every method on the same pairs.
                pairs_from_reference=True,
            )
        except (metrics.MetricsException, FilterException):  # no pair that far apart
            continue
        out[key] = r.np_arrays["error_array"]
    return out


def evaluate_method(
    predict: Predictor, episodes: list[OdometryEpisode], segment: float
) -> dict[str, float]:
    """Pooled RTE (%), RRE (deg/10 m) and ATE (m) of one method over the episodes."""
    ape, rpe_t, rpe_r = [], [], []
    for ep in episodes:
        steps = np.asarray(predict(ep), dtype=np.float64)
        if steps.shape != (len(ep) - 1, 3) or not np.isfinite(steps).all():
            raise ValueError(
                f"odometry predictor returned {steps.shape}, expected ({len(ep) - 1}, 3) finite"
            )
        est = integrate(ep.pose[0], steps)
        err = trajectory_errors(ep.pose, est, segment)
        ape.append(err["ape"])
        rpe_t.append(err["rpe_t"])
        rpe_r.append(err["rpe_r"])
    ape_all, t_all, r_all = (np.concatenate(x) for x in (ape, rpe_t, rpe_r))
    return {
        "rte_percent": float(t_all.mean() / segment * 100) if len(t_all) else float("nan"),
        "rre_deg_per_10m": float(r_all.mean() * 10.0 / segment) if len(r_all) else float("nan"),
        "ate_m": float(np.sqrt((ape_all**2).mean())),
        "rpe_pairs": len(t_all),
    }


def evaluate(
    methods: dict[str, Predictor],
    episodes: list[OdometryEpisode],
    out: str | Path,
    segment: float = 5.0,
    extra: dict[str, Any] | None = None,
) -> dict[str, dict[str, float]]:
    """Evaluate every method on the same episodes; write ``out/summary.json`` and a table.

    ``summary.json`` maps each method to ``rte_percent``, ``rre_deg_per_10m`` and ``ate_m``;
    ``details.json`` adds the pair counts, the segment length and ``extra`` (budgets).
    """
    summary, details = {}, {}
    for name, predict in methods.items():
        res = evaluate_method(predict, episodes, segment)
        summary[name] = {k: res[k] for k in ("rte_percent", "rre_deg_per_10m", "ate_m")}
        details[name] = res
    out = Path(out)
    atomic_write(out / "summary.json", json.dumps(summary, indent=1).encode())
    meta = {
        "segment_m": segment,
        "episodes": len(episodes),
        "steps": int(sum(len(e) - 1 for e in episodes)),
        "path_m": float(
            sum(np.linalg.norm(np.diff(e.pose[:, :2], axis=0), axis=1).sum() for e in episodes)
        ),
        "methods": details,
        **(extra or {}),
    }
    atomic_write(out / "details.json", json.dumps(meta, indent=1).encode())
    atomic_write(out / "table.md", format_table(summary).encode())
    return summary


def format_table(summary: dict[str, dict[str, float]]) -> str:
    """A Markdown table of the summary, one row per method."""
    lines = ["| method | RTE (%) | RRE (deg/10 m) | ATE (m) |", "|---|---|---|---|"]
    for name, r in summary.items():
        lines.append(
            f"| {name} | {r['rte_percent']:.2f} | {r['rre_deg_per_10m']:.2f} | {r['ate_m']:.3f} |"
        )
    return "\n".join(lines) + "\n"


__all__ = [
    "Predictor",
    "dead_reckoning_predictor",
    "evaluate",
    "evaluate_method",
    "format_table",
    "model_predictor",
    "trajectory_errors",
]
