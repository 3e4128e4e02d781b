"""Read sign plates (shelf codes, door and dock signs) from a robot's RGB camera images.

Astra-Global localizes by matching what it sees against the map's landmarks, and a sign's
text pins a place down far better than its look: shelf ``B-014`` exists once per warehouse.
The reader works on pixels only, in two learnt stages so each stays tiny and fast on CPU:

1. a fully convolutional plate detector (stride 4, dilated context of ~60 px, so a white
   plate with a dark frame and glyphs is told apart from a white wall) whose thresholded
   map splits into connected components, one box per plate;
2. a CRNN (conv features -> bidirectional GRU over columns) trained with CTC over
   ``CHARSET`` on crops resized to ``CROP_SIZE``, decoded greedily.

A reading's score is detector confidence times the recognizer's weakest character, so a
plate half hidden or too oblique to read comes out with a low score and is dropped: a wrong
shelf code would send the localizer to the wrong aisle, a missing one costs little.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from astra_sim.agents.astra_global.sign_data import CHARSET, CROP_SIZE, QUERY_RESOLUTION, crop
from astra_sim.core.fileio import atomic_write

CHECKPOINT_FORMAT = "astra-sim/sign-reader"


@dataclass(frozen=True)
class SignReaderConfig:
    """Shapes and thresholds of a SignReader (all JSON-able, stored in the checkpoint).

    Attributes:
        resolution: query image edge the reader was trained for (see ``query_rig``); the
            nets are convolutional and run on any size, but plate sizes are learnt at this.
        det_channels: widths of the detector's three conv stages.
        rec_channels: widths of the recognizer's four conv stages.
        rec_hidden: GRU width per direction.
        det_threshold: plate probability above which a pixel belongs to a plate.
        min_pixels: smaller components are ignored (their text is a few pixels high).
        min_score: readings scoring below this are dropped.
        skip_cut: ignore plates touching the image border; their text may be cut off, and
            a panoramic rig usually sees them whole in the next camera.
        second_look: also read each plate from a box grown by this fraction per side and
            keep the read only if both agree (0 turns it off): a guess at a blurry glyph
            rarely survives a shifted crop, a real read does.
    """

    resolution: int = QUERY_RESOLUTION
    det_channels: tuple[int, int, int] = (16, 32, 48)
    rec_channels: tuple[int, int, int, int] = (24, 48, 64, 96)
    rec_hidden: int = 128
    det_threshold: float = 0.5
    min_pixels: int = 60
    min_score: float = 0.5
    skip_cut: bool = True
    second_look: float = 0.1

    def __post_init__(self) -> None:
        if len(self.det_channels) != 3 or len(self.rec_channels) != 4:
            raise ValueError("det_channels needs 3 widths and rec_channels 4")
        for name in ("det_threshold", "min_score"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SignReaderConfig.{name} must be in [0, 1]")
        if self.resolution < 32 or self.min_pixels < 1 or self.rec_hidden < 1:
            raise ValueError("SignReaderConfig resolution/min_pixels/rec_hidden out of range")


@dataclass
class SignReading:
    """One plate read in one camera: upper-cased text, pixel box ``(x0, y0, x1, y1)``
    (exclusive end), score in [0, 1] and the plate's pixel count."""

    text: str
    camera: int
    bbox: tuple[int, int, int, int]
    score: float
    pixels: int


def _block(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
    conv = nn.Conv2d(cin, cout, 3, stride, dilation, dilation, bias=False)
    return [conv, nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def _prepare(images: torch.Tensor) -> torch.Tensor:
    """(B, H, W, 3) uint8 -> (B, 3, H, W) float in [-0.5, 0.5]."""
    return images.permute(0, 3, 1, 2).float() / 255.0 - 0.5


class PlateDetector(nn.Module):
    """Per-pixel plate logits at 1/4 resolution from (B, H, W, 3) uint8 images."""

    def __init__(self, channels: tuple[int, int, int] = (16, 32, 48)) -> None:
        super().__init__()
        c1, c2, c3 = channels
        layers = [*_block(3, c1, 2), *_block(c1, c2, 2), *_block(c2, c3)]
        layers += [*_block(c3, c3, dilation=2), *_block(c3, c3, dilation=4), nn.Conv2d(c3, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(_prepare(images))[:, 0]


class CRNN(nn.Module):
    """CTC logits (B, T=W/4, 1 + len(CHARSET)) from (B, 32, W, 3) uint8 crops; class 0 = blank."""

    def __init__(self, channels: tuple[int, int, int, int] = (24, 48, 64, 96), hidden: int = 128):
        super().__init__()
        c1, c2, c3, c4 = channels
        self.cnn = nn.Sequential(
            *_block(3, c1),
            nn.MaxPool2d(2),
            *_block(c1, c2),
            nn.MaxPool2d(2),
            *_block(c2, c3),
            *_block(c3, c3),
            nn.MaxPool2d((2, 1)),
            *_block(c3, c4),
            nn.MaxPool2d((2, 1)),
        )
        self.rnn = nn.GRU(c4 * 2, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 1 + len(CHARSET))

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        f = self.cnn(_prepare(crops))  # (B, C, 2, T)
        f = f.flatten(1, 2).transpose(1, 2)  # (B, T, 2C)
        return self.head(self.rnn(f)[0])


def encode_text(text: str) -> list[int]:
    """Class indices of a normalized text (blank is 0, so characters start at 1)."""
    return [CHARSET.index(c) + 1 for c in text]


def ctc_greedy_decode(logits: torch.Tensor | np.ndarray) -> list[tuple[str, float]]:
    """Best-path decode of (B, T, K) logits: argmax per step, merge repeats, drop blanks.

    Returns one ``(text, confidence)`` per row; confidence is the lowest of the decoded
    characters' peak probabilities (1.0 for an empty text), so one doubtful glyph is enough
    to distrust the whole read.
    """
    probs = torch.as_tensor(logits).float().softmax(-1).numpy()
    out = []
    for p in probs:
        best = p.argmax(-1)
        chars, conf, prev, peak = [], [], 0, 0.0
        for t, k in enumerate(best):
            if k != prev and prev != 0:
                conf.append(peak)
            if k != 0:
                peak = max(peak, float(p[t, k])) if k == prev else float(p[t, k])
                if k != prev:
                    chars.append(CHARSET[k - 1])
            prev = int(k)
        if prev != 0:
            conf.append(peak)
        out.append(("".join(chars), min(conf) if conf else 1.0))
    return out


class SignReader:
    """Finds sign plates in (C, H, W, 3) uint8 camera images and reads their text."""

    def __init__(
        self,
        config: SignReaderConfig | None = None,
        detector: PlateDetector | None = None,
        recognizer: CRNN | None = None,
    ) -> None:
        self.config = config or SignReaderConfig()
        self.detector = (detector or PlateDetector(self.config.det_channels)).eval()
        self.recognizer = (
            recognizer or CRNN(self.config.rec_channels, self.config.rec_hidden)
        ).eval()

    @staticmethod
    def check_images(images: np.ndarray) -> np.ndarray:
        """Raise a ValueError unless ``images`` is a (C, H, W, 3) uint8 array."""
        if not isinstance(images, np.ndarray):
            raise ValueError(f"images must be a numpy array, got {type(images).__name__}")
        if images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 RGB, got dtype {images.dtype}")
        if images.ndim != 4 or images.shape[-1] != 3 or min(images.shape[1:3]) < 16:
            raise ValueError(f"images must be (C, H, W, 3) with H, W >= 16, got {images.shape}")
        return images

    @torch.no_grad()
    def plate_probability(self, images: np.ndarray) -> np.ndarray:
        """(C, H, W) float32 per-pixel plate probability."""
        images = self.check_images(images)
        logits = self.detector(torch.from_numpy(np.ascontiguousarray(images)))
        size = images.shape[1:3]
        up = F.interpolate(logits[:, None], size=size, mode="bilinear", align_corners=False)
        return up[:, 0].sigmoid().numpy()

    @torch.no_grad()
    def recognize(self, crops: np.ndarray) -> list[tuple[str, float]]:
        """``(text, confidence)`` for each (N, *CROP_SIZE, 3) uint8 crop."""
        if len(crops) == 0:
            return []
        return ctc_greedy_decode(self.recognizer(torch.from_numpy(np.ascontiguousarray(crops))))

    def read(self, images: np.ndarray) -> list[SignReading]:
        """Every plate read with a score of at least ``config.min_score``, best first."""
        cfg = self.config
        prob = self.plate_probability(images)
        found, crops = [], []
        looks = (0.0, cfg.second_look) if cfg.second_look > 0 else (0.0,)
        for c, p in enumerate(prob):
            n, lab, stats, _ = cv2.connectedComponentsWithStats(
                (p > cfg.det_threshold).astype(np.uint8), connectivity=8
            )
            h, w = p.shape
            for i in range(1, n):
                x, y, bw, bh, area = (int(v) for v in stats[i])
                cut = x == 0 or y == 0 or x + bw == w or y + bh == h
                if area < cfg.min_pixels or (cut and cfg.skip_cut):
                    continue
                score = float(p[lab == i].mean())
                found.append((c, (x, y, x + bw, y + bh), score, area))
                for g in looks:
                    grown = (x - g * bw, y - g * bh, x + (1 + g) * bw, y + (1 + g) * bh)
                    crops.append(crop(images[c], grown))
        reads = self.recognize(np.stack(crops) if crops else np.zeros((0, *CROP_SIZE, 3)))
        out = []
        for j, (c, box, det, area) in enumerate(found):
            group = reads[j * len(looks) : (j + 1) * len(looks)]
            text = group[0][0]
            conf = min(q for _, q in group) if all(t == text for t, _ in group) else 0.0
            if text.strip() and det * conf >= cfg.min_score:
                out.append(SignReading(text, c, box, det * conf, area))
        return sorted(out, key=lambda r: -r.score)

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | Path) -> Path:
        """Both nets' weights and the config in one torch file, written atomically."""
        payload = {
            "format": CHECKPOINT_FORMAT,
            "version": 1,
            "config": dataclasses.asdict(self.config),
            "detector": {k: v.detach().cpu() for k, v in self.detector.state_dict().items()},
            "recognizer": {k: v.detach().cpu() for k, v in self.recognizer.state_dict().items()},
        }
        buf = io.BytesIO()
        torch.save(payload, buf)
        return atomic_write(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path, **overrides: object) -> SignReader:
        """The reader saved at ``path``; ``overrides`` replace config fields (thresholds).

        Raises:
            FileNotFoundError: if ``path`` does not exist.
            ValueError: if it is not a sign reader checkpoint.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"sign reader checkpoint {path} does not exist")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # torch raises many types for a damaged file
            raise ValueError(f"sign reader checkpoint {path} is not a torch file: {e}") from e
        if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a sign reader checkpoint (format tag missing)")
        try:
            cfg = dict(payload["config"])
            cfg["det_channels"] = tuple(cfg["det_channels"])
            cfg["rec_channels"] = tuple(cfg["rec_channels"])
            config = SignReaderConfig(**{**cfg, **overrides})
            reader = cls(config)
            reader.detector.load_state_dict(payload["detector"])
            reader.recognizer.load_state_dict(payload["recognizer"])
        except (KeyError, TypeError, RuntimeError) as e:
            raise ValueError(f"sign reader checkpoint {path} does not match: {e}") from e
        reader.detector.eval()
        reader.recognizer.eval()
        return reader
