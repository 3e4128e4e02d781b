"""The 3D encoder of Astra-Local: multi-view images -> voxel features around the robot.

A ViT per camera (shared weights), Lift-Splat-Shoot into a voxel grid in the base frame,
and a volumetric renderer that trains both without labels (L1 on the cameras' depth and
colour). The odometry head and the 4D encoder read its voxels, or their bird's-eye view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from astra_sim.agents.astra_local.lss import LiftSplat, VoxelGridConfig
from astra_sim.agents.astra_local.vit import ViT, ViTConfig
from astra_sim.agents.astra_local.volume_render import RenderConfig, VolumeRenderer
from astra_sim.render.rig import Rig


@dataclass
class Encoder3DConfig:
    """Attributes:
    rig: camera rig name (``Rig.from_name``); images must come in its camera order.
    vit: the per-camera backbone; ``vit.image_size`` is the input size (the rig's images
        are area-downsampled to it, so it must divide the rig's size).
    grid: the voxel grid.
    feat_dim: channels per voxel.
    depth_bins: LSS depth bins.
    depth_range: (near, far) optical depth of the bins, metres.
    render: the self-supervision.
    lift_depth_weight: weight of a cross-entropy between each patch's LSS depth
        distribution and the bin of the cameras' own depth there (0: off, the rendering
        losses alone). The sensor's depth, not a label: it sharpens where the lift puts
        features, which rendering alone learns slowly on a small budget.
    """

    rig: str = "default"
    vit: ViTConfig = field(default_factory=ViTConfig)
    grid: VoxelGridConfig = field(default_factory=VoxelGridConfig)
    feat_dim: int = 16
    depth_bins: int = 16
    depth_range: tuple[float, float] = (0.25, 6.0)
    render: RenderConfig = field(default_factory=RenderConfig)
    lift_depth_weight: float = 0.0

    def __post_init__(self) -> None:
        for name, sub in (("vit", ViTConfig), ("grid", VoxelGridConfig), ("render", RenderConfig)):
            if isinstance(getattr(self, name), dict):
                setattr(self, name, sub(**getattr(self, name)))
        self.depth_range = tuple(float(v) for v in self.depth_range)
        if self.feat_dim < 1 or self.depth_bins < 2:
            raise ValueError("Encoder3DConfig needs feat_dim >= 1 and depth_bins >= 2")


def nearest_depth(depth: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Depth (..., H, W) min-pooled to ``size``: each block's nearest return, 0 where the
    block has none (misses read 0), so edges stay near instead of averaging with the far."""
    lead, (h, w) = depth.shape[:-2], depth.shape[-2:]
    far = torch.where(depth > 0, depth.float(), torch.full_like(depth.float(), 1e4))
    near = -F.adaptive_max_pool2d(-far.reshape(-1, 1, h, w), size)
    near = torch.where(near >= 1e4, torch.zeros_like(near), near)
    return near.reshape(*lead, *near.shape[-2:])


class Encoder3D(nn.Module):
    """Images (B, N, S, S, 3) -> voxel features (B, feat_dim, Z, X, Y).

    Images may be uint8 (0-255) or float in [0, 1], at ``cfg.vit.image_size``;
    ``prepare_images`` resizes the rig's full-size frames.
    """

    def __init__(self, cfg: Encoder3DConfig, rig: Rig | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.rig = rig if rig is not None else Rig.from_name(cfg.rig)
        n, h, w = self.rig.shape
        if h != w or h % cfg.vit.image_size:
            raise ValueError(
                f"vit.image_size={cfg.vit.image_size} must divide the rig's square {h}x{w} images"
            )
        self.stride = h // cfg.vit.image_size
        self.num_cameras = n
        self.vit = ViT(cfg.vit)
        self.lift = LiftSplat(
            self.rig,
            cfg.grid,
            cfg.vit.dim,
            cfg.feat_dim,
            cfg.vit.grid,
            cfg.depth_bins,
            cfg.depth_range,
        )
        self.renderer = VolumeRenderer(self.rig, cfg.grid, cfg.feat_dim, cfg.render, self.stride)

    @property
    def voxel_shape(self) -> tuple[int, int, int, int]:
        """(C, Z, X, Y) of one sample's voxels."""
        return (self.cfg.feat_dim, *self.cfg.grid.shape)

    @property
    def bev_channels(self) -> int:
        """Channels of ``bev``: voxel channels times z cells."""
        return self.cfg.feat_dim * self.cfg.grid.z_cells

    def prepare_images(self, images: torch.Tensor) -> torch.Tensor:
        """(B, N, H, W, 3) uint8 or float at any multiple of the input size -> float input."""
        x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
        b, n, h, w, _ = x.shape
        s = self.cfg.vit.image_size
        if h != s:
            x = F.adaptive_avg_pool2d(x.permute(0, 1, 4, 2, 3).reshape(b * n, 3, h, w), s)
            x = x.reshape(b, n, 3, s, s).permute(0, 1, 3, 4, 2)
        return x

    def prepare_depth(self, depth: torch.Tensor) -> torch.Tensor:
        """(B, N, H, W) depth -> the render resolution (min-pooled so edges stay near)."""
        s = self.cfg.vit.image_size
        if depth.shape[-2] == s:
            return depth.float()
        return nearest_depth(depth, s)

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Voxels (B, C, Z, X, Y) and the lift's depth distributions (B, N, D, h, w)."""
        x = self.prepare_images(images)
        b, n = x.shape[:2]
        if n != self.num_cameras:
            raise ValueError(f"Encoder3D expects {self.num_cameras} views, got {n}")
        feats = self.vit(x.permute(0, 1, 4, 2, 3).reshape(b * n, 3, *x.shape[2:4]))
        feats = feats.reshape(b, n, *feats.shape[1:])
        return self.lift(feats)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.encode(images)[0]

    def lift_depth_loss(self, probs: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the depth distributions (B, N, D, h, w) against the bin of each
        patch's nearest valid depth (B, N, H, W); patches with no return are skipped."""
        d, h, w = probs.shape[2:]
        near = nearest_depth(depth, (h, w))
        lo, hi = self.cfg.depth_range
        valid = (near > 0) & (near >= lo) & (near <= hi)
        step = (hi - lo) / (d - 1)
        target = ((near.clamp(lo, hi) - lo) / step).round().long()
        logp = probs.clamp_min(1e-6).log().gather(2, target.unsqueeze(2)).squeeze(2)
        return -(logp * valid).sum() / valid.sum().clamp_min(1)

    @staticmethod
    def bev(voxels: torch.Tensor) -> torch.Tensor:
        """Voxels (B, C, Z, X, Y) -> bird's-eye view (B, C*Z, X, Y)."""
        return voxels.flatten(1, 2)

    def render_loss(
        self,
        voxels: torch.Tensor,
        images: torch.Tensor,
        depth: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Rendering L1 of ``voxels`` against the frames they should explain."""
        rgb = self.prepare_images(images)
        return self.renderer.loss(voxels, rgb, self.prepare_depth(depth), generator)

    def loss(
        self, images: torch.Tensor, depth: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Self-supervised loss of one batch of frames: encode, render, L1 (plus the lift's
        depth cross-entropy when ``lift_depth_weight`` > 0)."""
        voxels, probs = self.encode(images)
        loss, info = self.render_loss(voxels, images, depth, generator)
        if self.cfg.lift_depth_weight > 0:
            ce = self.lift_depth_loss(probs, depth)
            info["lift/depth_ce"] = float(ce.detach())
            loss = loss + self.cfg.lift_depth_weight * ce
        return loss, info


__all__ = ["Encoder3D", "Encoder3DConfig", "nearest_depth"]
