"""The odometry head of Astra-Local: a transformer over vision, IMU and wheel tokens.

Per frame, a vision token comes from the correlation of consecutive BEV features (how the
scene moved between the frames), an IMU token and a wheel token from small LSTMs over the
raw samples between the frames. Tokens get a modality and a temporal embedding; a CLS
token and a transformer encoder over the current and previous frames (10 in the paper)
regress the relative pose of the last step, trained with L1. Each modality can be switched
off for the ablations of the paper's table; with none left there is nothing to estimate
from, which is an error, not a silent zero.

With the wheel or IMU modality on, the head regresses a residual on the kinematic prior
(``kinematic_prior.py``: the step the wheels and gyro integrate to, with the calibrated
geometry) and sees the prior's parts as one more token per frame; the residual's output
layer starts at zero, so an untrained head is exactly dead reckoning.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from astra_sim.agents.astra_local.kinematic_prior import PRIOR_FEATURES, kinematic_prior
from astra_sim.physics.base import DiffDriveConfig

POSE_SCALE = (0.1, 0.1, 0.1)
"""Units of the regressed pose (m, m, rad): one control step moves about this much."""


@dataclass
class OdometryConfig:
    """Attributes:
    window: frames the transformer sees (the current one and ``window - 1`` before).
    d_model: token width.
    layers: transformer encoder layers.
    heads: attention heads.
    use_vision: BEV-correlation tokens.
    use_imu: IMU-LSTM tokens.
    use_wheel: wheel-LSTM tokens.
    corr_radius: correlation displacements in BEV cells (a (2r+1)^2 cost volume).
    corr_dim: channels of the correlation CNN.
    lstm_hidden: hidden size of the IMU and wheel LSTMs.
    kinematic_prior: with the wheel or IMU on, regress a residual on the dead-reckoning
        step and add the prior token (see the module docstring).
    wheel_radius: calibrated wheel radius of the prior, m.
    track_width: calibrated track width of the prior, m.
    imu_hz: IMU sample rate of the prior.
    """

    window: int = 10
    d_model: int = 64
    layers: int = 2
    heads: int = 4
    use_vision: bool = True
    use_imu: bool = True
    use_wheel: bool = True
    corr_radius: int = 2
    corr_dim: int = 32
    lstm_hidden: int = 32
    kinematic_prior: bool = True
    wheel_radius: float = DiffDriveConfig().wheel_radius
    track_width: float = DiffDriveConfig().track_width
    imu_hz: float = 200.0

    def __post_init__(self) -> None:
        if not (self.use_vision or self.use_imu or self.use_wheel):
            raise ValueError(
                "OdometryConfig: use_vision, use_imu and use_wheel are all False; the "
                "odometry head needs at least one modality to estimate motion from"
            )
        if self.window < 1 or self.d_model % self.heads:
            raise ValueError("OdometryConfig needs window >= 1 and heads dividing d_model")

    @property
    def modalities(self) -> list[str]:
        return [m for m in ("vision", "imu", "wheel") if getattr(self, f"use_{m}")]

    @property
    def uses_prior(self) -> bool:
        """Whether the head adds the kinematic prior (it needs the wheel or the IMU)."""
        return self.kinematic_prior and (self.use_imu or self.use_wheel)


def local_correlation(a: torch.Tensor, b: torch.Tensor, radius: int) -> torch.Tensor:
    """Cost volume (B, (2r+1)^2, X, Y): cosine similarity of a's cell with b's neighbours."""
    a = F.normalize(a, dim=1)
    b = F.pad(F.normalize(b, dim=1), (radius,) * 4)
    x, y = a.shape[-2:]
    k = 2 * radius + 1
    # A loop over shifts: unfold would materialise C * k^2 copies of the map.
    return torch.stack(
        [(a * b[..., i : i + x, j : j + y]).sum(1) for i in range(k) for j in range(k)], 1
    )


class BevMotion(nn.Module):
    """Two BEV maps (B, C, X, Y) -> a motion feature (B, out_dim).

    The cost volume says where each cell went; a strided CNN keeps where in the grid that
    happened (a rotation moves far cells more than near ones), then a linear layer.
    """

    def __init__(self, channels: int, grid: int, radius: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.radius = radius
        self.proj = nn.Conv2d(channels, hidden // 2, 1)
        cin = (2 * radius + 1) ** 2 + hidden
        layers, size = [], grid
        for _ in range(3):
            layers += [nn.Conv2d(cin, hidden, 3, stride=2, padding=1), nn.GELU()]
            cin, size = hidden, (size + 1) // 2
        self.cnn = nn.Sequential(*layers)
        self.out = nn.Linear(hidden * size * size, out_dim)

    def forward(self, prev: torch.Tensor, cur: torch.Tensor) -> torch.Tensor:
        # Correlate learnt low-width features (as RAFT does), not the raw BEV channels.
        prev, cur = self.proj(prev), self.proj(cur)
        x = torch.cat([local_correlation(prev, cur, self.radius), prev, cur], dim=1)
        return self.out(self.cnn(x).flatten(1))


class SeqToken(nn.Module):
    """Raw samples (B, L, D) -> one token (B, out_dim): an LSTM's last state, projected."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, scale: tuple[float, ...]) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32), persistent=False)
        self.lstm = nn.LSTM(in_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x.float() * self.scale)
        return self.out(h[-1])


# Per-channel input scales: accel / g (z loses gravity's 1 via the LSTM bias), gyro in rad/s
# (x5: yaw rates are ~0.5 rad/s), wheel increments (~0.02 rad per sample at 1 m/s) x 50.
IMU_SCALE = (0.1, 0.1, 0.1, 5.0, 5.0, 5.0)
WHEEL_SCALE = (50.0, 50.0)


class OdometryHead(nn.Module):
    """Tokens of a sequence of steps -> the relative pose of every step (dx, dy, dyaw).

    Step s's pose comes from the CLS token of a transformer over the tokens of steps
    s-W+1..s (W = ``cfg.window``), so a whole episode (or a training chunk) is one call and
    every frame is encoded once. Steps before the sequence or masked out are padding.

    Inputs (a switched-off modality may be None):
        bev: (B, S+1, C, X, Y) BEV features of the frame before the first step and after
            each step.
        imu: (B, S, K, 6) IMU samples of each step.
        wheel: (B, S, M, 2) wheel increments of each step.
        mask: (B, S) bool, True where the step exists (False pads an episode's start).
    Output: (B, S, 3).
    """

    def __init__(self, cfg: OdometryConfig, bev_channels: int = 0, bev_grid: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        if cfg.use_vision:
            if bev_channels < 1 or bev_grid < 1:
                raise ValueError("the vision modality needs bev_channels and bev_grid")
            self.vision = BevMotion(bev_channels, bev_grid, cfg.corr_radius, cfg.corr_dim, d)
        if cfg.use_imu:
            self.imu = SeqToken(6, cfg.lstm_hidden, d, IMU_SCALE)
        if cfg.use_wheel:
            self.wheel = SeqToken(2, cfg.lstm_hidden, d, WHEEL_SCALE)
        if cfg.uses_prior:
            self.prior = nn.Sequential(nn.Linear(PRIOR_FEATURES, d), nn.GELU(), nn.Linear(d, d))
        self.modality = nn.Parameter(torch.zeros(4, d))
        self.temporal = nn.Parameter(torch.zeros(cfg.window, d))
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        for p in (self.modality, self.temporal, self.cls):
            nn.init.trunc_normal_(p, std=0.02)
        layer = nn.TransformerEncoderLayer(
            d, cfg.heads, 2 * d, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, 3)
        # A residual on the prior is ~1/10 of a step; it starts at zero (dead reckoning).
        scale = torch.tensor(POSE_SCALE) * (0.1 if cfg.uses_prior else 1.0)
        if cfg.uses_prior:
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)
        self.register_buffer("pose_scale", scale, persistent=False)

    def step_tokens(
        self,
        bev: torch.Tensor | None = None,
        imu: torch.Tensor | None = None,
        wheel: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Per-step tokens (B, S, modalities, d_model), before any embedding."""
        given = {"vision": bev, "imu": imu, "wheel": wheel}
        for name in self.cfg.modalities:
            if given[name] is None:
                raise ValueError(f"OdometryHead: modality {name!r} is on but no input was given")
        tokens = []
        for name in self.cfg.modalities:
            if name == "vision":
                b, s1, c, x, y = bev.shape
                prev = bev[:, :-1].reshape(-1, c, x, y)
                cur = bev[:, 1:].reshape(-1, c, x, y)
                tok = self.vision(prev, cur).reshape(b, s1 - 1, -1)
            else:
                seq = given[name]
                tok = getattr(self, name)(seq.flatten(0, 1)).reshape(*seq.shape[:2], -1)
            tokens.append(tok)
        return torch.stack(tokens, dim=2)

    def attend(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Per-step tokens (B, S, n, d) and mask (B, S) -> poses (B, S, 3)."""
        b, s, n, d = tokens.shape
        w = self.cfg.window
        if mask is None:
            mask = torch.ones(b, s, dtype=torch.bool, device=tokens.device)
        ids = [("vision", "imu", "wheel").index(m) for m in self.cfg.modalities]
        ids += [3] * (n - len(ids))  # the prior token
        tokens = tokens + self.modality[ids]
        # Pad W-1 steps in front, then take the window ending at each step.
        tokens = torch.cat([tokens.new_zeros(b, w - 1, n, d), tokens], dim=1)
        mask = torch.cat([mask.new_zeros(b, w - 1), mask], dim=1)
        win = tokens.unfold(1, w, 1).permute(0, 1, 4, 2, 3)  # (B, S, W, n, d)
        win = (win + self.temporal[:, None]).reshape(b * s, w * n, d)
        keep = mask.unfold(1, w, 1)[..., None].expand(-1, -1, -1, n).reshape(b * s, w * n)
        x = torch.cat([self.cls.expand(b * s, -1, -1), win], dim=1)
        keep = torch.cat([keep.new_ones(b * s, 1), keep], dim=1)
        x = self.encoder(x, src_key_padding_mask=~keep)
        return (self.out(self.norm(x[:, 0])) * self.pose_scale).reshape(b, s, 3)

    def tokens_and_prior(
        self,
        bev: torch.Tensor | None = None,
        imu: torch.Tensor | None = None,
        wheel: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Per-step tokens (B, S, n, d) with the prior token, and the prior step (B, S, 3)
        the head's output is a residual on (None without the prior). Each step's part
        depends on that step alone, so an online stream can build them one at a time."""
        c = self.cfg
        tokens = self.step_tokens(bev, imu, wheel)
        if not c.uses_prior:
            return tokens, None
        base, features = kinematic_prior(
            wheel if c.use_wheel else None,
            imu if c.use_imu else None,
            c.wheel_radius,
            c.track_width,
            c.imu_hz,
        )
        return torch.cat([tokens, self.prior(features)[:, :, None]], dim=2), base

    def forward(
        self,
        bev: torch.Tensor | None = None,
        imu: torch.Tensor | None = None,
        wheel: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        tokens, base = self.tokens_and_prior(bev, imu, wheel)
        out = self.attend(tokens, mask)
        return out if base is None else out + base


def pose_l1(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """L1 on (dx, dy, dyaw) (..., 3) in the units of ``POSE_SCALE``, over ``mask`` (...)."""
    scale = torch.tensor(POSE_SCALE, device=pred.device)
    err = ((pred - target) / scale).abs().mean(-1)
    if mask is None:
        return err.mean()
    return (err * mask).sum() / mask.sum().clamp(min=1)


__all__ = [
    "POSE_SCALE",
    "BevMotion",
    "OdometryConfig",
    "OdometryHead",
    "SeqToken",
    "local_correlation",
    "pose_l1",
]
