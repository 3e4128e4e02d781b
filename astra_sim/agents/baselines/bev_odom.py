"""BEV-ODOM: two-frame visual odometry from bird's-eye-view features (Wei et al., 2024).

The paper's vision baseline: encode two consecutive frames to BEV, correlate them, regress
the relative pose. It shares the 3D encoder and the correlation CNN of the Astra odometry
head at the same sizes (the baseline is not weakened); what it lacks is the temporal
window and the other sensors, which is the comparison the paper's table makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from astra_sim.agents.astra_local.encoder3d import Encoder3D, Encoder3DConfig
from astra_sim.agents.astra_local.odometry import POSE_SCALE, BevMotion, pose_l1


@dataclass
class BevOdomConfig:
    """Attributes:
    encoder: the 3D encoder (same as the Astra odometry model's).
    corr_radius: correlation displacements in BEV cells.
    corr_dim: channels of the correlation CNN.
    hidden: width of the pose MLP.
    """

    encoder: Encoder3DConfig = field(default_factory=Encoder3DConfig)
    corr_radius: int = 2
    corr_dim: int = 32
    hidden: int = 64

    def __post_init__(self) -> None:
        if isinstance(self.encoder, dict):
            self.encoder = Encoder3DConfig(**self.encoder)


class BevOdom(nn.Module):
    """Consecutive frames -> the relative pose between each two (uses no other sensor)."""

    def __init__(self, cfg: BevOdomConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder3D(cfg.encoder)
        grid = cfg.encoder.grid.xy_cells
        self.motion = BevMotion(
            self.encoder.bev_channels, grid, cfg.corr_radius, cfg.corr_dim, cfg.hidden
        )
        self.head = nn.Sequential(nn.GELU(), nn.Linear(cfg.hidden, cfg.hidden), nn.GELU())
        self.out = nn.Linear(cfg.hidden, 3)
        self.register_buffer("pose_scale", torch.tensor(POSE_SCALE), persistent=False)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Frames (B, F, N, S, S, 3) -> BEV (B, F, C, X, Y)."""
        b, f = images.shape[:2]
        bev = Encoder3D.bev(self.encoder(images.reshape(b * f, *images.shape[2:])))
        return bev.reshape(b, f, *bev.shape[1:])

    def forward_bev(self, bev: torch.Tensor) -> torch.Tensor:
        """BEV of consecutive frames (B, S+1, C, X, Y) -> relative poses (B, S, 3)."""
        b, f, c, x, y = bev.shape
        prev = bev[:, :-1].reshape(-1, c, x, y)
        cur = bev[:, 1:].reshape(-1, c, x, y)
        pose = self.out(self.head(self.motion(prev, cur))) * self.pose_scale
        return pose.reshape(b, f - 1, 3)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """A chunk (``rgb`` (B, S+1, N, s, s, 3)) -> the pose of each frame in the one before."""
        return self.forward_bev(self.encode(batch["rgb"]))

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        loss = pose_l1(self(batch), batch["target"], batch.get("mask"))
        return loss, {"odom/l1": loss.item()}


__all__ = ["BevOdom", "BevOdomConfig"]
