"""A plain ViT image backbone, one per camera view (weights shared across views).

Astra-Local encodes each camera with a ViT before lifting to 3D. The backbone returns a
feature map (not a class token) because Lift-Splat-Shoot needs a feature per image patch:
each patch is one frustum column of the lift.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class ViTConfig:
    """Size of the per-camera ViT.

    Attributes:
        image_size: side of the (square) input image in pixels.
        patch: patch side in pixels; ``image_size`` must be a multiple of it.
        dim: token width.
        depth: transformer layers.
        heads: attention heads; must divide ``dim``.
        mlp_ratio: hidden width of the MLP relative to ``dim``.
    """

    image_size: int = 64
    patch: int = 8
    dim: int = 32
    depth: int = 2
    heads: int = 2
    mlp_ratio: float = 2.0

    def __post_init__(self) -> None:
        if self.image_size % self.patch:
            raise ValueError(
                f"ViTConfig.image_size={self.image_size} must be a multiple of patch={self.patch}"
            )
        if self.dim % self.heads:
            raise ValueError(f"ViTConfig.heads={self.heads} must divide dim={self.dim}")
        if min(self.depth, self.heads, self.dim, self.patch) < 1:
            raise ValueError("ViTConfig depth, heads, dim and patch must be >= 1")

    @property
    def grid(self) -> int:
        """Patches along each side of the image."""
        return self.image_size // self.patch


class ViT(nn.Module):
    """Images (B, 3, S, S) in [0, 1] -> patch features (B, dim, S/patch, S/patch)."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Conv2d(3, cfg.dim, cfg.patch, stride=cfg.patch)
        self.pos = nn.Parameter(torch.zeros(1, cfg.grid * cfg.grid, cfg.dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(
            cfg.dim,
            cfg.heads,
            int(cfg.dim * cfg.mlp_ratio),
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(layer, cfg.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        b, _, h, w = images.shape
        if (h, w) != (self.cfg.image_size, self.cfg.image_size):
            raise ValueError(
                f"ViT expects {self.cfg.image_size}x{self.cfg.image_size} images, got {h}x{w}"
            )
        x = self.embed(images * 2.0 - 1.0)  # (B, dim, g, g)
        g = x.shape[-1]
        tokens = x.flatten(2).transpose(1, 2) + self.pos
        tokens = self.norm(self.blocks(tokens))
        return tokens.transpose(1, 2).reshape(b, self.cfg.dim, g, g)


__all__ = ["ViT", "ViTConfig"]
