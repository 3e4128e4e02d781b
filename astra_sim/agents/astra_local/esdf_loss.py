"""The masked ESDF loss of Astra-Local's planning heads, and the SE(2) step algebra it needs.

A planner outputs relative steps (dx, dy, dyaw), each in the frame of the pose before it.
Imitation alone (flow matching, diffusion, ACT) says nothing about obstacles: a sample a
little off the demonstrated path may cut through a wall. The ESDF term adds that knowledge:
integrate the predicted (or, for generative heads, the estimated clean) steps to poses,
read the scene's ESDF there bilinearly, and penalise clearance below a threshold.

The mask spares the ground-truth corridor: demonstrations squeeze through doors and past
shelves, so points within ``mask_width`` of the ground-truth path are never penalised
(only the flow/diffusion/L1 term acts on them); the penalty pushes only the parts of a
prediction that leave the corridor towards obstacles.

Grids here are robot-centred: a (B, X, Y) tensor whose axis 1 runs forward (x) and axis 2
left (y), cell (i, j) centred at ((i - X/2 + 0.5) c, (j - Y/2 + 0.5) c) for cell size c.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class EsdfLossConfig:
    """The masked ESDF term: loss = imitation loss + weight * masked clearance penalty.

    Attributes:
        enabled: switch the term on (the ablation of the paper's table turns it off).
        weight: lambda, the weight of the penalty.
        threshold: ESDF value (metres, distance between the robot centre and the nearest
            blocked cell) below which a pose is penalised; robot radius plus a margin.
        mask_width: points within this distance (metres) of the ground-truth path are not
            penalised.
    """

    enabled: bool = True
    weight: float = 1.0
    threshold: float = 0.35
    mask_width: float = 0.15

    def __post_init__(self) -> None:
        for name in ("weight", "threshold", "mask_width"):
            if getattr(self, name) < 0:
                raise ValueError(f"esdf.{name} must be >= 0, got {getattr(self, name)}")


def integrate_steps(steps: torch.Tensor) -> torch.Tensor:
    """Relative steps (..., T, 3) -> poses (..., T, 3) in the start frame (start at 0)."""
    dx, dy, dyaw = steps.unbind(-1)
    yaw = torch.cumsum(dyaw, dim=-1)
    prev = torch.cat([torch.zeros_like(yaw[..., :1]), yaw[..., :-1]], dim=-1)
    c, s = torch.cos(prev), torch.sin(prev)
    x = torch.cumsum(c * dx - s * dy, dim=-1)
    y = torch.cumsum(s * dx + c * dy, dim=-1)
    return torch.stack([x, y, yaw], dim=-1)


def poses_to_steps(poses: torch.Tensor) -> torch.Tensor:
    """Inverse of ``integrate_steps``: poses (..., T, 3) from the start -> relative steps."""
    zero = torch.zeros_like(poses[..., :1, :])
    prev = torch.cat([zero, poses[..., :-1, :]], dim=-2)
    d = poses[..., :2] - prev[..., :2]
    c, s = torch.cos(prev[..., 2]), torch.sin(prev[..., 2])
    dx = c * d[..., 0] + s * d[..., 1]
    dy = -s * d[..., 0] + c * d[..., 1]
    dyaw = torch.atan2(
        torch.sin(poses[..., 2] - prev[..., 2]), torch.cos(poses[..., 2] - prev[..., 2])
    )
    return torch.stack([dx, dy, dyaw], dim=-1)


def sample_grid(grid: torch.Tensor, xy: torch.Tensor, cell_size: float) -> torch.Tensor:
    """Bilinear values of robot-centred grids (B, X, Y) at points (B, N, 2) in metres.

    Outside the grid the border value holds (an ESDF crop is sized so that plans stay in).
    """
    _, nx, ny = grid.shape
    u = xy[..., 1] / (ny * cell_size / 2)  # grid_sample's x runs along the last axis (y)
    v = xy[..., 0] / (nx * cell_size / 2)
    coords = torch.stack([u, v], dim=-1).unsqueeze(1).to(grid.dtype)  # (B, 1, N, 2)
    out = F.grid_sample(
        grid.unsqueeze(1), coords, mode="bilinear", padding_mode="border", align_corners=False
    )
    return out[:, 0, 0]


def corridor_distance(points: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """Distance (B, N) of points (B, N, 2) to the polyline from the origin through (B, T, 2)."""
    poly = torch.cat([torch.zeros_like(path[:, :1]), path], dim=1)
    a, b = poly[:, :-1], poly[:, 1:]  # (B, S, 2)
    ab = b - a
    ap = points[:, :, None, :] - a[:, None]  # (B, N, S, 2)
    t = (ap * ab[:, None]).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-9)[:, None]
    closest = a[:, None] + t.clamp(0, 1)[..., None] * ab[:, None]
    return (points[:, :, None] - closest).norm(dim=-1).amin(dim=-1)


def masked_esdf_loss(
    steps: torch.Tensor,
    gt_steps: torch.Tensor,
    esdf: torch.Tensor,
    cell_size: float,
    config: EsdfLossConfig,
    sample_weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The masked clearance penalty of predicted steps, before ``config.weight``.

    Args:
        steps: (B, T, 3) predicted relative steps (metres, radians), differentiable.
        gt_steps: (B, T, 3) ground-truth steps: their path is the spared corridor.
        esdf: (B, X, Y) robot-centred ESDF crops in metres (positive in free space).
        cell_size: metres per ESDF cell.
        config: threshold and mask width.
        sample_weight: optional (B,) weights, e.g. how trustworthy a generative head's
            clean-trajectory estimate is at its noise level.

    Returns:
        The mean over all points of ``mask * relu(threshold - esdf)^2`` (zero for a path in
        the open, growing as it nears an obstacle), and figures for logging: the fraction of
        points the mask spares and of unmasked points below the threshold.
    """
    xy = integrate_steps(steps)[..., :2]
    with torch.no_grad():
        gt_xy = integrate_steps(gt_steps)[..., :2]
        mask = (corridor_distance(xy, gt_xy) >= config.mask_width).to(xy.dtype)
    clearance = sample_grid(esdf, xy, cell_size)
    violation = F.relu(config.threshold - clearance)
    if sample_weight is not None:
        mask = mask * sample_weight.detach()[:, None]
    loss = (mask * violation**2).mean()
    info = {
        "esdf/masked_fraction": float(1.0 - mask.mean()),
        "esdf/violating_fraction": float(((violation > 0).to(xy.dtype) * mask).mean()),
    }
    return loss, info
