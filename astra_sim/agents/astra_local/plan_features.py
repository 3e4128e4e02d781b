"""What the planner sees of the scene, per frame: BEV features and an occupancy grid.

Sources, chosen by ``planner.bev.features``:

- ``depth``: ``DepthLifter``'s height-band counts of the rig's depth (no learning).
- ``encoder``: the learned 3D encoder's voxel features (ViT + Lift-Splat-Shoot over the
  RGB cameras, self-supervised by rendering; ``train_encoder``), frozen, flattened over
  height and resampled onto the planner's grid, as Astra-Local's planning head reads
  them. The occupancy grid still comes from depth: it is what the fallback planner checks
  paths against, and keeping it fixed makes ``depth`` vs ``encoder`` a one-factor change.
- ``encoder+depth``: both stacked (encoder channels first).

The same featurizer runs when samples are built (from the simulator or a collected
dataset) and in the closed-loop agent, so training and driving read identical inputs.
The trained encoder travels inside the planner checkpoint (``encoder_payload``), so a
planner never depends on a second file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from astra_sim.agents.astra_local.bev_input import BevConfig, DepthLifter
from astra_sim.agents.astra_local.encoder3d import Encoder3D
from astra_sim.render.rig import Rig

Featurize = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]


def squash(x: torch.Tensor) -> torch.Tensor:
    """asinh: voxel features are sums over frustum points and span orders of magnitude;
    this keeps small values linear and large ones logarithmic, with the sign."""
    return torch.asinh(x)


class EncoderFeaturizer:
    """One frame ``{"rgb", "depth"}`` -> (encoder BEV on the planner grid [+ depth bands],
    depth occupancy)."""

    def __init__(self, rig: Rig, bev: BevConfig, encoder: Encoder3D):
        self.bev = bev
        self.encoder = encoder.eval().requires_grad_(False)
        if tuple(rig.shape) != tuple(encoder.rig.shape):
            raise ValueError(
                f"the encoder was trained on a {encoder.rig.shape} rig, the env has {rig.shape}"
            )
        self.lifter = DepthLifter(rig, bev)
        # Planner cell centres as grid_sample coordinates of the encoder's (X, Y) plane:
        # voxels are (C, Z, X, Y), so grid_sample's (W, H) are (Y, X).
        extent = encoder.cfg.grid.extent
        centres = torch.from_numpy(bev.cell_centres()).float()
        self.grid = torch.stack([centres[..., 1], centres[..., 0]], -1)[None] / extent

    @torch.no_grad()
    def features(self, rgb: np.ndarray) -> np.ndarray:
        """(B, N, H, W, 3) uint8 frames -> (B, C, X, Y) float32 planner-grid features."""
        voxels = self.encoder(torch.from_numpy(np.ascontiguousarray(rgb)))
        flat = Encoder3D.bev(voxels)
        grid = self.grid.expand(len(flat), -1, -1, -1)
        out = F.grid_sample(flat, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return squash(out).numpy().astype(np.float32)

    def __call__(self, obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if "rgb" not in obs:
            raise ValueError(f"bev.features={self.bev.features} needs RGB frames (collect rgb)")
        bands, occupancy = self.lifter(obs["depth"])
        feats = self.features(np.asarray(obs["rgb"])[None])[0]
        if "depth" in self.bev.features:
            feats = np.concatenate([feats, bands])
        return feats, occupancy


def depth_featurizer(rig: Rig, bev: BevConfig) -> Featurize:
    lifter = DepthLifter(rig, bev)
    return lambda obs: lifter(obs["depth"])


def featurizer_factory(bev: BevConfig, encoder: Encoder3D | None) -> Callable[[Rig], Featurize]:
    """``factory(rig) -> featurize(obs)`` for ``bev.features`` (one featurizer per rig)."""
    if bev.uses_encoder:
        if encoder is None:
            raise ValueError(
                f"bev.features={bev.features} needs the trained encoder (bev.encoder=PATH)"
            )
        return lambda rig: EncoderFeaturizer(rig, bev, encoder)
    return lambda rig: depth_featurizer(rig, bev)


class RigFeaturizers:
    """``featurizers(rig)``: the featurizer ``factory`` builds for a rig, built once per rig
    (building one precomputes the rig's rays) and kept with the rig, so the id it is cached
    under cannot be reused by another rig while the entry lives."""

    def __init__(self, factory: Callable[[Rig], Featurize]):
        self.factory = factory
        self._built: dict[int, tuple[Rig, Featurize]] = {}

    def __call__(self, rig: Rig) -> Featurize:
        if id(rig) not in self._built:
            self._built[id(rig)] = (rig, self.factory(rig))
        return self._built[id(rig)][1]


def load_bev_encoder(bev: BevConfig) -> Encoder3D | None:
    """The frozen 3D encoder ``bev.encoder`` names (None for depth features); also sets
    ``bev.encoder_channels`` to its BEV channels, which the planner's stem is sized by."""
    if not bev.uses_encoder:
        return None
    from astra_sim.agents.astra_local.train_encoder import load_encoder3d

    path = encoder_path(bev)
    if not path.is_file():
        raise FileNotFoundError(
            f"bev.encoder={bev.encoder!r} is not a file: train one with `astra-sim train local "
            "--recipe agents/astra_local_encoder_small.yaml` (it writes encoder3d.pt)"
        )
    encoder = load_encoder3d(path)
    bev.encoder_channels = encoder.bev_channels
    return encoder


def encoder_path(bev: BevConfig) -> Path:
    """``bev.encoder``; a path under ``agents/checkpoints/`` that is not found from the
    working directory is looked up among the shipped checkpoints (any working directory)."""
    path = Path(bev.encoder or "")
    prefix = ("agents", "checkpoints")
    if not path.is_file() and not path.is_absolute() and path.parts[:2] == prefix:
        from astra_sim.core.shipped import shipped_checkpoints

        path = shipped_checkpoints().joinpath(*path.parts[2:])
    return path


def features_tag(bev: BevConfig) -> str:
    """What a sample cache's ``bev`` holds: ``depth`` or ``<features>:<sha1 of the encoder's
    weights>``, so a cache built with other features is never read by mistake."""
    if not bev.uses_encoder:
        return "depth"
    digest = hashlib.sha1(encoder_path(bev).read_bytes()).hexdigest()[:12]
    return f"{bev.features}:{digest}"


def encoder_payload(encoder: Encoder3D | None) -> dict[str, Any] | None:
    """The encoder's config and weights, for the planner checkpoint."""
    if encoder is None:
        return None
    from astra_sim.core.recipe import to_dict

    return {"config": to_dict(encoder.cfg), "state_dict": encoder.state_dict()}


def encoder_from_payload(payload: dict[str, Any] | None) -> Encoder3D | None:
    """The frozen encoder a planner checkpoint carries (None when it reads depth)."""
    if payload is None:
        return None
    from astra_sim.agents.astra_local.encoder3d import Encoder3DConfig

    encoder = Encoder3D(Encoder3DConfig(**payload["config"]))
    encoder.load_state_dict(payload["state_dict"])
    return encoder.eval().requires_grad_(False)


__all__ = [
    "EncoderFeaturizer",
    "Featurize",
    "RigFeaturizers",
    "depth_featurizer",
    "encoder_from_payload",
    "encoder_path",
    "encoder_payload",
    "features_tag",
    "featurizer_factory",
    "load_bev_encoder",
]
