"""Volumetric rendering of voxel features: the encoders' self-supervision.

Two MLPs read the voxel features (trilinearly sampled) at points along the cameras' rays and
give a signed distance and a colour; the SDF becomes a density (VolSDF's Laplace CDF, with a
learnt sharpness), the density alpha-composites depth and colour, and L1 against the
camera's depth and RGB trains everything upstream. No labels: what the paper uses so the
voxels hold geometry and appearance before any head sees them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from astra_sim.agents.astra_local.lss import VoxelGridConfig, rig_rays
from astra_sim.render.rig import Rig


@dataclass
class RenderConfig:
    """Attributes:
    rays: rays rendered per sample and step (a random subset of the pixels).
    samples: points per ray.
    near: first sample's range along the ray, metres.
    far: last sample's range; depths beyond it are not supervised.
    hidden: width of the SDF and colour MLPs.
    depth_weight: weight of the depth L1 relative to the colour L1.
    """

    rays: int = 256
    samples: int = 24
    near: float = 0.2
    far: float = 6.0
    hidden: int = 32
    depth_weight: float = 1.0


class VolumeRenderer(nn.Module):
    """Renders depth and colour of sampled pixels from voxel features (B, C, Z, X, Y).

    ``stride`` renders at the rig's resolution divided by it (the images given to ``loss``
    must have that size), so a small model can train on downsampled views.
    """

    def __init__(
        self, rig: Rig, grid: VoxelGridConfig, feat_dim: int, cfg: RenderConfig, stride: int = 1
    ) -> None:
        super().__init__()
        self.cfg = cfg
        self.grid = grid
        rays = rig_rays(rig, stride)
        self.register_buffer("dirs", torch.from_numpy(rays["dirs"]), persistent=False)
        self.register_buffer("factor", torch.from_numpy(rays["depth_factor"]), persistent=False)
        self.register_buffer("centres", torch.from_numpy(rays["centres"]), persistent=False)
        self.register_buffer("valid", torch.from_numpy(rays["valid"]), persistent=False)
        hid = cfg.hidden
        self.sdf = nn.Sequential(nn.Linear(feat_dim + 3, hid), nn.SiLU(), nn.Linear(hid, 1 + hid))
        self.rgb = nn.Sequential(nn.Linear(hid + 3, hid), nn.SiLU(), nn.Linear(hid, 3))
        self.log_beta = nn.Parameter(torch.tensor(float(np.log(0.1))))

    def render(
        self, voxels: torch.Tensor, cam: torch.Tensor, pix: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Render rays of camera ``cam`` (B, R) at flat pixel ``pix`` (B, R) (rig resolution).

        Returns ``depth`` (B, R) optical depth and ``rgb`` (B, R, 3) in [0, 1].
        """
        b, r = cam.shape
        h, w = self.valid.shape[1:]
        d = self.dirs.reshape(-1, h * w, 3)[cam, pix]  # (B, R, 3)
        o = self.centres[cam]  # (B, R, 3)
        s = self.cfg.samples
        t = torch.linspace(self.cfg.near, self.cfg.far, s, device=voxels.device)
        pts = o[:, :, None] + d[:, :, None] * t[:, None]  # (B, R, S, 3)
        coords = self.grid.normalize(pts).reshape(b, 1, r, s, 3)
        feats = F.grid_sample(voxels, coords, align_corners=False, padding_mode="zeros")
        feats = feats.reshape(b, -1, r, s).permute(0, 2, 3, 1)  # (B, R, S, C)
        out = self.sdf(torch.cat([feats, pts], dim=-1))
        sdf, hid = out[..., 0], out[..., 1:]
        rgb = torch.sigmoid(self.rgb(torch.cat([hid, d[:, :, None].expand(-1, -1, s, -1)], -1)))
        beta = self.log_beta.exp().clamp(min=1e-3)
        # VolSDF: sigma = Laplace CDF(-sdf) / beta (dense inside, thin outside).
        half = 0.5 * torch.exp(-sdf.abs() / beta)
        sigma = torch.where(sdf > 0, half, 1 - half) / beta
        delta = torch.full_like(t, (self.cfg.far - self.cfg.near) / max(s - 1, 1))
        alpha = 1 - torch.exp(-sigma * delta)
        shifted = torch.cat([torch.ones_like(alpha[..., :1]), 1 - alpha[..., :-1] + 1e-7], -1)
        trans = torch.cumprod(shifted, -1)
        weight = alpha * trans
        # Rays that leave the grid unhit end at ``far`` (remaining transmittance there).
        rest = 1 - weight.sum(-1)
        rng = (weight * t).sum(-1) + rest * self.cfg.far
        colour = (weight[..., None] * rgb).sum(-2)
        factor = self.factor.reshape(-1, h * w)[cam, pix]
        return {"depth": rng * factor, "rgb": colour}

    def sample_rays(
        self, batch: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Random valid (camera, flat pixel) pairs, (B, R) each, drawn from ``generator``.

        The generator is a CPU one on any device (as the planners' noise), so a seed draws
        the same rays on CPU and GPU.
        """
        h, w = self.valid.shape[1:]
        flat = self.valid.reshape(-1).nonzero().squeeze(1)
        pick = torch.randint(len(flat), (batch, self.cfg.rays), generator=generator)
        idx = flat[pick.to(flat.device)]
        return idx // (h * w), idx % (h * w)

    def loss(
        self,
        voxels: torch.Tensor,
        rgb: torch.Tensor,
        depth: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """L1 on rendered depth and colour against the rig's images.

        Args:
            voxels: (B, C, Z, X, Y).
            rgb: (B, N, H, W, 3) in [0, 1] at the rig's resolution.
            depth: (B, N, H, W) optical depth in metres (0 or beyond ``far``: unsupervised).
        """
        b = voxels.shape[0]
        cam, pix = self.sample_rays(b, generator)
        out = self.render(voxels, cam, pix)
        n, h, w = self.valid.shape
        rows = torch.arange(b, device=cam.device)[:, None]
        true_rgb = rgb.reshape(b, n * h * w, 3)[rows, cam * h * w + pix]
        true_d = depth.reshape(b, n * h * w)[rows, cam * h * w + pix]
        true_range = true_d / self.factor.reshape(-1)[cam * h * w + pix].clamp(min=1e-3)
        ok = (true_d > 0) & (true_range < self.cfg.far)
        rgb_l1 = (out["rgb"] - true_rgb).abs().mean()
        d_l1 = ((out["depth"] - true_d).abs() * ok).sum() / ok.sum().clamp(min=1)
        loss = rgb_l1 + self.cfg.depth_weight * d_l1
        return loss, {"render/rgb_l1": rgb_l1.item(), "render/depth_l1": d_l1.item()}


__all__ = ["RenderConfig", "VolumeRenderer"]
