"""The odometry model as one control step with explicit state: what a robot's edge runs.

In closed loop (``agents/astra/odometry_stream.py``) each frame is encoded once and each
step's head tokens are built once, when they arrive; the transformer then attends over
the cached tokens of the last ``window`` steps. An exported graph cannot keep a cache, so
the cache becomes inputs and outputs: the previous frame's BEV and the window of tokens
with its mask go in, the same shifted by one step come out, and the caller feeds them
back. Start an episode with zero state and ``valid = False`` on its first frame (the
motion output is then meaningless and the step is masked out of every later window);
then ``valid = True`` on each frame after a step. This is the same arithmetic as the
stream, so the exported model equals the batch model on a whole episode (a test checks).

Inputs (batch 1, float32 unless said): ``rgb`` (1, N, S, S, 3) uint8 at the model's
image size, ``prev_bev`` (1, C, X, Y), ``imu`` (1, K, 6), ``wheel`` (1, M, 2),
``tokens`` (1, W, n, d), ``mask`` (1, W) bool, ``valid`` (1,) bool. Outputs: ``motion``
(1, 3) (dx, dy, dyaw) of the step, then the next state ``bev``, ``tokens_out``,
``mask_out``. A head without vision drops ``rgb``/``prev_bev``/``bev``; BEV-ODOM (two
frames, no window) keeps only ``rgb``, ``prev_bev`` -> ``motion``, ``bev``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class TensorSpec:
    """A named input or output of an exported graph: shape, dtype, and what it is."""

    name: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    about: str

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "dtype": str(self.dtype).removeprefix("torch."),
            "about": self.about,
        }


class AstraOdometryStep(nn.Module):
    """One step of ``AstraOdometry`` (any modality subset) with the window as state."""

    def __init__(self, model: nn.Module, imu_samples: int, wheel_samples: int) -> None:
        super().__init__()
        self.model = model.eval()
        c = model.cfg
        self.vision, self.use_imu, self.use_wheel = c.use_vision, c.use_imu, c.use_wheel
        head = model.head
        n = len(c.modalities) + (1 if c.uses_prior else 0)
        d, w = head.cfg.d_model, c.window
        inputs = []
        if self.vision:
            enc = model.encoder
            s, cams = enc.cfg.vit.image_size, enc.num_cameras
            bev = (1, enc.bev_channels, enc.cfg.grid.xy_cells, enc.cfg.grid.xy_cells)
            inputs += [
                TensorSpec("rgb", (1, cams, s, s, 3), torch.uint8, "frame after the step"),
                TensorSpec("prev_bev", bev, torch.float32, "state: BEV of the previous frame"),
            ]
        if self.use_imu:
            inputs.append(TensorSpec("imu", (1, imu_samples, 6), torch.float32, "IMU samples"))
        if self.use_wheel:
            inputs.append(
                TensorSpec("wheel", (1, wheel_samples, 2), torch.float32, "wheel increments")
            )
        inputs += [
            TensorSpec("tokens", (1, w, n, d), torch.float32, "state: the window's tokens"),
            TensorSpec("mask", (1, w), torch.bool, "state: which window steps are real"),
            TensorSpec("valid", (1,), torch.bool, "False on an episode's first frame"),
        ]
        outputs = [TensorSpec("motion", (1, 3), torch.float32, "dx, dy, dyaw of the step")]
        if self.vision:
            outputs.append(TensorSpec("bev", inputs[1].shape, torch.float32, "next prev_bev"))
        outputs += [
            TensorSpec("tokens_out", (1, w, n, d), torch.float32, "next tokens"),
            TensorSpec("mask_out", (1, w), torch.bool, "next mask"),
        ]
        self.inputs, self.outputs = inputs, outputs

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        given = dict(zip([s.name for s in self.inputs], args, strict=True))
        head = self.model.head
        pair = bev = None
        if self.vision:
            bev = self.model.encode(given["rgb"][:, None])[:, 0]
            pair = torch.stack([given["prev_bev"], bev], dim=1)
        imu = given["imu"][:, None] if self.use_imu else None
        wheel = given["wheel"][:, None] if self.use_wheel else None
        step_tokens, prior = head.tokens_and_prior(pair, imu, wheel)
        tokens = torch.cat([given["tokens"][:, 1:], step_tokens], dim=1)
        mask = torch.cat([given["mask"][:, 1:], given["valid"][:, None]], dim=1)
        motion = head.attend(tokens, mask)[:, -1]
        if prior is not None:
            motion = motion + prior[:, 0]
        return (motion, bev, tokens, mask) if self.vision else (motion, tokens, mask)


class BevOdomStep(nn.Module):
    """One step of BEV-ODOM: this frame and the previous frame's BEV -> motion, BEV."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model.eval()
        enc = model.encoder
        s, cams, g = enc.cfg.vit.image_size, enc.num_cameras, enc.cfg.grid.xy_cells
        bev = (1, enc.bev_channels, g, g)
        self.inputs = [
            TensorSpec("rgb", (1, cams, s, s, 3), torch.uint8, "frame after the step"),
            TensorSpec("prev_bev", bev, torch.float32, "state: BEV of the previous frame"),
        ]
        self.outputs = [
            TensorSpec("motion", (1, 3), torch.float32, "dx, dy, dyaw of the step"),
            TensorSpec("bev", bev, torch.float32, "next prev_bev"),
        ]

    def forward(self, rgb: torch.Tensor, prev_bev: torch.Tensor) -> tuple[torch.Tensor, ...]:
        bev = self.model.encode(rgb[:, None])[:, 0]
        motion = self.model.forward_bev(torch.stack([prev_bev, bev], dim=1))[:, -1]
        return motion, bev


def odometry_step(model: nn.Module, method: str, imu_samples: int, wheel_samples: int):
    """The step module of a loaded odometry checkpoint (``astra`` or ``bev_odom``)."""
    if method == "bev_odom":
        return BevOdomStep(model)
    return AstraOdometryStep(model, imu_samples, wheel_samples)


def initial_state(step: nn.Module) -> dict[str, torch.Tensor]:
    """Zero state: what goes in with an episode's first frame (``valid`` False)."""
    return {
        s.name: torch.zeros(s.shape, dtype=s.dtype)
        for s in step.inputs
        if s.name in ("prev_bev", "tokens", "mask", "valid")
    }


def run_episode(step: nn.Module, frames: dict[str, torch.Tensor]) -> torch.Tensor:
    """Drive ``step`` over an episode (``frames`` key -> (T, ...) without the batch axis);
    returns the (T-1, 3) motions of steps 1..T-1, feeding the state back as a robot would."""
    state = initial_state(step)
    names = [s.name for s in step.inputs]
    out_names = [s.name for s in step.outputs]
    back = {"bev": "prev_bev", "tokens_out": "tokens", "mask_out": "mask"}
    motions = []
    with torch.no_grad():
        for t in range(len(next(iter(frames.values())))):
            given = {k: v[t][None] for k, v in frames.items()} | state
            if "valid" in names:
                given["valid"] = torch.tensor([t > 0])
            result = dict(zip(out_names, step(*[given[n] for n in names]), strict=True))
            state.update({back[k]: v for k, v in result.items() if k in back})
            if t > 0:
                motions.append(result["motion"][0])
    return torch.stack(motions)


__all__ = [
    "AstraOdometryStep",
    "BevOdomStep",
    "TensorSpec",
    "initial_state",
    "odometry_step",
    "run_episode",
]
