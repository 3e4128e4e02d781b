"""``DepthLifter`` as a torch module, so an exported planner takes the robot's raw depth.

The planner's occupancy grid (and, with ``bev.features`` depth, its BEV channels) come
from ``bev_input.DepthLifter``, which is numpy: bincounts over the valid returns of every
camera. For a deployable model that front end has to be in the graph, with operations ONNX
has: the lifted points of *every* kept pixel are computed (a miss or an out-of-grid point
gets weight 0 instead of being dropped, since a graph has no data-dependent sizes), and
the counts are a ``scatter_add``. The geometry runs in float64, as the numpy lifter does,
so a point on a cell boundary falls in the same cell and the two agree exactly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from astra_sim.agents.astra_local.bev_input import BevConfig, DepthLifter
from astra_sim.render.rig import Rig


class DepthBev(nn.Module):
    """Depth (B, N, H, W) metres -> BEV bands (B, channels, X, Y) and occupancy (B, X, Y).

    The same numbers as ``DepthLifter(rig, config)`` on each frame of the batch.
    """

    def __init__(self, rig: Rig, config: BevConfig) -> None:
        super().__init__()
        lifter = DepthLifter(rig, config)
        self.config = config
        pixels = np.flatnonzero(lifter._keep.reshape(-1))
        self.register_buffer("pixels", torch.from_numpy(pixels), persistent=False)
        self.register_buffer("vecs", torch.from_numpy(lifter._vecs), persistent=False)
        self.register_buffer("origins", torch.from_numpy(lifter._origins), persistent=False)
        edges = torch.tensor(list(config.height_edges), dtype=torch.float64)
        self.register_buffer("edges", edges, persistent=False)

    def forward(self, depth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        b, size = depth.shape[0], cfg.size
        d = depth.reshape(b, -1).index_select(1, self.pixels).double()  # (B, P)
        p = self.origins + self.vecs * d[..., None]  # (B, P, 3)
        ij = torch.floor(p[..., :2] / cfg.cell_size + size / 2)
        inside = ((ij >= 0) & (ij < size)).all(-1)
        valid = (d > 0) & inside
        ij = torch.where(valid[..., None], ij, torch.zeros_like(ij)).long()
        z = p[..., 2]
        band = (z[..., None] > self.edges).sum(-1)  # numpy searchsorted, side="left"
        cell = ij[..., 0] * size + ij[..., 1]
        flat = band * size * size + cell
        channels = cfg.depth_channels
        counts = depth.new_zeros(b, channels * size * size, dtype=torch.float64)
        counts = counts.scatter_add(1, flat, valid.double())
        bev = torch.log1p(counts) / float(np.log1p(cfg.norm_count))
        blocking = valid & (z >= cfg.step_height) & (z <= cfg.robot_height)
        hits = depth.new_zeros(b, size * size, dtype=torch.float64)
        hits = hits.scatter_add(1, cell, blocking.double())
        occupancy = (hits > 0).float().reshape(b, size, size)
        return bev.float().reshape(b, channels, size, size), occupancy


__all__ = ["DepthBev"]
