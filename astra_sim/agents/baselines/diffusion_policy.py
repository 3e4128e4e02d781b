"""Diffusion Policy (Chi et al. 2023), transformer variant, as a planning baseline.

Same encoder, inputs and outputs as the flow-matching head; the chunk of T steps is
denoised instead of transported: DDPM training with a cosine noise schedule of
``diffusion_steps`` steps and epsilon prediction; sampling with deterministic DDIM over
``sample_steps`` evenly spaced steps. For the masked ESDF term the clean chunk is the
prediction's x0 estimate, (x_k - sqrt(1 - abar_k) eps_hat) / sqrt(abar_k), clipped to the
range the normalised data spans, and its penalty is weighted by abar_k (the share of signal
in x_k): at high noise that estimate is mostly amplified noise, and penalising it would
fight the denoising objective instead of shaping the clean chunk.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from astra_sim.agents.astra_local.planner import (
    PlannerBase,
    PlannerConfig,
    randn,
    timestep_embedding,
    transformer_decoder,
)

X0_CLIP = 4.0


def cosine_alpha_bar(steps: int) -> torch.Tensor:
    """abar_k for k = 0..steps-1 (Nichol & Dhariwal 2021), k = 0 the least noisy."""
    s = 0.008
    f = [math.cos(((k / steps) + s) / (1 + s) * math.pi / 2) ** 2 for k in range(steps + 1)]
    betas = [min(1 - f[k + 1] / f[k], 0.999) for k in range(steps)]
    return torch.cumprod(1 - torch.tensor(betas, dtype=torch.float32), 0)


class DiffusionPlanner(PlannerBase):
    """Transformer encoder-decoder that predicts the noise of a noisy step chunk."""

    def __init__(self, cfg: PlannerConfig):
        super().__init__(cfg)
        d = cfg.d_model
        self.register_buffer("alpha_bar", cosine_alpha_bar(cfg.diffusion_steps))
        self.step_in = nn.Linear(3, d)
        self.time = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))
        self.decoder = transformer_decoder(cfg)
        self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 3))

    def epsilon(self, x_k: torch.Tensor, k: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Predicted noise (B, T, 3) of chunks x_k at integer steps k (B,)."""
        t = k.float() / self.cfg.diffusion_steps
        time = self.time(timestep_embedding(t, self.cfg.d_model)).unsqueeze(1)
        queries = self.step_in(x_k) + self.step_pos + time
        return self.out(self.decoder(queries, memory + time))

    def loss(self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None):
        x0 = self.normalize(batch["steps"])
        b = x0.shape[0]
        gen = generator if generator is not None else torch.Generator().manual_seed(0)
        k = torch.randint(0, self.cfg.diffusion_steps, (b,), generator=gen).to(x0.device)
        noise = randn(tuple(x0.shape), gen, x0)
        ab = self.alpha_bar[k][:, None, None]
        x_k = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        eps = self.epsilon(x_k, k, self.encoder(batch))
        mse = ((eps - noise) ** 2).mean()
        info = {"loss/diffusion": float(mse.detach())}
        x0_hat = ((x_k - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-X0_CLIP, X0_CLIP)
        total = mse + self.esdf_term(x0_hat, batch, info, sample_weight=ab[:, 0, 0])
        info["loss/total"] = float(total.detach())
        return total, info

    @torch.no_grad()
    def sample(
        self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> torch.Tensor:
        memory = self.encoder(batch)
        b, n = memory.shape[0], self.cfg.diffusion_steps
        x = randn((b, self.cfg.horizon, 3), generator, memory)
        ks = torch.linspace(n - 1, 0, self.cfg.sample_steps).round().long().tolist()
        for i, k in enumerate(ks):
            ab = self.alpha_bar[k]
            eps = self.epsilon(x, torch.full((b,), k, device=memory.device), memory)
            x0 = ((x - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-X0_CLIP, X0_CLIP)
            if i + 1 == len(ks):
                x = x0
            else:
                ab_next = self.alpha_bar[ks[i + 1]]
                x = ab_next.sqrt() * x0 + (1 - ab_next).sqrt() * eps
        return self.denormalize(x)
