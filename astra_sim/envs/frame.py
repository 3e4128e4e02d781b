"""The ``rgb_array`` frame: the camera panorama above a top-down map with the trajectory."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from astra_sim.scenes.navigation import NavGrid

_FREE = (235, 235, 228)
_NAVIGABLE = (190, 225, 195)
_BLOCKED = (70, 70, 70)


def topdown_image(grid: NavGrid) -> np.ndarray:
    """(rows, cols, 3) uint8 picture of the grid with north (+y) up."""
    img = np.empty((*grid.shape, 3), np.uint8)
    img[:] = _FREE
    img[grid.navigable] = _NAVIGABLE
    img[grid.obstacle | ~grid.floor] = _BLOCKED
    return img[::-1]


def render_frame(
    grid: NavGrid, rgb: np.ndarray, trajectory: np.ndarray, goals: np.ndarray, pose: np.ndarray
) -> np.ndarray:
    """Panorama (cameras side by side) over the map with path (blue), goals (red), robot."""
    pano = np.concatenate(list(rgb), axis=1)
    width = pano.shape[1]
    base = Image.fromarray(topdown_image(grid))
    scale = width / grid.shape[1]
    height = max(1, round(grid.shape[0] * scale))
    top = base.resize((width, height), Image.NEAREST)
    draw = ImageDraw.Draw(top)

    def px(xy: np.ndarray) -> np.ndarray:
        col = (xy[..., 0] - grid.origin[0]) / grid.config.cell_size * scale
        row = height - (xy[..., 1] - grid.origin[1]) / grid.config.cell_size * scale
        return np.stack([col, row], axis=-1)

    for g in px(np.asarray(goals).reshape(-1, 2)):
        draw.ellipse([g[0] - 2, g[1] - 2, g[0] + 2, g[1] + 2], fill=(220, 40, 40))
    path = px(np.asarray(trajectory).reshape(-1, 2))
    if len(path) > 1:
        draw.line([tuple(p) for p in path], fill=(30, 80, 220), width=2)
    r = px(np.asarray(pose[:2]))
    heading = r + 8 * np.array([np.cos(pose[2]), -np.sin(pose[2])])
    draw.ellipse([r[0] - 4, r[1] - 4, r[0] + 4, r[1] + 4], fill=(250, 160, 20))
    draw.line([tuple(r), tuple(heading)], fill=(0, 0, 0), width=2)
    return np.concatenate([pano, np.asarray(top)], axis=0)
