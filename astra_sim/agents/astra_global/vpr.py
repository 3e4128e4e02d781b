"""Visual place recognition (VPR) baseline for Astra-Global: retrieve the nearest map node.

The paper compares its MLLM localizer against a VPR baseline (MixVPR). This is the same kind
of method at gym scale: a small CNN with a NetVLAD head describes each camera image, the rig
descriptor concatenates the cameras (so the omnidirectional rig's whole view is used, in the
rig's camera order) and a query answers with the map node whose descriptor is most similar.
Its pose is that node's pose, so its accuracy is bounded by the keyframe spacing, which is
exactly the limit of retrieval the paper's fine stage is meant to overcome.
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

from astra_sim.agents.astra_global.base import LocalizationResult, Query, check_query
from astra_sim.core.fileio import atomic_write
from astra_sim.mapping.graph import TopoSemanticMap

CHECKPOINT_FORMAT = "astra-sim-vpr"
"""Tag stored in every checkpoint, so a foreign file is refused with a clear message."""

TOP_K = 5
"""Candidates a localization lists (best first)."""


@dataclass(frozen=True)
class VPRConfig:
    """Shape of a VPRNet.

    Attributes:
        channels: output channels of the conv blocks (each halves the resolution).
        clusters: NetVLAD clusters K.
        descriptor_dim: per-camera descriptor size after a linear projection of the
            K x C VLAD vector; 0 keeps the raw VLAD vector.
        image_size: (height, width) every camera image is resized to, so one net serves
            rigs of any resolution.
    """

    channels: tuple[int, ...] = (16, 32, 64, 64)
    clusters: int = 16
    descriptor_dim: int = 128
    image_size: tuple[int, int] = (64, 64)

    def __post_init__(self) -> None:
        chans = tuple(self.channels)
        if not chans or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in chans):
            raise ValueError(f"VPRConfig.channels must be positive integers, got {chans!r}")
        object.__setattr__(self, "channels", chans)
        for name, low in (("clusters", 1), ("descriptor_dim", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"VPRConfig.{name} must be an integer >= {low}, got {v!r}")
        size = tuple(self.image_size)
        if len(size) != 2 or any(not isinstance(s, int) or s < 2 ** len(chans) for s in size):
            raise ValueError(
                f"VPRConfig.image_size must be (h, w) >= {2 ** len(chans)}, got {size!r}"
            )
        object.__setattr__(self, "image_size", size)

    @property
    def camera_dim(self) -> int:
        """Size of one camera's descriptor."""
        return self.descriptor_dim or self.clusters * self.channels[-1]


class NetVLAD(nn.Module):
    """NetVLAD pooling: soft-assigned residuals to K learnt centroids.

    Intra-normalisation (per cluster) keeps bursty clusters (a big plain wall) from dominating,
    and the final L2 makes dot products cosine similarities.
    """

    def __init__(self, dim: int, clusters: int) -> None:
        super().__init__()
        self.assign = nn.Conv2d(dim, clusters, kernel_size=1)
        self.centroids = nn.Parameter(torch.randn(clusters, dim) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) features -> (B, K * C) unit descriptors."""
        x = F.normalize(x, dim=1)
        a = F.softmax(self.assign(x).flatten(2), dim=1)  # (B, K, N)
        feats = x.flatten(2)  # (B, C, N)
        vlad = torch.einsum("bkn,bcn->bkc", a, feats) - a.sum(-1, keepdim=True) * self.centroids
        vlad = F.normalize(vlad, dim=2)
        return F.normalize(vlad.flatten(1), dim=1)


class VPRNet(nn.Module):
    """Small CNN + NetVLAD per camera; the rig descriptor is the normalised concatenation."""

    def __init__(self, config: VPRConfig | None = None) -> None:
        super().__init__()
        self.config = config or VPRConfig()
        layers: list[nn.Module] = []
        c_in = 3
        for c in self.config.channels:
            layers += [
                nn.Conv2d(c_in, c, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
            ]
            c_in = c
        self.backbone = nn.Sequential(*layers)
        self.vlad = NetVLAD(c_in, self.config.clusters)
        d = self.config.descriptor_dim
        self.proj = nn.Linear(self.config.clusters * c_in, d) if d else nn.Identity()

    def prepare(self, rgb: torch.Tensor | np.ndarray) -> torch.Tensor:
        """(B, C, H, W, 3) uint8 rig images -> (B * C, 3, h, w) float in [0, 1], resized."""
        x = torch.as_tensor(np.asarray(rgb) if not isinstance(rgb, torch.Tensor) else rgb)
        if x.ndim != 5 or x.shape[-1] != 3 or x.dtype != torch.uint8:
            raise ValueError(f"rgb must be (B, C, H, W, 3) uint8, got {tuple(x.shape)} {x.dtype}")
        b, c = x.shape[:2]
        x = x.reshape(b * c, *x.shape[2:]).permute(0, 3, 1, 2).float() / 255.0
        if tuple(x.shape[-2:]) != self.config.image_size:
            x = F.interpolate(x, size=self.config.image_size, mode="bilinear", align_corners=False)
        return x

    def camera_descriptors(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) float images -> (N, camera_dim) unit descriptors."""
        return F.normalize(self.proj(self.vlad(self.backbone(images))), dim=1)

    def embed(self, images: torch.Tensor, cameras: int) -> torch.Tensor:
        """Prepared (B * C, 3, h, w) images -> (B, C * camera_dim) unit rig descriptors."""
        d = self.camera_descriptors(images)
        return F.normalize(d.reshape(-1, cameras * d.shape[1]), dim=1)

    def forward(self, rgb: torch.Tensor | np.ndarray) -> torch.Tensor:
        """(B, C, H, W, 3) uint8 rig images -> (B, C * camera_dim) unit rig descriptors."""
        # A copy: map images may be read-only arrays, which torch warns about sharing.
        x = torch.from_numpy(np.array(rgb)) if isinstance(rgb, np.ndarray) else rgb
        return self.embed(self.prepare(x), x.shape[1])

    @torch.no_grad()
    def describe(self, rgb: np.ndarray, batch: int = 32) -> np.ndarray:
        """Descriptors of many rigs in eval mode, in batches: (N, C, H, W, 3) -> (N, D)."""
        was = self.training
        self.eval()
        try:
            out = [self(rgb[i : i + batch]).numpy() for i in range(0, len(rgb), batch)]
        finally:
            self.train(was)
        return np.concatenate(out).astype(np.float32)


def map_descriptors(net: VPRNet, topo_map: TopoSemanticMap) -> np.ndarray:
    """(N, D) descriptors of every node of ``topo_map``, in node order."""
    if not topo_map.nodes:
        raise ValueError("topo_map has no nodes")
    return net.describe(np.stack([n.rgb for n in topo_map.nodes]))


class VPRLocalizer:
    """Localize by retrieval: the node whose descriptor is most cosine-similar to the query's.

    Node descriptors are computed once per map (cached by ``id(topo_map)``, with the map kept
    alive so its id cannot be reused) because a map is queried many times in an evaluation.
    """

    def __init__(self, net: VPRNet, name: str = "vpr", cache_size: int = 4) -> None:
        if not isinstance(net, VPRNet):
            raise ValueError(f"net must be a VPRNet, got {type(net).__name__}")
        self.net = net
        self.name = name
        self.cache_size = cache_size
        self._cache: dict[int, tuple[TopoSemanticMap, np.ndarray]] = {}

    def descriptors(self, topo_map: TopoSemanticMap) -> np.ndarray:
        """Cached node descriptors of ``topo_map``."""
        hit = self._cache.get(id(topo_map))
        if hit is not None and hit[0] is topo_map:
            return hit[1]
        desc = map_descriptors(self.net, topo_map)
        if len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[id(topo_map)] = (topo_map, desc)
        return desc

    def clear_cache(self) -> None:
        """Forget cached map descriptors (call after changing the net's weights)."""
        self._cache.clear()

    def localize(self, query: Query, topo_map: TopoSemanticMap) -> LocalizationResult:
        """The most similar node, its pose, and the top-5 nodes as candidates."""
        if not topo_map.nodes:
            return LocalizationResult(ok=False, failure="map has no nodes")
        check_query(query, topo_map.nodes[0].rgb.shape[0])
        db = self.descriptors(topo_map)
        q = self.net.describe(np.asarray(query.rgb)[None])[0]
        sims = db @ q
        order = np.argsort(-sims, kind="stable")[:TOP_K]
        best = topo_map.nodes[int(order[0])]
        return LocalizationResult(
            ok=True,
            node=best.id,
            pose=best.pose2d.copy(),
            candidates=[topo_map.nodes[int(i)].id for i in order],
            extras={"similarity": float(sims[order[0]]), "similarities": sims[order].tolist()},
        )

    def save(self, path: str | Path) -> Path:
        """Write the net's weights and config to ``path`` atomically."""
        return save_vpr(self.net, path)

    @classmethod
    def load(cls, path: str | Path, name: str = "vpr") -> VPRLocalizer:
        """A localizer with the net stored at ``path``."""
        return cls(load_vpr(path), name=name)


def save_vpr(net: VPRNet, path: str | Path) -> Path:
    """Save weights + config as one torch file; atomic so a crash never leaves half a file."""
    buf = io.BytesIO()
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": 1,
        "config": dataclasses.asdict(net.config),
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
    }
    torch.save(payload, buf)
    return atomic_write(path, buf.getvalue())


def load_vpr(path: str | Path) -> VPRNet:
    """The VPRNet saved at ``path``, in eval mode.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if it is not a readable VPR checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"VPR checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a damaged file
        raise ValueError(f"VPR checkpoint {path} is corrupt or not a torch file: {e}") from e
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a VPR checkpoint (format tag missing)")
    try:
        cfg = payload["config"]
        net = VPRNet(
            VPRConfig(
                channels=tuple(cfg["channels"]),
                clusters=cfg["clusters"],
                descriptor_dim=cfg["descriptor_dim"],
                image_size=tuple(cfg["image_size"]),
            )
        )
        net.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise ValueError(f"VPR checkpoint {path} does not match VPRNet: {e}") from e
    return net.eval()
