"""Train and evaluate the VPR baseline on map nodes of training scenes.

Supervision comes free from the map: nodes close in position and heading in the same map see
the same place (positives), nodes far apart or in another scene do not (negatives). A
batch-hard triplet loss mines the hardest positive and negative of every anchor in the
batch, which is what makes a tiny net learn anything from a few hundred nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from astra_sim.agents.astra_global.base import Query
from astra_sim.agents.astra_global.vpr import VPRConfig, VPRNet, map_descriptors
from astra_sim.core.seeding import check_seed
from astra_sim.mapping.graph import TopoSemanticMap


@dataclass(frozen=True)
class VPRTrainConfig:
    """How to train a VPRNet.

    Attributes:
        net: the net's shape.
        epochs: passes over all nodes (each node is an anchor once per epoch); with
            ``patience`` the most it may run.
        patience: stop once the epoch loss has not improved on its best by more than
            ``min_delta`` (relative) for this many epochs: trained until the loss plateaus,
            which is what a fair baseline needs. 0 runs all ``epochs``.
        min_delta: relative improvement that counts as progress for ``patience``.
        batch_size: anchors per step (each brings one positive, so 2x images).
        lr: Adam learning rate.
        margin: triplet margin on cosine similarity.
        pos_radius: metres within which a same-map node is a positive...
        pos_yaw_deg: ...if its heading is also within this many degrees.
        neg_radius: same-map nodes farther than this (metres) are negatives; nodes of other
            maps always are. Between the radii a pair is ignored (ambiguous overlap).
        brightness: images are scaled by a gain in [1 - b, 1 + b] so a node paired with
            itself (when it has no positive) is not a trivial pair.
        shift: at most this many pixels of random translation, same reason.
        seed: seeds torch and every random draw.
        progress: show a tqdm bar.
    """

    net: VPRConfig = field(default_factory=VPRConfig)
    epochs: int = 5
    patience: int = 0
    min_delta: float = 0.02
    batch_size: int = 16
    lr: float = 1e-3
    margin: float = 0.1
    pos_radius: float = 1.0
    pos_yaw_deg: float = 30.0
    neg_radius: float = 3.0
    brightness: float = 0.2
    shift: int = 4
    seed: int = 0
    progress: bool = False

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"VPRTrainConfig.{name} must be a positive integer, got {v!r}")
        if (
            isinstance(self.patience, bool)
            or not isinstance(self.patience, int)
            or self.patience < 0
        ):
            raise ValueError(
                f"VPRTrainConfig.patience must be an integer >= 0, got {self.patience!r}"
            )
        if not 0 <= self.min_delta < 1:
            raise ValueError(f"VPRTrainConfig.min_delta must be in [0, 1), got {self.min_delta!r}")
        for name in ("lr", "pos_radius", "pos_yaw_deg", "neg_radius"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"VPRTrainConfig.{name} must be a finite number > 0, got {v!r}")
        if self.neg_radius < self.pos_radius:
            raise ValueError("VPRTrainConfig.neg_radius must be >= pos_radius")
        if not 0 <= self.margin < 2 or not 0 <= self.brightness < 1 or self.shift < 0:
            raise ValueError("VPRTrainConfig margin/brightness/shift out of range")
        check_seed(self.seed, "VPRTrainConfig.seed")


def _pose_table(maps: list[TopoSemanticMap]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(map index, node index, (x, y, yaw)) of every node of every map."""
    mi, ni, poses = [], [], []
    for m, tmap in enumerate(maps):
        for n, node in enumerate(tmap.nodes):
            mi.append(m)
            ni.append(n)
            poses.append(node.pose2d)
    return np.array(mi), np.array(ni), np.array(poses, dtype=np.float64).reshape(-1, 3)


def pair_masks(
    map_idx: np.ndarray, poses: np.ndarray, config: VPRTrainConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative (N, N) masks from map membership and poses (diagonal positive)."""
    same = map_idx[:, None] == map_idx[None, :]
    dist = np.linalg.norm(poses[:, None, :2] - poses[None, :, :2], axis=-1)
    dyaw = np.abs((poses[:, None, 2] - poses[None, :, 2] + np.pi) % (2 * np.pi) - np.pi)
    pos = same & (dist <= config.pos_radius) & (dyaw <= math.radians(config.pos_yaw_deg))
    neg = ~same | (dist > config.neg_radius)
    return pos, neg


def _augment(x: torch.Tensor, config: VPRTrainConfig, gen: torch.Generator) -> torch.Tensor:
    """Random brightness gain and translation per image (x: (N, 3, h, w) in [0, 1])."""
    n = x.shape[0]
    gain = 1 + (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * config.brightness
    x = (x * gain).clamp(0, 1)
    s = config.shift
    if s:
        h, w = x.shape[-2:]
        padded = F.pad(x, (s, s, s, s), mode="replicate")
        off = torch.randint(0, 2 * s + 1, (2,), generator=gen).tolist()
        x = padded[..., off[0] : off[0] + h, off[1] : off[1] + w]
    return x


def _others(partners: np.ndarray, anchor: int) -> np.ndarray:
    """``partners`` without ``anchor``, or just ``anchor`` when it has no other positive."""
    rest = partners[partners != anchor]
    return rest if len(rest) else partners


def batch_hard_triplet(
    desc: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, margin: float
) -> torch.Tensor:
    """Mean over anchors of relu(hardest negative sim - hardest positive sim + margin)."""
    sim = desc @ desc.T
    eye = torch.eye(len(desc), dtype=torch.bool)
    pos = pos & ~eye
    valid = pos.any(1) & neg.any(1)
    if not valid.any():
        return sim.sum() * 0.0
    hardest_pos = sim.masked_fill(~pos, 2.0).min(1).values
    hardest_neg = sim.masked_fill(~neg, -2.0).max(1).values
    return F.relu(hardest_neg - hardest_pos + margin)[valid].mean()


def train_vpr(
    maps: list[TopoSemanticMap], config: VPRTrainConfig | None = None
) -> tuple[VPRNet, list[float]]:
    """Train a VPRNet on the nodes of ``maps``; returns it (eval mode) and per-epoch mean loss."""
    config = config or VPRTrainConfig()
    if not maps or any(not isinstance(m, TopoSemanticMap) or not m.nodes for m in maps):
        raise ValueError("maps must be a non-empty list of TopoSemanticMaps with nodes")
    cams = {m.nodes[0].rgb.shape[0] for m in maps}
    if len(cams) != 1:
        raise ValueError(f"maps must share one rig, got camera counts {sorted(cams)}")
    (cameras,) = cams
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = VPRNet(config.net)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    map_idx, node_idx, poses = _pose_table(maps)
    pos_all, neg_all = pair_masks(map_idx, poses, config)
    partners = [np.flatnonzero(row) for row in pos_all]  # includes the node itself
    images = [np.stack([n.rgb for n in m.nodes]) for m in maps]
    history: list[float] = []
    net.train()
    for epoch in tqdm(range(config.epochs), desc="vpr", unit="epoch", disable=not config.progress):
        order = rng.permutation(len(map_idx))
        losses = []
        for start in range(0, len(order), config.batch_size):
            anchors = order[start : start + config.batch_size]
            # A positive other than the anchor if there is one, else the anchor itself.
            chosen = np.array([rng.choice(_others(partners[a], a)) for a in anchors])
            items = np.concatenate([anchors, chosen])
            rgb = np.stack([images[map_idx[i]][node_idx[i]] for i in items])
            x = _augment(net.prepare(torch.from_numpy(rgb)), config, gen)
            desc = net.embed(x, cameras)
            pos = torch.from_numpy(pos_all[np.ix_(items, items)])
            # The same node drawn twice (a self-pair) is a positive too, off the diagonal.
            pos |= torch.from_numpy(items[:, None] == items[None, :])
            neg = torch.from_numpy(neg_all[np.ix_(items, items)])
            loss = batch_hard_triplet(desc, pos, neg, config.margin)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        history.append(float(np.mean(losses)))
        if config.progress:
            tqdm.write(f"vpr epoch {epoch}: loss {history[-1]:.4f}")
        if config.patience and plateaued(history, config.patience, config.min_delta):
            break
    return net.eval(), history


def plateaued(history: list[float], patience: int, min_delta: float) -> bool:
    """Whether the last ``patience`` losses all failed to beat the best before them by
    more than ``min_delta`` (relative)."""
    if len(history) <= patience:
        return False
    best_before = min(history[:-patience])
    return min(history[-patience:]) > best_before * (1.0 - min_delta)


def recall_at_1(
    net: VPRNet,
    db_map: TopoSemanticMap,
    queries: TopoSemanticMap | list[Query],
    radius: float = 2.0,
) -> float:
    """Fraction of queries whose top-1 node lies within ``radius`` metres of the true pose.

    ``queries`` is a second map of the same place (its nodes are the queries, their poses the
    truth; a different tour of the scene gives held-out viewpoints) or Query objects with
    ``true_pose`` set.
    """
    if not radius > 0:
        raise ValueError(f"radius must be > 0, got {radius!r}")
    if isinstance(queries, TopoSemanticMap):
        rgb = np.stack([n.rgb for n in queries.nodes])
        truth = np.stack([n.pose2d for n in queries.nodes])
    else:
        if not queries or any(q.true_pose is None for q in queries):
            raise ValueError("queries must be non-empty and each must have true_pose")
        rgb = np.stack([np.asarray(q.rgb) for q in queries])
        truth = np.stack([np.asarray(q.true_pose, dtype=np.float64) for q in queries])
    if rgb.shape[1] != db_map.nodes[0].rgb.shape[0]:
        raise ValueError(
            f"queries have {rgb.shape[1]} cameras, db_map has {db_map.nodes[0].rgb.shape[0]}"
        )
    best = np.argmax(net.describe(rgb) @ map_descriptors(net, db_map).T, axis=1)
    found = db_map.positions[best]
    return float(np.mean(np.linalg.norm(found - truth[:, :2], axis=1) <= radius))
