"""Odometry one control step at a time, for an agent in closed loop.

The odometry models are trained and scored on whole chunks (``OdometryChunks``: every
step's window of the steps before it, padded and masked at an episode's start). A robot
has only the past, one observation at a time. This stream keeps what the next windows
still need and computes everything about a step once, when it arrives: the frame's BEV
(``encode`` on that single frame) and the step's head tokens (its vision, IMU, wheel and
kinematic-prior tokens, each a function of that step alone). Each step then runs only the
head's transformer on the cached tokens of the last ``window`` steps, laid out exactly as a
chunk ending at that step is, so the online estimate equals the offline one (a test checks
it) at a fraction of re-running the head over the window.

BEV-ODOM (two frames, no window) streams too: the previous BEV is kept. Without a
checkpoint the stream is wheel + gyro dead reckoning with the calibrated geometry.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch

from astra_sim.agents.astra_local.odometry_data import downsample
from astra_sim.agents.baselines.dead_reckoning import DeadReckoning, DeadReckoningConfig


class OdometryStream:
    """Relative motion (dx, dy, dyaw) of each control step from the robot's own sensors.

    Call ``reset`` with an episode's first observation, then ``step`` with each one
    ``env.step`` returns: its frame is the one after the step and its IMU and wheel samples
    cover the step, which is the dataset row the models were trained on. The caller owns
    ``torch.set_num_threads``.

    Attributes:
        name: the checkpoint's folder (e.g. ``vision_imu_wheel``) or ``wheel_gyro``.
        seconds: cumulative wall time spent in ``step``, for the agent's cost report.
        model: the loaded model (eval mode), None for dead reckoning.

    Args:
        checkpoint: an odometry ``model.pt`` (method ``astra`` or ``bev_odom``); None:
            wheel + gyro dead reckoning.
        device: torch device of the model.

    Raises:
        FileNotFoundError: naming a missing checkpoint.
        ValueError: for a checkpoint of a method with no online form.
    """

    def __init__(self, checkpoint: str | Path | None, device: str = "cpu") -> None:
        self.seconds = 0.0
        self.device = torch.device(device)
        self.model: torch.nn.Module | None = None
        self._started = False
        if checkpoint is None:
            self.name, self.method = "wheel_gyro", "dead_reckoning"
            self.dead_reckoning = DeadReckoning(DeadReckoningConfig(use_gyro=True))
            return
        # Lazy: dead reckoning needs none of the training code.
        from astra_sim.agents.astra_local.train_odometry import load_checkpoint

        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"odometry checkpoint {path} does not exist")
        model, cfg = load_checkpoint(path)
        if cfg.method not in ("astra", "bev_odom"):
            raise ValueError(
                f"{path}: odometry method {cfg.method!r} has no online stream; "
                "only 'astra' and 'bev_odom' stream"
            )
        self.model = model.to(self.device).eval()
        self.method, self.name = cfg.method, path.parent.name
        self.image_size = cfg.encoder.vit.image_size
        # BEV-ODOM is a window of one step that sees only vision.
        self.window = cfg.odometry.window if cfg.method == "astra" else 1
        self.uses_vision = cfg.method == "bev_odom" or cfg.odometry.use_vision

    def reset(self, obs: dict[str, Any]) -> None:
        """Start an episode at the observation of ``env.reset`` (its frame; no motion yet)."""
        self._started = True
        if self.model is None:
            return
        self._bev: torch.Tensor | None = self._encode(obs["rgb"]) if self.uses_vision else None
        self._tokens: deque[torch.Tensor] = deque(maxlen=self.window)

    def step(self, obs: dict[str, Any]) -> np.ndarray:
        """The motion (3,) float64 of the step that produced ``obs``, in the pose before it.

        Raises:
            RuntimeError: before ``reset`` (the first frame anchors the vision).
        """
        if not self._started:
            raise RuntimeError("OdometryStream.step before reset: call reset(obs) first")
        t0 = time.perf_counter()
        try:
            if self.model is None:
                return self.dead_reckoning.step_motion(obs["wheel"], obs["imu"])
            with torch.no_grad():
                return self._model_step(obs).double().cpu().numpy()
        finally:
            self.seconds += time.perf_counter() - t0

    def _model_step(self, obs: dict[str, Any]) -> torch.Tensor:
        prev = self._bev
        if self.uses_vision:
            self._bev = self._encode(obs["rgb"])
        # One frame pair: (B = 1, S + 1 = 2, C, X, Y).
        pair = torch.stack([prev, self._bev])[None] if self.uses_vision else None
        if self.method == "bev_odom":
            return self.model.forward_bev(pair)[0, -1]
        head, c = self.model.head, self.model.cfg
        imu = self._sensor(obs["imu"]) if c.use_imu else None
        wheel = self._sensor(obs["wheel"]) if c.use_wheel else None
        # Tokens and prior of this step alone, exactly as OdometryHead.forward builds them.
        tokens, prior = head.tokens_and_prior(pair, imu, wheel)
        base = tokens.new_zeros(3) if prior is None else prior[0, 0]
        self._tokens.append(tokens[0, 0])
        window = torch.stack(list(self._tokens))[None]  # (1, s <= W, n, d)
        mask = torch.ones(window.shape[:2], dtype=torch.bool, device=self.device)
        # attend pads the missing W - s steps in front and masks them, as a chunk does.
        return head.attend(window, mask)[0, -1] + base

    def _sensor(self, samples: np.ndarray) -> torch.Tensor:
        """One step's samples (L, D) -> (B = 1, S = 1, L, D) float32 on the device."""
        x = torch.as_tensor(np.asarray(samples, dtype=np.float32), device=self.device)
        return x[None, None]

    def _encode(self, rgb: np.ndarray) -> torch.Tensor:
        """One frame's BEV (C, X, Y), downsampled as the dataset was for training."""
        small = downsample(np.asarray(rgb), self.image_size)
        images = torch.from_numpy(np.ascontiguousarray(small))[None, None].to(self.device)
        return self.model.encode(images)[0, 0]


__all__ = ["OdometryStream"]
