"""The 4D encoder of Astra-Local: past voxel features -> future voxel features.

A 3D-conv ResNet fuses the last frames' voxels (4 in the paper) into one downsampled
volume; its cells become tokens that DiT blocks (adaLN-Zero, conditioned on each future
timestamp) turn into the change of the scene at that time; a transposed convolution brings
it back to the grid and adds it to the last frame. Trained with L1 to the encoder's voxels
of the future frames plus the rendering loss of those frames, so the prediction stays
something the renderer can explain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Encoder4DConfig:
    """Attributes:
    past: past frames in.
    hidden: channels of the 3D ResNet and width of the DiT tokens.
    res_blocks: 3D residual blocks.
    dit_blocks: DiT blocks.
    heads: attention heads of the DiT blocks.
    time_scale: seconds that map to one unit of the timestamp embedding's slowest band.
    token_stride: x/y cells per DiT token (z is kept), so attention stays affordable on
        large grids.
    """

    past: int = 4
    hidden: int = 32
    res_blocks: int = 1
    dit_blocks: int = 2
    heads: int = 4
    time_scale: float = 2.0
    token_stride: int = 2

    def __post_init__(self) -> None:
        if self.past < 1 or self.hidden % self.heads or self.token_stride < 1:
            raise ValueError(
                "Encoder4DConfig needs past >= 1, token_stride >= 1 and heads dividing hidden"
            )


class ResBlock3D(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(4 if ch % 4 == 0 else 1, ch),
            nn.SiLU(),
            nn.Conv3d(ch, ch, 3, padding=1),
            nn.GroupNorm(4 if ch % 4 == 0 else 1, ch),
            nn.SiLU(),
            nn.Conv3d(ch, ch, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class DiTBlock(nn.Module):
    """Self-attention + MLP with adaptive LayerNorm from a condition (zero-initialised gates)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        nn.init.zeros_(self.ada[1].weight)
        nn.init.zeros_(self.ada[1].bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        s1, b1, g1, s2, b2, g2 = self.ada(cond)[:, None].chunk(6, dim=-1)
        h = self.norm1(x) * (1 + s1) + b1
        x = x + g1 * self.attn(h, h, h, need_weights=False)[0]
        h = self.norm2(x) * (1 + s2) + b2
        return x + g2 * self.mlp(h)


def time_embedding(t: torch.Tensor, dim: int, scale: float) -> torch.Tensor:
    """Sinusoidal embedding (..., dim) of times t (...) in seconds."""
    half = dim // 2
    freqs = torch.exp(-math.log(100.0) * torch.arange(half, device=t.device) / max(half - 1, 1))
    ang = t[..., None] / scale * freqs * math.pi
    return torch.cat([ang.sin(), ang.cos()], dim=-1)


class Encoder4D(nn.Module):
    """Past voxels (B, P, C, Z, X, Y) + future times (B, F) -> future voxels (B, F, C, Z, X, Y).

    Times are seconds after the last past frame; ``token_stride`` must divide X and Y.
    """

    def __init__(self, cfg: Encoder4DConfig, voxel_shape: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.cfg = cfg
        c, z, x, y = voxel_shape
        k = cfg.token_stride
        if x % k or y % k:
            raise ValueError(f"Encoder4D token_stride {k} must divide the grid's {x}x{y}")
        self.voxel_shape = voxel_shape
        h = cfg.hidden
        self.stem = nn.Conv3d(cfg.past * c, h, 3, padding=1)
        self.res = nn.Sequential(*[ResBlock3D(h) for _ in range(cfg.res_blocks)])
        self.down = nn.Conv3d(h, h, (1, k, k), stride=(1, k, k))
        self.pos = nn.Parameter(torch.zeros(1, z * (x // k) * (y // k), h))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.time = nn.Sequential(nn.Linear(h, h), nn.SiLU(), nn.Linear(h, h))
        self.blocks = nn.ModuleList([DiTBlock(h, cfg.heads) for _ in range(cfg.dit_blocks)])
        self.up = nn.ConvTranspose3d(h, h, (1, k, k), stride=(1, k, k))
        self.out = nn.Conv3d(2 * h, c, 3, padding=1)

    def forward(self, past: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        b, p, c, z, x, y = past.shape
        if p != self.cfg.past or (c, z, x, y) != tuple(self.voxel_shape):
            raise ValueError(
                f"Encoder4D expects past voxels (B, {self.cfg.past}, {self.voxel_shape}), "
                f"got {tuple(past.shape)}"
            )
        f = times.shape[1]
        feat = self.res(self.stem(past.reshape(b, p * c, z, x, y)))  # (B, H, Z, X, Y)
        tok = self.down(feat)
        grid = tok.shape[2:]
        tok = tok.flatten(2).transpose(1, 2) + self.pos  # (B, L, H)
        tok = tok[:, None].expand(-1, f, -1, -1).reshape(b * f, *tok.shape[1:])
        cond = self.time(
            time_embedding(times.reshape(-1).float(), self.cfg.hidden, self.cfg.time_scale)
        )
        for blk in self.blocks:
            tok = blk(tok, cond)
        up = self.up(tok.transpose(1, 2).reshape(b * f, -1, *grid))
        skip = feat[:, None].expand(-1, f, -1, -1, -1, -1).reshape(b * f, *feat.shape[1:])
        delta = self.out(torch.cat([up, skip], dim=1))
        last = past[:, -1:].expand(-1, f, -1, -1, -1, -1)
        return last + delta.reshape(b, f, c, z, x, y)

    @staticmethod
    def voxel_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """L1 to the (detached) encoder voxels of the future frames."""
        return F.l1_loss(pred, target.detach())


__all__ = ["DiTBlock", "Encoder4D", "Encoder4DConfig", "time_embedding"]
