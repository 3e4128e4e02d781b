"""Lift-Splat-Shoot: per-patch depth distributions lifted into a voxel grid around the robot.

Each image patch predicts a categorical distribution over depth bins and a context vector;
their outer product places the context along the patch's ray (lift), and every frustum
point is summed into the voxel it falls in (splat, "voxel pooling"). The frustum geometry
depends only on the rig, so the voxel index of every (camera, bin, patch) is precomputed
once from the cameras' own ray directions: any camera model and any number of views work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from astra_sim.render.rig import Rig


@dataclass
class VoxelGridConfig:
    """The voxel grid in the robot's base frame (x forward, y left, z up), metres.

    Attributes:
        extent: half-size of the square grid in x and y.
        height: top of the grid; the bottom is the floor (z = 0).
        cell: side of a voxel in x and y.
        z_cells: voxels along z.
    """

    extent: float = 4.0
    height: float = 2.0
    cell: float = 0.25
    z_cells: int = 4

    def __post_init__(self) -> None:
        if self.extent <= 0 or self.height <= 0 or self.cell <= 0 or self.z_cells < 1:
            raise ValueError(f"VoxelGridConfig values must be positive, got {self}")
        n = 2 * self.extent / self.cell
        if abs(n - round(n)) > 1e-6:
            raise ValueError(f"VoxelGridConfig.cell={self.cell} must divide 2*extent")

    @property
    def xy_cells(self) -> int:
        return round(2 * self.extent / self.cell)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(Z, X, Y) cells."""
        return (self.z_cells, self.xy_cells, self.xy_cells)

    def normalize(self, points: torch.Tensor) -> torch.Tensor:
        """Base-frame points (..., 3) -> grid_sample coordinates (..., 3) ordered (y, x, z).

        Voxel tensors are laid out (C, Z, X, Y), so grid_sample's (W, H, D) are (Y, X, Z).
        """
        x = points[..., 0] / self.extent
        y = points[..., 1] / self.extent
        z = points[..., 2] / self.height * 2.0 - 1.0
        return torch.stack([y, x, z], dim=-1)


def rig_rays(rig: Rig, stride: int) -> dict[str, np.ndarray]:
    """Rays of the rig's pixels averaged over ``stride`` x ``stride`` blocks.

    Returns:
        ``dirs`` (N, h, w, 3) unit directions in the base frame, ``depth_factor`` (N, h, w)
        (the camera-frame x component: optical depth = range * factor), ``centres`` (N, 3)
        and ``valid`` (N, h, w) (every pixel of the block sees the world).
    """
    dirs, factors, valid = [], [], []
    for m in rig.mounts:
        cam_dirs = np.asarray(m.camera.ray_directions(), dtype=np.float64)
        ok = np.asarray(m.camera.valid)
        h, w = ok.shape
        if h % stride or w % stride:
            raise ValueError(f"stride {stride} must divide the camera size {h}x{w}")
        blocks = cam_dirs.reshape(h // stride, stride, w // stride, stride, 3).mean((1, 3))
        blocks /= np.maximum(np.linalg.norm(blocks, axis=-1, keepdims=True), 1e-9)
        okb = ok.reshape(h // stride, stride, w // stride, stride).all((1, 3))
        dirs.append(blocks @ m.rotation.T)
        factors.append(np.where(okb, blocks[..., 0], 0.0))
        valid.append(okb)
    centres = np.array([m.xyz for m in rig.mounts], dtype=np.float64)
    return {
        "dirs": np.stack(dirs).astype(np.float32),
        "depth_factor": np.stack(factors).astype(np.float32),
        "centres": centres.astype(np.float32),
        "valid": np.stack(valid),
    }


class LiftSplat(nn.Module):
    """Patch features (B, N, C_in, h, w) -> voxel features (B, C, Z, X, Y).

    Args:
        rig: the cameras (for the frustum geometry).
        grid: the voxel grid.
        in_dim: channels of the patch features.
        out_dim: channels of the voxel features.
        patch_grid: patches along each image side (h = w).
        depth_bins: number of depth bins, spaced uniformly in optical depth.
        depth_range: (near, far) optical depth of the bins, metres.
    """

    def __init__(
        self,
        rig: Rig,
        grid: VoxelGridConfig,
        in_dim: int,
        out_dim: int,
        patch_grid: int,
        depth_bins: int = 16,
        depth_range: tuple[float, float] = (0.25, 6.0),
    ) -> None:
        super().__init__()
        self.grid = grid
        self.out_dim = out_dim
        self.depth_bins = depth_bins
        self.head = nn.Conv2d(in_dim, depth_bins + out_dim, 1)
        size = rig.shape[1]
        if size % patch_grid:
            raise ValueError(f"patch_grid {patch_grid} must divide the image size {size}")
        rays = rig_rays(rig, size // patch_grid)
        depths = np.linspace(*depth_range, depth_bins, dtype=np.float32)
        self.register_buffer("bin_depths", torch.from_numpy(depths), persistent=False)
        # Points (N, D, h, w, 3): centre + dir * range, range = depth / factor.
        factor = np.maximum(rays["depth_factor"], 1e-3)[:, None, :, :, None]
        dirs = rays["dirs"][:, None]
        pts = (
            rays["centres"][:, None, None, None, :]
            + dirs * depths[None, :, None, None, None] / factor
        )
        z_cells, xy = grid.z_cells, grid.xy_cells
        ix = np.floor((pts[..., 0] + grid.extent) / grid.cell).astype(np.int64)
        iy = np.floor((pts[..., 1] + grid.extent) / grid.cell).astype(np.int64)
        iz = np.floor(pts[..., 2] / grid.height * z_cells).astype(np.int64)
        inside = (ix >= 0) & (ix < xy) & (iy >= 0) & (iy < xy) & (iz >= 0) & (iz < z_cells)
        inside &= rays["valid"][:, None]
        flat = (iz * xy + ix) * xy + iy
        self.register_buffer("keep", torch.from_numpy(inside.reshape(-1)), persistent=False)
        self.register_buffer(
            "index", torch.from_numpy(flat.reshape(-1)[inside.reshape(-1)]), persistent=False
        )

    def forward(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns voxels (B, C, Z, X, Y) and the depth distributions (B, N, D, h, w)."""
        b, n, c, h, w = feats.shape
        out = self.head(feats.reshape(b * n, c, h, w))
        depth = out[:, : self.depth_bins].softmax(dim=1)
        ctx = out[:, self.depth_bins :]
        # (B*N, D, C, h, w) -> (B, N, D, h, w, C) -> (B, P, C)
        frustum = (depth[:, :, None] * ctx[:, None]).permute(0, 1, 3, 4, 2)
        frustum = frustum.reshape(b, -1, self.out_dim)[:, self.keep]
        z, x, y = self.grid.shape
        vox = feats.new_zeros(b, z * x * y, self.out_dim).index_add_(1, self.index, frustum)
        vox = vox.transpose(1, 2).reshape(b, self.out_dim, z, x, y)
        return vox, depth.reshape(b, n, self.depth_bins, h, w)


__all__ = ["LiftSplat", "VoxelGridConfig", "rig_rays"]
