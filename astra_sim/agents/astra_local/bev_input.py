"""The planner's scene input: a robot-centred BEV feature map and an occupancy grid.

The planning heads read a scene as ``bev (B, C, X, Y)`` plus ``occupancy (B, X, Y)``, both
robot-centred (axis 1 forward, axis 2 left; see ``esdf_loss`` for the cell convention). In
Astra the features come from the learned encoder (voxel features collapsed over height;
``bev.features=encoder``, see ``plan_features``). ``DepthLifter`` makes them from what
the robot has, without learning (``bev.features=depth``), and always makes the occupancy
grid: every valid depth pixel of the rig is lifted to a 3-D point in the base frame (the
camera's ray times the range) and splatted into the grid.

Channels, each ``log1p(count) / log1p(norm_count)`` of the points falling in a cell:
floor returns (below ``height_edges[0]``: free space seen), then one channel per height band
between consecutive edges, then everything above the last edge. The occupancy grid marks
cells holding a point inside the robot's height band [step_height, robot_height]: what the
body would hit. The planner only reads ``channels`` and the grid geometry from the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from astra_sim.render.rig import Rig

FEATURES = ("depth", "encoder", "encoder+depth")


@dataclass
class BevConfig:
    """Geometry and channels of the robot-centred grids.

    Attributes:
        size: cells per side (X = Y); the grid spans ``size * cell_size`` metres, centred
            on the robot.
        cell_size: metres per cell.
        height_edges: heights (m) splitting points into channels (floor, bands, above).
        step_height: points lower than this do not block (driven over).
        robot_height: points higher than this do not block.
        norm_count: the count mapped to 1.0 (log scale), so features stay around [0, 1].
        pixel_stride: lift every n-th pixel along each image axis (speed).
        features: what fills the BEV channels: ``depth`` (the height bands here),
            ``encoder`` (the learned 3D encoder's voxels; ``plan_features``) or
            ``encoder+depth`` (both, stacked).
        encoder: with encoder features, the ``encoder3d.pt`` to read at training time (the
            planner checkpoint then carries the encoder itself).
        encoder_channels: the encoder's BEV channels; set from the encoder when loaded.
    """

    size: int = 32
    cell_size: float = 0.15
    height_edges: list[float] = field(default_factory=lambda: [0.05, 0.4, 1.2])
    step_height: float = 0.05
    robot_height: float = 1.2
    norm_count: float = 64.0
    pixel_stride: int = 2
    features: str = "depth"
    encoder: str | None = None
    encoder_channels: int = 0

    def __post_init__(self) -> None:
        if self.features not in FEATURES:
            raise ValueError(f"bev.features must be one of {FEATURES}, got {self.features!r}")
        if self.size < 4 or self.size % 4:
            raise ValueError(f"bev.size must be a multiple of 4 and >= 4, got {self.size}")
        if self.cell_size <= 0:
            raise ValueError(f"bev.cell_size must be > 0, got {self.cell_size}")
        if list(self.height_edges) != sorted(self.height_edges) or not self.height_edges:
            raise ValueError(f"bev.height_edges must be increasing, got {self.height_edges}")
        if self.pixel_stride < 1:
            raise ValueError(f"bev.pixel_stride must be >= 1, got {self.pixel_stride}")

    @property
    def depth_channels(self) -> int:
        """The depth lifter's height bands (floor, bands, above)."""
        return len(self.height_edges) + 1

    @property
    def uses_encoder(self) -> bool:
        return self.features != "depth"

    @property
    def channels(self) -> int:
        depth = self.depth_channels if "depth" in self.features else 0
        if self.uses_encoder:
            if self.encoder_channels < 1:
                raise ValueError(
                    f"bev.features={self.features}: load the encoder first (load_bev_encoder)"
                )
            return self.encoder_channels + depth
        return depth

    @property
    def extent(self) -> float:
        """Half the side of the grid in metres."""
        return self.size * self.cell_size / 2

    def cell_centres(self) -> np.ndarray:
        """(X, Y, 2) robot-frame (x, y) of every cell centre."""
        c = (np.arange(self.size) - self.size / 2 + 0.5) * self.cell_size
        return np.stack(np.meshgrid(c, c, indexing="ij"), axis=-1)


class DepthLifter:
    """Lifts a rig's depth images into the BEV grids; built once per rig."""

    def __init__(self, rig: Rig, config: BevConfig | None = None):
        self.config = config or BevConfig()
        s = self.config.pixel_stride
        keep, vecs, origins = [], [], []
        for m in rig.mounts:
            cam = m.camera
            sub = np.zeros(cam.shape, bool)
            sub[::s, ::s] = True
            factors = cam.depth_factors()
            ok = cam.valid & sub & (factors > 1e-6)
            # depth / factor is the range along the unit ray; fold the division in once.
            dirs = cam.ray_directions()[ok].astype(np.float64) @ m.rotation.T
            vecs.append(dirs / factors[ok][:, None])
            origins.append(np.broadcast_to(np.asarray(m.xyz, np.float64), (int(ok.sum()), 3)))
            keep.append(ok)
        self._keep = np.stack(keep)
        self._vecs = np.concatenate(vecs)
        self._origins = np.concatenate(origins)

    def points(self, depth: np.ndarray) -> np.ndarray:
        """(N, 3) base-frame points of the valid returns of one (C, H, W) depth frame."""
        d = np.asarray(depth, np.float64)[self._keep]
        hit = d > 0  # misses read 0
        return self._origins[hit] + self._vecs[hit] * d[hit, None]

    def __call__(self, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One depth frame (C, H, W) -> bev (channels, X, Y) float32, occupancy (X, Y) float32."""
        cfg = self.config
        p = self.points(depth)
        ij = np.floor(p[:, :2] / cfg.cell_size + cfg.size / 2).astype(np.int64)
        inside = ((ij >= 0) & (ij < cfg.size)).all(axis=1)
        p, ij = p[inside], ij[inside]
        band = np.searchsorted(np.asarray(cfg.height_edges), p[:, 2])
        flat = (band * cfg.size + ij[:, 0]) * cfg.size + ij[:, 1]
        shape = (cfg.depth_channels, cfg.size, cfg.size)
        counts = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape)
        bev = np.log1p(counts) / np.log1p(cfg.norm_count)
        blocking = (p[:, 2] >= cfg.step_height) & (p[:, 2] <= cfg.robot_height)
        occ = np.zeros(cfg.size * cfg.size, np.float32)
        occ[ij[blocking, 0] * cfg.size + ij[blocking, 1]] = 1.0
        return bev.astype(np.float32), occ.reshape(cfg.size, cfg.size)


def local_esdf(grid, pose: np.ndarray, config: BevConfig) -> np.ndarray:
    """The scene ESDF (a ``NavGrid``) resampled onto the robot-centred grid at ``pose``: (X, Y)."""
    x, y, yaw = (float(v) for v in pose)
    local = config.cell_centres()
    c, s = np.cos(yaw), np.sin(yaw)
    world = np.stack(
        [x + c * local[..., 0] - s * local[..., 1], y + s * local[..., 0] + c * local[..., 1]], -1
    )
    return grid.esdf_at(world).astype(np.float32)
