"""What the three planning heads share: the config, the condition encoder, the step scale.

Every head (flow matching here, ACT and a diffusion policy in ``agents/baselines``) reads
the same batch and outputs the same thing, so the paper's comparison changes one factor:

- inputs: ``bev (B, C, X, Y)``, ``occupancy (B, X, Y)``, ``velocity (B, 2)`` (v, w) and
  ``goal (B, 2)`` (local goal in the robot frame, metres); for training also ``steps
  (B, T, 3)`` (ground-truth relative steps) and ``esdf (B, X, Y)`` (robot-centred crops).
- output: ``sample(batch) -> (B, T, 3)`` relative steps (dx, dy, dyaw), metres and radians.
- ``loss(batch, generator) -> (loss, info)``: the head's imitation loss plus, when
  ``esdf.enabled``, ``esdf.weight`` times the masked ESDF penalty of its estimate.

The encoder turns the scene into tokens as Astra-Local does: patch tokens of the feature
map and of the occupancy grid (each with its own type embedding), a velocity token and a
goal token, mixed by a transformer encoder whose output is the decoder's memory.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from astra_sim.agents.astra_local.bev_input import BevConfig
from astra_sim.agents.astra_local.esdf_loss import EsdfLossConfig, masked_esdf_loss
from astra_sim.core.errors import UnknownNameError

HEADS = {
    "flow": "astra_sim.agents.astra_local.flow_matching:FlowMatchingPlanner",
    "act": "astra_sim.agents.baselines.act:ACTPlanner",
    "diffusion": "astra_sim.agents.baselines.diffusion_policy:DiffusionPlanner",
}


@dataclass
class PlannerConfig:
    """One planning head and its condition encoder.

    Attributes:
        head: flow, act or diffusion.
        horizon: T, planned steps. step_dt: seconds per step (8 x 0.25 s in the paper).
        d_model, heads, enc_layers, dec_layers, ff_mult, dropout: transformer sizes.
        patch: BEV cells per patch side (tokens = 2 * (size / patch)^2).
        step_scale: (dx, dy, dyaw) divisors that bring steps to about unit scale.
        ode_steps: Euler steps of flow-matching sampling.
        flow_esdf_rollout: flow head: for the ESDF loss, estimate the clean plan by
            integrating the learned flow from the flow state to t = 1 in ``ode_steps``
            Euler steps (what sampling returns), not by one step.
        diffusion_steps / sample_steps: DDPM training steps / DDIM sampling steps.
        kl_weight, latent_dim: ACT's CVAE.
        bev: the input grid (channels and geometry, shared with the ESDF crops).
        esdf: the masked ESDF loss.
    """

    head: str = "flow"
    horizon: int = 8
    step_dt: float = 0.25
    d_model: int = 64
    heads: int = 4
    enc_layers: int = 2
    dec_layers: int = 2
    ff_mult: int = 2
    dropout: float = 0.0
    patch: int = 4
    step_scale: list[float] = field(default_factory=lambda: [0.25, 0.05, 0.4])
    ode_steps: int = 4
    flow_esdf_rollout: bool = False
    diffusion_steps: int = 50
    sample_steps: int = 5
    kl_weight: float = 10.0
    latent_dim: int = 16
    bev: BevConfig = field(default_factory=BevConfig)
    esdf: EsdfLossConfig = field(default_factory=EsdfLossConfig)

    def __post_init__(self) -> None:
        if isinstance(self.bev, dict):
            self.bev = BevConfig(**self.bev)
        if isinstance(self.esdf, dict):
            self.esdf = EsdfLossConfig(**self.esdf)
        if self.head not in HEADS:
            raise UnknownNameError("planning head", self.head, HEADS)
        if self.bev.size % self.patch:
            raise ValueError(f"bev.size {self.bev.size} must be a multiple of patch {self.patch}")
        if self.d_model % self.heads:
            raise ValueError(f"d_model {self.d_model} must be a multiple of heads {self.heads}")
        if len(self.step_scale) != 3 or min(self.step_scale) <= 0:
            raise ValueError(f"step_scale must be 3 positive numbers, got {self.step_scale}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def transformer_encoder(cfg: PlannerConfig, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        cfg.d_model, cfg.heads, cfg.ff_mult * cfg.d_model, cfg.dropout, batch_first=True,
        norm_first=True,
    )  # fmt: skip
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


def transformer_decoder(cfg: PlannerConfig) -> nn.TransformerDecoder:
    layer = nn.TransformerDecoderLayer(
        cfg.d_model, cfg.heads, cfg.ff_mult * cfg.d_model, cfg.dropout, batch_first=True,
        norm_first=True,
    )  # fmt: skip
    return nn.TransformerDecoder(layer, cfg.dec_layers)


class SceneEncoder(nn.Module):
    """Scene, velocity and goal -> memory tokens (B, N, d_model)."""

    def __init__(self, cfg: PlannerConfig):
        super().__init__()
        d, p = cfg.d_model, cfg.patch
        self.feature_stem = nn.Sequential(
            nn.Conv2d(cfg.bev.channels, d // 2, 3, padding=1), nn.GELU(), nn.Conv2d(d // 2, d, p, p)
        )
        self.occupancy_stem = nn.Sequential(
            nn.Conv2d(1, d // 2, 3, padding=1), nn.GELU(), nn.Conv2d(d // 2, d, p, p)
        )
        n = (cfg.bev.size // p) ** 2
        self.patch_pos = nn.Parameter(torch.randn(1, n, d) * 0.02)
        self.type_emb = nn.Parameter(torch.randn(4, d) * 0.02)  # features, occupancy, vel, goal
        self.velocity = nn.Sequential(nn.Linear(2, d), nn.GELU(), nn.Linear(d, d))
        self.goal = nn.Sequential(nn.Linear(5, d), nn.GELU(), nn.Linear(d, d))
        self.encoder = transformer_encoder(cfg, cfg.enc_layers)

    def tokens(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The condition tokens before mixing: features, occupancy, velocity, goal."""
        f = self.feature_stem(batch["bev"]).flatten(2).transpose(1, 2)
        o = self.occupancy_stem(batch["occupancy"].unsqueeze(1)).flatten(2).transpose(1, 2)
        goal = batch["goal"]
        dist = goal.norm(dim=-1, keepdim=True)
        g = torch.cat([goal / 5.0, torch.log1p(dist), goal / dist.clamp_min(1e-3)], dim=-1)
        te = self.type_emb
        return torch.cat(
            [
                f + self.patch_pos + te[0],
                o + self.patch_pos + te[1],
                (self.velocity(batch["velocity"]) + te[2]).unsqueeze(1),
                (self.goal(g) + te[3]).unsqueeze(1),
            ],
            dim=1,
        )

    def forward(self, batch: dict[str, torch.Tensor], extra: torch.Tensor | None = None):
        """Memory tokens; ``extra`` (B, k, d) tokens (e.g. ACT's latent) join the mix."""
        tokens = self.tokens(batch)
        if extra is not None:
            tokens = torch.cat([extra, tokens], dim=1)
        return self.encoder(tokens)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding (B, dim) of flow times / diffusion steps in [0, 1] (scaled x1000)."""
    half = dim // 2
    freqs = torch.arange(half, dtype=torch.float32, device=t.device)
    freqs = torch.exp(-freqs * (9.21 / max(half - 1, 1)))
    args = 1000.0 * t[:, None].float() * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class PlannerBase(nn.Module):
    """Shared plumbing: step normalisation and the ESDF term; heads add loss and sample."""

    def __init__(self, cfg: PlannerConfig):
        super().__init__()
        self.cfg = cfg
        self.register_buffer("scale", torch.tensor(cfg.step_scale, dtype=torch.float32))
        self.encoder = SceneEncoder(cfg)
        self.step_pos = nn.Parameter(torch.randn(1, cfg.horizon, cfg.d_model) * 0.02)

    def normalize(self, steps: torch.Tensor) -> torch.Tensor:
        return steps / self.scale

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale

    def esdf_term(
        self,
        x_norm: torch.Tensor,
        batch: dict[str, torch.Tensor],
        info: dict[str, float],
        sample_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """weight * masked ESDF penalty of normalised steps; zero when switched off."""
        cfg = self.cfg.esdf
        if not cfg.enabled or cfg.weight == 0:
            return x_norm.new_zeros(())
        penalty, extra = masked_esdf_loss(
            self.denormalize(x_norm),
            batch["steps"],
            batch["esdf"],
            self.cfg.bev.cell_size,
            cfg,
            sample_weight,
        )
        info.update(extra)
        info["loss/esdf"] = float(penalty.detach())
        return cfg.weight * penalty

    def loss(self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None):
        raise NotImplementedError

    @torch.no_grad()
    def sample(
        self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> torch.Tensor:
        raise NotImplementedError


def build_planner(cfg: PlannerConfig | dict[str, Any]) -> PlannerBase:
    """The head ``cfg.head`` names; its module is imported only when asked for."""
    if isinstance(cfg, dict):
        cfg = PlannerConfig(**cfg)
    module, _, name = HEADS[cfg.head].partition(":")
    return getattr(importlib.import_module(module), name)(cfg)


def randn(shape: tuple[int, ...], generator: torch.Generator | None, like: torch.Tensor):
    """Gaussian noise from ``generator`` on ``like``'s device; without one, a generator
    seeded 0 (every draw is seeded: the same call gives the same noise)."""
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    return torch.randn(shape, generator=generator, dtype=like.dtype).to(like.device)


def rand(shape: tuple[int, ...], generator: torch.Generator | None, like: torch.Tensor):
    """Uniform [0, 1) draws, seeded as ``randn``."""
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    return torch.rand(shape, generator=generator, dtype=like.dtype).to(like.device)
