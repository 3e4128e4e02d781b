"""A picture of a map over its scene: nodes with headings, edges, and labelled landmarks."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from astra_sim.core.fileio import atomic_write
from astra_sim.mapping.graph import TopoSemanticMap
from astra_sim.scenes.model import Scene
from astra_sim.scenes.topdown import draw_topdown

_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def draw_map(tmap: TopoSemanticMap, scene: Scene, ax: Any = None, labels: bool = True) -> Any:
    """Draw ``tmap`` over the top-down view of ``scene`` onto ``ax`` and return the axes."""
    ax = draw_topdown(scene, ax=ax, labels=False)
    xy = tmap.positions
    if len(tmap.edges):
        segments = np.stack([xy[tmap.edges[:, 0]], xy[tmap.edges[:, 1]]], axis=1)
        ax.add_collection(LineCollection(segments, colors="#2c6fbb", linewidths=0.3, alpha=0.35))
    if len(xy):
        yaw = np.array([n.yaw for n in tmap.nodes])
        ax.quiver(
            xy[:, 0], xy[:, 1], np.cos(yaw), np.sin(yaw),
            color="#0b3d91", scale=110, width=0.001, headwidth=4, zorder=6,
        )  # fmt: skip
        ax.scatter(xy[:, 0], xy[:, 1], s=3, c="#0b3d91", zorder=6)
    if tmap.landmarks:
        pos = np.array([m.position[:2] for m in tmap.landmarks])
        ax.scatter(pos[:, 0], pos[:, 1], s=18, marker="*", c="#c0392b", zorder=7)
        if labels:
            for m in tmap.landmarks:
                name = f'"{m.text}"' if m.text else m.category.replace("_", " ")
                ax.text(
                    m.position[0], m.position[1], f" L{m.id} {name}",
                    fontsize=4.5, color="#7b1d12", zorder=8, ha="left", va="bottom",
                )  # fmt: skip
    _, count = tmap.components()
    ax.set_title(
        f"{ax.get_title()}\nmap: {len(tmap.nodes)} nodes, {len(tmap.edges)} edges "
        f"({count} component{'s' if count != 1 else ''}), {len(tmap.landmarks)} landmarks",
        fontsize=9,
    )
    return ax


def save_map_picture(
    tmap: TopoSemanticMap, scene: Scene, path: str | Path, dpi: int = 160, labels: bool = True
) -> Path:
    """Draw the map over its scene and write it to ``path`` (.png, .pdf or .svg)."""
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: picture suffix must be one of {', '.join(_FORMATS)}")
    lo, hi = scene.bounds
    w, h = hi[0] - lo[0], hi[1] - lo[1]
    fig, ax = plt.subplots(figsize=(min(16, 3 + w * 0.5), min(14, 2.5 + h * 0.5)))
    try:
        draw_map(tmap, scene, ax=ax, labels=labels)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi)
    finally:
        plt.close(fig)
    return atomic_write(path, buf.getvalue())
