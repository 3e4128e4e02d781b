"""ACT (Action Chunking with Transformers, Zhao et al. 2023) as a planning baseline.

Same inputs and outputs as the flow-matching head, so only the way the chunk is produced
differs: a CVAE whose encoder reads the ground-truth steps (plus velocity and goal) into a
latent z; the decoder's T learned queries cross-attend to the scene memory (with z as one
more token) and regress the steps directly. At inference z = 0, the prior's mean, which
makes ACT deterministic. Loss: L1 on normalised steps + kl_weight * KL(q(z) || N(0, I)),
plus the masked ESDF term on the predicted chunk itself.
"""

from __future__ import annotations

import torch
from torch import nn

from astra_sim.agents.astra_local.planner import (
    PlannerBase,
    PlannerConfig,
    randn,
    transformer_decoder,
    transformer_encoder,
)


class ACTPlanner(PlannerBase):
    """CVAE transformer that regresses the T steps in one pass."""

    def __init__(self, cfg: PlannerConfig):
        super().__init__(cfg)
        d = cfg.d_model
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.style_steps = nn.Linear(3, d)
        self.style_cond = nn.Linear(4, d)
        self.style_encoder = transformer_encoder(cfg, 1)
        self.to_latent = nn.Linear(d, 2 * cfg.latent_dim)
        self.from_latent = nn.Linear(cfg.latent_dim, d)
        self.decoder = transformer_decoder(cfg)
        self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 3))

    def _decode(self, batch: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        memory = self.encoder(batch, extra=self.from_latent(z).unsqueeze(1))
        queries = self.step_pos.expand(memory.shape[0], -1, -1)
        return self.out(self.decoder(queries, memory))

    def loss(self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None):
        x1 = self.normalize(batch["steps"])
        b = x1.shape[0]
        cond = self.style_cond(torch.cat([batch["velocity"], batch["goal"] / 5.0], -1))
        tokens = torch.cat(
            [self.cls.expand(b, -1, -1), cond[:, None], self.style_steps(x1) + self.step_pos], 1
        )
        mu, logvar = self.to_latent(self.style_encoder(tokens)[:, 0]).chunk(2, dim=-1)
        z = mu + torch.exp(0.5 * logvar) * randn(tuple(mu.shape), generator, mu)
        pred = self._decode(batch, z)
        l1 = (pred - x1).abs().mean()
        kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(-1)).mean()
        info = {"loss/l1": float(l1.detach()), "loss/kl": float(kl.detach())}
        total = l1 + self.cfg.kl_weight * kl + self.esdf_term(pred, batch, info)
        info["loss/total"] = float(total.detach())
        return total, info

    @torch.no_grad()
    def sample(
        self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> torch.Tensor:
        b = batch["velocity"].shape[0]
        z = batch["velocity"].new_zeros((b, self.cfg.latent_dim))
        return self.denormalize(self._decode(batch, z))
