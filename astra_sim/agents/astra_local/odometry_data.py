"""Odometry samples from a collected episode dataset: windows of frames and their sensors.

Row t of an episode holds the frame after step t and the IMU and wheel samples of the
step from pose t-1 to pose t (checked against dead reckoning), so step t's target is
``relative(pose[t-1], pose[t])``. A chunk of S steps ending at step t holds the frames
t-S..t and the sensor rows t-S+1..t; steps before the episode's first are padded and
masked out, so the head also learns to start an episode with a short history, as it must
at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from astra_sim.agents.baselines.dead_reckoning import relative
from astra_sim.data.reader import EpisodeDataset

COLUMNS = ["observation.rgb", "observation.imu", "observation.wheel", "info.pose"]


@dataclass
class OdometryEpisode:
    """One episode in memory: rgb (T, N, S, S, 3) uint8, imu (T, K, 6), wheel (T, M, 2),
    pose (T, 3) float64 ground truth."""

    rgb: np.ndarray
    imu: np.ndarray
    wheel: np.ndarray
    pose: np.ndarray

    def __len__(self) -> int:
        return len(self.pose)

    @property
    def targets(self) -> np.ndarray:
        """(T-1, 3) ground-truth relative pose of steps 1..T-1."""
        return relative(self.pose[:-1], self.pose[1:])


def downsample(rgb: np.ndarray, size: int) -> np.ndarray:
    """Area-average (..., H, W, 3) uint8 images to (..., size, size, 3) uint8."""
    h = rgb.shape[-3]
    if h == size:
        return rgb
    if h % size:
        raise ValueError(f"image size {size} must divide the dataset's {h}")
    f = h // size
    x = rgb.reshape(*rgb.shape[:-3], size, f, size, f, 3).mean(axis=(-4, -2))
    return np.round(x).astype(np.uint8)


def load_episodes(
    root: str | Path, image_size: int, indices: list[int] | None = None, min_steps: int = 2
) -> list[OdometryEpisode]:
    """Read episodes of a dataset (all, or ``indices``), images downsampled to ``image_size``."""
    ds = EpisodeDataset(root)
    out = []
    for i in range(len(ds)) if indices is None else indices:
        e = ds.read_episode(i, COLUMNS)
        if len(e["info.pose"]) < min_steps:
            continue
        out.append(
            OdometryEpisode(
                rgb=downsample(e["observation.rgb"], image_size),
                imu=e["observation.imu"].astype(np.float32),
                wheel=e["observation.wheel"].astype(np.float32),
                pose=e["info.pose"].astype(np.float64),
            )
        )
    if not out:
        raise ValueError(f"no episode of {root} has {min_steps} or more steps")
    return out


def window_indices(t: int, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``steps`` steps ending at step t: frame rows (S+1,), sensor rows (S,), mask (S,).

    Steps before the episode's first (step 1) are padding: mask False, rows clamped.
    """
    ids = np.arange(t - steps + 1, t + 1)
    mask = ids >= 1
    rows = np.maximum(ids, 1)
    frames = np.maximum(np.arange(t - steps, t + 1), 0)
    return frames, rows, mask


class OdometryChunks:
    """Runs of consecutive steps of a list of episodes, batched as tensors.

    A chunk of S steps trains S windows at once (each step's window is the steps before it
    in the chunk), so every frame is encoded once per chunk, not once per window.
    Batches hold ``rgb`` (B, S+1, N, s, s, 3) uint8, ``imu`` (B, S, K, 6), ``wheel``
    (B, S, M, 2), ``mask`` (B, S) and ``target`` (B, S, 3) float32.
    """

    def __init__(self, episodes: list[OdometryEpisode], steps: int) -> None:
        if steps < 1:
            raise ValueError(f"chunk steps must be >= 1, got {steps}")
        self.episodes = episodes
        self.steps = steps
        self.items = [(e, t) for e, ep in enumerate(episodes) for t in range(1, len(ep))]

    def __len__(self) -> int:
        """Steps (targets) in all episodes."""
        return len(self.items)

    def batch(
        self, ends: list[tuple[int, int]], steps: int | None = None
    ) -> dict[str, torch.Tensor]:
        """Chunks of ``steps`` (default ``self.steps``) ending at (episode, step) ``ends``."""
        n = steps or self.steps
        rgb, imu, wheel, mask, target = [], [], [], [], []
        for e, t in ends:
            ep = self.episodes[e]
            frames, rows, m = window_indices(t, n)
            rgb.append(ep.rgb[frames])
            imu.append(ep.imu[rows])
            wheel.append(ep.wheel[rows])
            mask.append(m)
            target.append(relative(ep.pose[rows - 1], ep.pose[rows]))
        return {
            "rgb": torch.from_numpy(np.stack(rgb)),
            "imu": torch.from_numpy(np.stack(imu)),
            "wheel": torch.from_numpy(np.stack(wheel)),
            "mask": torch.from_numpy(np.stack(mask)),
            "target": torch.from_numpy(np.stack(target).astype(np.float32)),
        }

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """``batch_size`` chunks ending at random steps drawn from ``rng``."""
        picks = rng.integers(len(self), size=batch_size)
        return self.batch([self.items[int(k)] for k in picks])

    def episode(self, e: int) -> dict[str, torch.Tensor]:
        """All steps of episode ``e`` as one chunk (B = 1, S = T-1)."""
        steps = len(self.episodes[e]) - 1
        return self.batch([(e, steps)], steps)


__all__ = [
    "OdometryChunks",
    "OdometryEpisode",
    "downsample",
    "load_episodes",
    "window_indices",
]
