"""Train the pixel sign reader on simulator renders and measure it on held-out scenes.

Both nets learn from ``collect_samples`` (training seeds only): the detector from random
patches of full views against plate masks (BCE, plates up-weighted since they cover ~1 % of
pixels), the recognizer from jittered plate crops and background crops labelled "" (CTC),
which teaches it to answer "nothing here" for the detector's false alarms. Evaluation
counts signs, not pixels: a sign seen with enough pixels should be read exactly, and every
reading must match the plate it sits on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from astra_sim.agents.astra_global.sign_data import (
    GTSign,
    SignSamples,
    collect_samples,
    face_cells,
    ground_truth,
    normalize_text,
    query_rig,
    random_poses,
    sign_poses,
    sign_texts,
    visible_signs,
)
from astra_sim.agents.astra_global.sign_reader import (
    SignReader,
    SignReaderConfig,
    SignReading,
    encode_text,
)
from astra_sim.core.seeding import check_seed, make_rng


@dataclass(frozen=True)
class SignTrainConfig:
    """How to make training data and train a SignReader.

    Attributes:
        reader: the reader's shapes and thresholds.
        kinds, seeds: scenes that give plates (training seeds: keep them apart from 0-9).
        negative_kinds, negative_seeds: sign-free scenes that give only background.
        views_per_scene: single-camera views rendered per scene.
        det_steps, det_batch, det_patch: detector steps, patches per step, patch edge.
        rec_steps, rec_batch: recognizer steps and crops per step.
        lr: AdamW learning rate (cosine decay to 5 %).
        pos_weight: BCE weight of plate pixels.
        threads: torch threads while training (the machine is shared).
        seed: seeds data, initialisation and batches.
        progress: show tqdm bars.
    """

    reader: SignReaderConfig = field(default_factory=SignReaderConfig)
    kinds: tuple[str, ...] = ("warehouse", "office")
    seeds: tuple[int, ...] = tuple(range(100, 160))
    negative_kinds: tuple[str, ...] = ("home",)
    negative_seeds: tuple[int, ...] = tuple(range(100, 110))
    views_per_scene: int = 16
    det_steps: int = 1200
    det_batch: int = 8
    det_patch: int = 160
    rec_steps: int = 6000
    rec_batch: int = 32
    lr: float = 2e-3
    pos_weight: float = 3.0
    threads: int = 1
    seed: int = 0
    progress: bool = False

    def __post_init__(self) -> None:
        for name in ("views_per_scene", "det_steps", "det_batch", "rec_steps", "rec_batch"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"SignTrainConfig.{name} must be a positive integer, got {v!r}")
        if not (math.isfinite(self.lr) and self.lr > 0 and self.pos_weight > 0):
            raise ValueError("SignTrainConfig.lr and pos_weight must be > 0")
        check_seed(self.seed, "SignTrainConfig.seed")


def _gain(x: torch.Tensor, g: torch.Generator, noise: float = 6.0) -> torch.Tensor:
    """Random brightness/contrast and sensor noise on a uint8 batch, back to uint8."""
    n = x.shape[0]
    gain = 0.7 + 0.6 * torch.rand(n, 1, 1, 1, generator=g)
    bias = 30.0 * (torch.rand(n, 1, 1, 1, generator=g) - 0.5)
    y = x.float() * gain + bias + noise * torch.randn(x.shape, generator=g)
    return y.clamp(0, 255).to(torch.uint8)


def _schedule(opt: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )


def _train_detector(reader: SignReader, data: SignSamples, cfg: SignTrainConfig, g, rng):
    net, p = reader.detector.train(), cfg.det_patch
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched, losses = _schedule(opt, cfg.det_steps), []
    n, h, w = data.masks.shape
    has_plate = np.flatnonzero(data.masks.reshape(n, -1).any(1))
    for _ in tqdm(range(cfg.det_steps), desc="detector", disable=not cfg.progress):
        idx = rng.integers(n, size=cfg.det_batch)
        imgs, masks = [], []
        for i in idx:
            if len(has_plate) and rng.random() < 0.6:  # centre most patches near a plate
                i = rng.choice(has_plate)
                ys, xs = np.nonzero(data.masks[i])
                k = rng.integers(len(ys))
                y0 = int(np.clip(ys[k] - rng.integers(p), 0, h - p))
                x0 = int(np.clip(xs[k] - rng.integers(p), 0, w - p))
            else:
                y0, x0 = int(rng.integers(h - p + 1)), int(rng.integers(w - p + 1))
            imgs.append(data.images[i, y0 : y0 + p, x0 : x0 + p])
            masks.append(data.masks[i, y0 : y0 + p, x0 : x0 + p])
        x = _gain(torch.from_numpy(np.stack(imgs)), g)
        target = F.avg_pool2d(torch.from_numpy(np.stack(masks)).float()[:, None], 4)[:, 0]
        logits = net(x)
        weight = 1.0 + (cfg.pos_weight - 1.0) * target
        loss = F.binary_cross_entropy_with_logits(logits, target, weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    net.eval()
    return losses


def _train_recognizer(reader: SignReader, data: SignSamples, cfg: SignTrainConfig, g, rng):
    net = reader.recognizer.train()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched, losses = _schedule(opt, cfg.rec_steps), []
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    targets = [encode_text(t) for t in data.labels]
    for _ in tqdm(range(cfg.rec_steps), desc="recognizer", disable=not cfg.progress):
        idx = rng.integers(len(targets), size=cfg.rec_batch)
        x = _gain(torch.from_numpy(data.crops[idx]), g)
        log_probs = net(x).log_softmax(-1).transpose(0, 1)  # (T, B, K)
        flat = torch.tensor([c for i in idx for c in targets[i]], dtype=torch.long)
        lengths = torch.tensor([len(targets[i]) for i in idx], dtype=torch.long)
        t_len = torch.full((len(idx),), log_probs.shape[0], dtype=torch.long)
        loss = ctc(log_probs, flat, t_len, lengths)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    net.eval()
    return losses


def train_sign_reader(
    config: SignTrainConfig | None = None, samples: SignSamples | None = None
) -> tuple[SignReader, dict[str, list[float] | float]]:
    """Render training data (unless ``samples`` is given) and train both nets.

    Returns:
        The reader (eval mode) and a history with per-step ``det_loss`` and ``rec_loss``
        and the seconds spent on ``data_s`` and ``train_s``.
    """
    cfg = config or SignTrainConfig()
    old_threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        torch.manual_seed(cfg.seed)
        t0 = time.time()
        if samples is None:
            kw = dict(resolution=cfg.reader.resolution, seed=cfg.seed, progress=cfg.progress)
            samples = collect_samples(cfg.kinds, cfg.seeds, cfg.views_per_scene, **kw)
            if cfg.negative_kinds:
                neg = collect_samples(cfg.negative_kinds, cfg.negative_seeds, 4, **kw)
                samples = SignSamples(
                    np.concatenate([samples.images, neg.images]),
                    np.concatenate([samples.masks, neg.masks]),
                    np.concatenate([samples.crops, neg.crops]),
                    samples.labels + neg.labels,
                )
        t1 = time.time()
        reader = SignReader(cfg.reader)
        g = torch.Generator().manual_seed(cfg.seed)
        rng = make_rng(cfg.seed, "sign-train")
        det = _train_detector(reader, samples, cfg, g, rng)
        rec = _train_recognizer(reader, samples, cfg, g, rng)
        history = {"det_loss": det, "rec_loss": rec, "data_s": t1 - t0}
        history["train_s"] = time.time() - t1
        return reader, history
    finally:
        torch.set_num_threads(old_threads)


def _summary(views: list[tuple[set, list]], threshold: float) -> dict:
    """Counts, precision and recall of readings scoring at least ``threshold``."""
    st = {"views": len(views), "visible": 0, "recalled": 0, "reads": 0, "correct": 0}
    for seen, reads in views:
        kept = [(ok, cell) for score, ok, cell, _, _ in reads if score >= threshold]
        st["visible"] += len(seen)
        st["recalled"] += len(seen & {cell for ok, cell in kept if ok})
        st["reads"] += len(kept)
        st["correct"] += sum(ok for ok, _ in kept)
    st["precision"] = st["correct"] / st["reads"] if st["reads"] else 1.0
    st["recall"] = st["recalled"] / st["visible"] if st["visible"] else 1.0
    return st


def _match(reading: SignReading, gts: list[GTSign]) -> GTSign | None:
    """The ground-truth plate that a reading's box overlaps most in its camera."""
    best, area = None, 0
    for gt in gts:
        if gt.camera != reading.camera:
            continue
        a, b = reading.bbox, gt.bbox
        inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(
            0, min(a[3], b[3]) - max(a[1], b[1])
        )
        if inter > area:
            best, area = gt, inter
    return best


def evaluate_sign_reader(
    reader: SignReader,
    kinds: tuple[str, ...] = ("warehouse", "office"),
    seeds: tuple[int, ...] | range = range(10),
    views_per_scene: int = 20,
    min_pixels: int = 150,
    resolution: int | None = None,
    aimed: float = 0.5,
    thresholds: tuple[float, ...] = (),
    seed: int = 0,
    progress: bool = False,
) -> dict[str, dict]:
    """Sign-level precision and recall of exact (case-blind) reads on full rig views.

    Views are ``aimed`` at a random sign (camera 0 towards it, as in training) or random
    navigable poses. A sign counts as visible in a view when some camera sees at least
    ``min_pixels`` of its front, not cut by the image border. A reading is correct when its
    text equals that of the plate its box overlaps most in its camera; readings on no plate
    are wrong. Recall is over visible signs; precision over all readings (small plates too).

    Returns:
        Per kind and ``all``: views, visible, recalled, reads, correct, precision, recall at
        the reader's ``min_score``, ``sweep`` (the same at each of ``thresholds``) and up to
        20 ``errors`` as (read text, true text or None, score, pixels).
    """
    from astra_sim.render.embree import EmbreeRenderer
    from astra_sim.scenes.generators import generate_scene

    rig = query_rig(resolution or reader.config.resolution)
    per_kind: dict[str, list] = {}
    for kind in kinds:
        views = per_kind.setdefault(kind, [])
        for s in tqdm(list(seeds), desc=f"eval {kind}", disable=not progress):
            scene = generate_scene(kind, int(s))
            rng = make_rng(seed, "sign-eval", kind, int(s))
            cells, texts = face_cells(scene), sign_texts(scene)
            n_aim = round(views_per_scene * aimed) if texts else 0
            poses = sign_poses(scene, rng, n_aim)
            poses = np.concatenate([poses, random_poses(scene, rng, views_per_scene - len(poses))])
            with EmbreeRenderer(scene, threads=1) as r:
                for pose in poses:
                    rgb = r.render(rig, pose, depth=False, semantic=False).rgb
                    gts = visible_signs(ground_truth(r, rig, tuple(pose), cells), texts)
                    reads = []
                    for rd in reader.read(rgb):
                        gt = _match(rd, gts)
                        ok = gt is not None and normalize_text(gt.text) == rd.text
                        truth = None if gt is None else gt.text
                        reads.append((rd.score, ok, None if gt is None else gt.cell, truth, rd))
                    seen = {g.cell for g in gts if g.pixels >= min_pixels and not g.cut}
                    views.append((seen, reads))
    per_kind["all"] = [v for k in kinds for v in per_kind[k]]
    out = {}
    for kind, views in per_kind.items():
        st = _summary(views, reader.config.min_score)
        st["sweep"] = {t: _summary(views, t) for t in thresholds}
        bad = [
            (rd.text, truth, round(sc, 3), rd.pixels)
            for _, rs in views
            for sc, ok, _, truth, rd in rs
            if not ok and sc >= reader.config.min_score
        ]
        st["errors"] = bad[:20]
        out[kind] = st
    return out
