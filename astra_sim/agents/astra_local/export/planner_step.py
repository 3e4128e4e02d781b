"""The planning head with its feature front end, as one graph from raw sensors to a plan.

What ``PlannerAgent.plan`` does per control step, minus the local goal (the caller's, from
Astra-Global's route): depth -> BEV bands and occupancy (``DepthBev``, the exact torch form
of the depth lifter), RGB -> the frozen 3D encoder's BEV resampled onto the planner grid
(``EncoderFeaturizer``'s grid and squash) when the checkpoint reads encoder features, then
the head's sampler. A graph has no random generator, so the sampler's starting noise is an
input: ``noise = torch.randn((1, T, 3), generator=g)`` gives exactly
``model.sample(batch, g)`` (a test checks), and a robot may pass any N(0, I) draw. ACT
draws no noise and has no such input.

Inputs (batch 1): ``rgb`` (1, N, H, W, 3) uint8 at the rig's size (encoder features
only), ``depth`` (1, N, H, W) float32 metres (0: no return), ``velocity`` (1, 2) (v, w),
``goal`` (1, 2) local goal in the robot frame, metres, ``noise`` (1, T, 3). Outputs:
``steps`` (1, T, 3) relative (dx, dy, dyaw) and ``occupancy`` (1, X, Y), the grid the
fallback planner checks a plan against.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from astra_sim.agents.astra_local.encoder3d import Encoder3D
from astra_sim.agents.astra_local.export.depth_bev import DepthBev
from astra_sim.agents.astra_local.export.odometry_step import TensorSpec
from astra_sim.agents.astra_local.plan_features import EncoderFeaturizer, squash
from astra_sim.agents.astra_local.planner import PlannerBase
from astra_sim.render.rig import Rig


class PlannerStep(nn.Module):
    """Sensors, velocity, goal (and noise) -> the planned steps and the occupancy grid."""

    def __init__(self, planner: PlannerBase, encoder: Encoder3D | None, rig: Rig) -> None:
        super().__init__()
        self.planner = planner.eval()
        cfg = planner.cfg
        self.head = cfg.head
        self.features = cfg.bev.features
        self.depth = DepthBev(rig, cfg.bev)
        self.encoder = None
        if cfg.bev.uses_encoder:
            if encoder is None:
                raise ValueError(f"bev.features={cfg.bev.features} but no encoder was given")
            self.encoder = encoder.eval()
            grid = EncoderFeaturizer(rig, cfg.bev, encoder).grid
            self.register_buffer("grid", grid, persistent=False)
        n, h, w = rig.shape
        self.inputs = []
        if self.encoder is not None:
            self.inputs.append(TensorSpec("rgb", (1, n, h, w, 3), torch.uint8, "camera frames"))
        self.inputs += [
            TensorSpec("depth", (1, n, h, w), torch.float32, "depth, m (0: no return)"),
            TensorSpec("velocity", (1, 2), torch.float32, "body velocity (v, w)"),
            TensorSpec("goal", (1, 2), torch.float32, "local goal, robot frame, m"),
        ]
        if self.head != "act":
            t = cfg.horizon
            self.inputs.append(TensorSpec("noise", (1, t, 3), torch.float32, "N(0, I) draw"))
        size = cfg.bev.size
        self.outputs = [
            TensorSpec("steps", (1, cfg.horizon, 3), torch.float32, "planned dx, dy, dyaw"),
            TensorSpec("occupancy", (1, size, size), torch.float32, "depth occupancy grid"),
        ]

    def scene(self, rgb: torch.Tensor | None, depth: torch.Tensor) -> dict[str, torch.Tensor]:
        """The planner batch's ``bev`` and ``occupancy`` of one frame."""
        bands, occupancy = self.depth(depth)
        if self.encoder is None:
            return {"bev": bands, "occupancy": occupancy}
        flat = Encoder3D.bev(self.encoder(rgb))
        grid = self.grid.expand(len(flat), -1, -1, -1)
        feats = squash(F.grid_sample(flat, grid, mode="bilinear", align_corners=False))
        if "depth" in self.features:
            feats = torch.cat([feats, bands], dim=1)
        return {"bev": feats, "occupancy": occupancy}

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        given = dict(zip([s.name for s in self.inputs], args, strict=True))
        batch = self.scene(given.get("rgb"), given["depth"])
        batch.update(velocity=given["velocity"], goal=given["goal"])
        return self.sample(batch, given.get("noise")), batch["occupancy"]

    def sample(self, batch: dict[str, torch.Tensor], noise: torch.Tensor | None) -> torch.Tensor:
        """The head's ``sample`` with its starting noise given (the same loop)."""
        p = self.planner
        if self.head == "act":
            return p.sample(batch)
        memory = p.encoder(batch)
        b, x = memory.shape[0], noise
        if self.head == "flow":
            n = p.cfg.ode_steps
            for k in range(n):
                t = torch.full((b,), k / n, dtype=memory.dtype)
                x = x + p.velocity(x, t, memory) / n
            return p.denormalize(x)
        from astra_sim.agents.baselines.diffusion_policy import X0_CLIP

        n = p.cfg.diffusion_steps
        ks = torch.linspace(n - 1, 0, p.cfg.sample_steps).round().long().tolist()
        for i, k in enumerate(ks):
            ab = p.alpha_bar[k]
            eps = p.epsilon(x, torch.full((b,), k, dtype=torch.long), memory)
            x0 = ((x - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-X0_CLIP, X0_CLIP)
            if i + 1 == len(ks):
                x = x0
            else:
                ab_next = p.alpha_bar[ks[i + 1]]
                x = ab_next.sqrt() * x0 + (1 - ab_next).sqrt() * eps
        return p.denormalize(x)


__all__ = ["PlannerStep"]
