"""A pixel-based landmark detector for Astra-Global: which landmark categories a camera sees.

Astra's coarse stage starts from landmarks detected in the query images. At query time a
robot has pixels only, so this is a small fully convolutional net, trained on simulator
views (labels from the semantic sensor, which exists only at training time), that labels
every 4x4 pixel cell of a camera image with a landmark category or background. Connected
regions of one category become ``DetectedLandmark``s with their pixel area and box, the
inputs ``LandmarkLocalizer`` matches against the map. Sign text is read by ``sign_reader``.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from astra_sim.agents.astra_global.base import DetectedLandmark
from astra_sim.core.fileio import atomic_write

CHECKPOINT_FORMAT = "astra-sim-landmark-detector"
BACKGROUND = "background"
STRIDE = 4
"""Output cells are STRIDE x STRIDE input pixels."""


@dataclass(frozen=True)
class DetectorConfig:
    """Shape of a LandmarkDetectorNet.

    Attributes:
        categories: landmark categories it labels; index 0 is always background.
        image_size: side every camera image is resized to (a multiple of 16).
        width: channels of the first block; later blocks use 2x and 4x.
    """

    categories: tuple[str, ...] = (BACKGROUND,)
    image_size: int = 128
    width: int = 16

    def __post_init__(self) -> None:
        cats = tuple(self.categories)
        if not cats or cats[0] != BACKGROUND or len(set(cats)) != len(cats):
            raise ValueError(
                f"categories must be unique and start with {BACKGROUND!r}, got {cats[:4]}..."
            )
        object.__setattr__(self, "categories", cats)
        for name, low in (("image_size", 16), ("width", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"DetectorConfig.{name} must be an integer >= {low}, got {v!r}")
        if self.image_size % 16:
            raise ValueError(
                f"DetectorConfig.image_size must be a multiple of 16, got {self.image_size}"
            )


def _block(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class LandmarkDetectorNet(nn.Module):
    """Encoder to 1/16 with dilated context, one skip back up to 1/4, per-cell logits.

    Furniture fills tens of pixels even at 128 px, so 1/4-resolution labels keep its shape
    while the 1/16 branch sees enough of the room to tell a counter from a desk.
    """

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__()
        self.config = config or DetectorConfig()
        w = self.config.width
        self.stem = nn.Sequential(_block(3, w, 2), _block(w, 2 * w, 2), _block(2 * w, 2 * w))
        self.deep = nn.Sequential(
            _block(2 * w, 4 * w, 2),
            _block(4 * w, 4 * w, 2),
            _block(4 * w, 4 * w, dilation=2),
            _block(4 * w, 4 * w, dilation=4),
        )
        self.fuse = _block(6 * w, 3 * w)
        self.head = nn.Conv2d(3 * w, len(self.config.categories), 1)

    def prepare(self, rgb: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) uint8 -> (N, 3, S, S) float, resized to the configured size."""
        x = torch.as_tensor(np.asarray(rgb)).permute(0, 3, 1, 2).float().div_(255.0)
        s = self.config.image_size
        if x.shape[-2:] != (s, s):
            x = F.interpolate(x, size=(s, s), mode="area")
        return (x - 0.45) / 0.25

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) -> (N, K, S/4, S/4) logits."""
        low = self.stem(x)
        deep = F.interpolate(self.deep(low), size=low.shape[-2:], mode="bilinear")
        return self.head(self.fuse(torch.cat([low, deep], dim=1)))

    @torch.no_grad()
    def label_cells(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, H, W, 3) uint8 -> per-cell category index and its probability, (N, S/4, S/4)."""
        if self.training:
            self.eval()
        prob = torch.softmax(self(self.prepare(rgb)), dim=1)
        conf, label = prob.max(dim=1)
        return label.numpy().astype(np.int64), conf.numpy()


def _box(y0: int, x0: int, bh: int, bw: int, sy: float, sx: float) -> tuple[int, ...]:
    """A cell-grid box (top, left, height, width) in input pixels (row0, col0, row1, col1)."""
    return (int(y0 * sy), int(x0 * sx), int((y0 + bh) * sy), int((x0 + bw) * sx))


class LandmarkDetector:
    """Camera images -> DetectedLandmarks (category, area in input pixels, box, score).

    Args:
        net: a trained LandmarkDetectorNet.
        min_cells: a region smaller than this many output cells is noise, not a landmark.
        min_score: regions whose mean class probability is lower are dropped.
    """

    def __init__(self, net: LandmarkDetectorNet, min_cells: int = 3, min_score: float = 0.5):
        if isinstance(min_cells, bool) or not isinstance(min_cells, int) or min_cells < 1:
            raise ValueError(f"min_cells must be a positive integer, got {min_cells!r}")
        if not 0.0 <= min_score < 1.0:
            raise ValueError(f"min_score must be in [0, 1), got {min_score!r}")
        self.net = net.eval()
        self.min_cells = min_cells
        self.min_score = min_score

    @property
    def categories(self) -> tuple[str, ...]:
        return self.net.config.categories

    def detect(self, rgb: np.ndarray) -> list[DetectedLandmark]:
        """Landmarks in a rig's images ``(C, H, W, 3)`` uint8, largest first."""
        import cv2

        rgb = np.asarray(rgb)
        if rgb.ndim != 4 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"rgb must be (C, H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
        labels, conf = self.net.label_cells(rgb)
        h, w = rgb.shape[1:3]
        cells = labels.shape[1]
        sy, sx = h / cells, w / labels.shape[2]
        out = []
        for cam in range(len(rgb)):
            for k in np.unique(labels[cam]):
                if k == 0:
                    continue
                mask = (labels[cam] == k).astype(np.uint8)
                n, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
                for c in range(1, n):
                    area = int(stats[c, cv2.CC_STAT_AREA])
                    if area < self.min_cells:
                        continue
                    score = float(conf[cam][comp == c].mean())
                    if score < self.min_score:
                        continue
                    x0, y0 = stats[c, cv2.CC_STAT_LEFT], stats[c, cv2.CC_STAT_TOP]
                    bw, bh = stats[c, cv2.CC_STAT_WIDTH], stats[c, cv2.CC_STAT_HEIGHT]
                    out.append(
                        DetectedLandmark(
                            category=self.categories[int(k)],
                            camera=cam,
                            pixels=round(area * sy * sx),
                            bbox=_box(y0, x0, bh, bw, sy, sx),
                            score=score,
                        )
                    )
        return sorted(out, key=lambda d: -d.pixels)

    def save(self, path: str | Path) -> Path:
        """Weights + config in one torch file, written atomically."""
        buf = io.BytesIO()
        torch.save(
            {
                "format": CHECKPOINT_FORMAT,
                "version": 1,
                "config": dataclasses.asdict(self.net.config),
                "detector": {"min_cells": self.min_cells, "min_score": self.min_score},
                "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
            },
            buf,
        )
        return atomic_write(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> LandmarkDetector:
        """The detector saved at ``path``.

        Raises:
            FileNotFoundError: if ``path`` does not exist.
            ValueError: if it is not a landmark detector checkpoint.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"landmark detector checkpoint {path} does not exist")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # torch raises many types for a damaged file
            raise ValueError(f"{path} is corrupt or not a torch file: {e}") from e
        if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a landmark detector checkpoint (format tag missing)")
        try:
            cfg = payload["config"]
            net = LandmarkDetectorNet(
                DetectorConfig(
                    categories=tuple(cfg["categories"]),
                    image_size=cfg["image_size"],
                    width=cfg["width"],
                )
            )
            net.load_state_dict(payload["state_dict"])
            return cls(net, **payload["detector"])
        except (KeyError, TypeError, RuntimeError) as e:
            raise ValueError(f"{path} does not match LandmarkDetectorNet: {e}") from e
