"""Astra-Local's planning head: conditional flow matching over relative steps.

Rectified-flow convention: x_t = (1 - t) x0 + t x1 with x0 ~ N(0, I) and x1 the normalised
ground-truth steps; the network predicts the velocity x1 - x0 from (x_t, t, condition), and
sampling integrates dx/dt = v from t = 0 to 1 with ``ode_steps`` Euler steps (a few suffice:
the learned flow is nearly straight).

For the masked ESDF loss the head needs a whole trajectory at every training sample, not
only a velocity: the clean trajectory implied by the prediction is
x1_hat = x_t + (1 - t) v_hat, which is integrated to poses and checked against the ESDF.
"""

from __future__ import annotations

import torch
from torch import nn

from astra_sim.agents.astra_local.planner import (
    PlannerBase,
    PlannerConfig,
    rand,
    randn,
    timestep_embedding,
    transformer_decoder,
)


class FlowMatchingPlanner(PlannerBase):
    """Transformer encoder-decoder: the decoder's T queries are the noisy steps."""

    def __init__(self, cfg: PlannerConfig):
        super().__init__(cfg)
        d = cfg.d_model
        self.step_in = nn.Linear(3, d)
        self.time = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))
        self.decoder = transformer_decoder(cfg)
        self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 3))

    def velocity(self, x_t: torch.Tensor, t: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Predicted flow (B, T, 3) at normalised steps x_t and times t (B,)."""
        time = self.time(timestep_embedding(t, self.cfg.d_model)).unsqueeze(1)
        queries = self.step_in(x_t) + self.step_pos + time
        return self.out(self.decoder(queries, memory + time))

    def loss(self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None):
        x1 = self.normalize(batch["steps"])
        b = x1.shape[0]
        x0 = randn(tuple(x1.shape), generator, x1)
        t = rand((b,), generator, x1)
        x_t = (1 - t[:, None, None]) * x0 + t[:, None, None] * x1
        memory = self.encoder(batch)
        v = self.velocity(x_t, t, memory)
        fm = ((v - (x1 - x0)) ** 2).mean()
        info = {"loss/flow": float(fm.detach())}
        if self.cfg.flow_esdf_rollout and self.cfg.esdf.enabled:
            total = fm + self.esdf_term(self.rollout(x_t, t, v, memory), batch, info)
        else:
            x1_hat = x_t + (1 - t[:, None, None]) * v
            # The one-step estimate of the clean plan is only as good as the signal in
            # x_t (a share t of it): weight its clearance penalty by t, as the diffusion
            # head weights by its signal fraction, so near-noise guesses do not bend it.
            total = fm + self.esdf_term(x1_hat, batch, info, sample_weight=t)
        info["loss/total"] = float(total.detach())
        return total, info

    def rollout(
        self, x_t: torch.Tensor, t: torch.Tensor, v: torch.Tensor, memory: torch.Tensor
    ) -> torch.Tensor:
        """The clean plan sampling would reach from (x_t, t): Euler steps to t = 1, with
        gradients (the first reuses the flow ``v`` already predicted at t)."""
        n = self.cfg.ode_steps
        dt = ((1 - t) / n)[:, None, None]
        x = x_t + dt * v
        for k in range(1, n):
            x = x + dt * self.velocity(x, t + k * dt[:, 0, 0], memory)
        return x

    @torch.no_grad()
    def sample(
        self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> torch.Tensor:
        memory = self.encoder(batch)
        b = memory.shape[0]
        x = randn((b, self.cfg.horizon, 3), generator, memory)
        n = self.cfg.ode_steps
        for k in range(n):
            t = torch.full((b,), k / n, dtype=memory.dtype, device=memory.device)
            x = x + self.velocity(x, t, memory) / n
        return self.denormalize(x)
