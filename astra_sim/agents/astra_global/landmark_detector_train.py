"""Train the pixel landmark detector on simulator views of training scenes.

Labels come from the semantic sensor (instance -> landmark category), which a robot does
not have: it is the simulator's gift at training time only. Views are random navigable
poses with random headings, so the detector sees landmarks from every distance and side.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from astra_sim.agents.astra_global.landmark_detector import (
    BACKGROUND,
    STRIDE,
    DetectorConfig,
    LandmarkDetector,
    LandmarkDetectorNet,
)
from astra_sim.core.seeding import check_seed, make_rng
from astra_sim.render.embree import EmbreeRenderer
from astra_sim.render.rig import Rig
from astra_sim.scenes.generators import generate_scene
from astra_sim.scenes.model import Scene


@dataclass(frozen=True)
class DetectorTrainConfig:
    """How to train a LandmarkDetector.

    Attributes:
        kinds: scene kinds to train on.
        seeds: training scene seeds (keep them disjoint from evaluation seeds).
        views_per_scene: rig renders per scene (each gives one image per camera).
        rig: rig the views are rendered with (its resolution is the detector's input).
        steps: optimiser steps.
        batch_size: camera images per step.
        lr: peak Adam learning rate (cosine decay to 5 %).
        width: net width (DetectorConfig.width).
        seed: seeds the views, the batches and torch.
        progress: show a tqdm bar.
    """

    kinds: tuple[str, ...] = ("home", "office", "warehouse")
    seeds: tuple[int, ...] = (100, 101)
    views_per_scene: int = 120
    rig: str = "default"
    steps: int = 1500
    batch_size: int = 24
    lr: float = 3e-3
    width: int = 16
    seed: int = 0
    progress: bool = False

    def __post_init__(self) -> None:
        for name in ("views_per_scene", "steps", "batch_size", "width"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(
                    f"DetectorTrainConfig.{name} must be a positive integer, got {v!r}"
                )
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"DetectorTrainConfig.lr must be a finite number > 0, got {self.lr!r}")
        if not self.kinds or not self.seeds:
            raise ValueError("DetectorTrainConfig.kinds and .seeds must be non-empty")
        check_seed(self.seed, "DetectorTrainConfig.seed")


def landmark_categories(scenes: list[Scene]) -> tuple[str, ...]:
    """Background first, then every landmark category of ``scenes``, sorted."""
    cats = sorted({i.category for s in scenes for i in s.instances if i.landmark})
    return (BACKGROUND, *cats)


def render_views(
    scene: Scene, rig: Rig, count: int, categories: tuple[str, ...], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random views of ``scene``: images (N*C, H, W, 3) and cell labels (N*C, H/4, W/4).

    A cell's label is the category at its centre pixel (0 = background or not a landmark).
    """
    index = {c: k for k, c in enumerate(categories)}
    lut = np.array(
        [index.get(i.category, 0) if i.landmark else 0 for i in scene.instances], dtype=np.int64
    )
    xy = scene.navgrid().sample_navigable(rng, count)
    yaw = rng.uniform(-np.pi, np.pi, size=count)
    images, labels = [], []
    with EmbreeRenderer(scene) as renderer:
        for (x, y), a in zip(xy, yaw, strict=True):
            frame = renderer.render(rig, (x, y, a), depth=False)
            images.append(frame.rgb)
            labels.append(lut[frame.semantic[:, STRIDE // 2 :: STRIDE, STRIDE // 2 :: STRIDE]])
    return np.concatenate(images), np.concatenate(labels)


def training_views(config: DetectorTrainConfig) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Images, cell labels and the category list for ``config``'s training scenes."""
    scenes = [generate_scene(k, s) for k in config.kinds for s in config.seeds]
    categories = landmark_categories(scenes)
    rig = Rig.from_name(config.rig)
    images, labels = [], []
    for scene in scenes:
        rng = make_rng(config.seed, "detector-views", scene.kind, str(scene.seed))
        im, lab = render_views(scene, rig, config.views_per_scene, categories, rng)
        images.append(im)
        labels.append(lab)
    return np.concatenate(images), np.concatenate(labels), categories


def train_detector(
    config: DetectorTrainConfig | None = None,
    views: tuple[np.ndarray, np.ndarray, tuple[str, ...]] | None = None,
) -> tuple[LandmarkDetector, dict]:
    """Train a detector; returns it and a report (loss history, timings, sizes).

    ``views`` (images, labels, categories) skips rendering, for tests and reuse.
    """
    config = config or DetectorTrainConfig()
    t0 = time.perf_counter()
    images, labels, categories = views if views is not None else training_views(config)
    t_views = time.perf_counter() - t0
    if images.shape[1] != images.shape[2] or images.shape[1] % 16:
        raise ValueError(f"views must be square with a side divisible by 16, got {images.shape}")
    torch.manual_seed(config.seed)
    rng = make_rng(config.seed, "detector-batches")
    net = LandmarkDetectorNet(
        DetectorConfig(categories=categories, image_size=images.shape[1], width=config.width)
    )
    freq = np.bincount(labels.ravel(), minlength=len(categories)).astype(np.float64) + 1.0
    weight = torch.tensor((freq.sum() / freq) ** 0.5, dtype=torch.float32)
    weight /= weight.mean()
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=1e-4)
    warm = max(1, config.steps // 10)

    def factor(step: int) -> float:  # linear warm-up, then cosine down to 5 %
        if step < warm:
            return (step + 1) / warm
        t = (step - warm) / max(1, config.steps - warm)
        return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(t, 1.0)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    history: list[float] = []
    net.train()
    t0 = time.perf_counter()
    bar = tqdm(range(config.steps), desc="detector", unit="step", disable=not config.progress)
    for _ in bar:
        idx = rng.integers(len(images), size=config.batch_size)
        x = net.prepare(images[idx])
        y = torch.from_numpy(labels[idx])
        gain = torch.from_numpy(rng.uniform(0.75, 1.25, size=(len(idx), 1, 1, 1))).float()
        x = x * gain + (gain - 1.0)  # brightness and contrast jitter, in normalised units
        if rng.random() < 0.5:
            x, y = x.flip(-1), y.flip(-1)
        loss = F.cross_entropy(net(x), y, weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        history.append(float(loss.detach()))
        if len(history) % 50 == 0:
            bar.set_postfix(loss=f"{np.mean(history[-50:]):.3f}")
    report = {
        "loss_first_50": float(np.mean(history[:50])),
        "loss_last_50": float(np.mean(history[-50:])),
        "history": history,
        "images": len(images),
        "categories": list(categories),
        "view_seconds": round(t_views, 1),
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    return LandmarkDetector(net.eval()), report


def cell_accuracy(detector: LandmarkDetector, images: np.ndarray, labels: np.ndarray) -> dict:
    """Per-cell agreement on held-out views: overall, on landmark cells, and mean IoU."""
    pred = np.concatenate(
        [detector.net.label_cells(images[i : i + 64])[0] for i in range(0, len(images), 64)]
    )
    fg = labels > 0
    ious = []
    for k in np.unique(labels[fg]):
        inter = np.sum((pred == k) & (labels == k))
        union = np.sum((pred == k) | (labels == k))
        ious.append(inter / union)
    return {
        "cell_accuracy": float(np.mean(pred == labels)),
        "landmark_cell_recall": float(np.mean(pred[fg] == labels[fg])) if fg.any() else 0.0,
        "mean_iou": float(np.mean(ious)) if ious else 0.0,
    }
