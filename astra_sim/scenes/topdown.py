"""Top-down pictures of a scene: rooms, room types, obstacles, navigable area, landmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch, Polygon

from astra_sim.scenes.model import Scene

ROOM_COLOURS = {
    "living_room": "#f4d19b",
    "kitchen": "#b9e3c6",
    "bedroom": "#c5cdf2",
    "bathroom": "#a9e0ec",
    "hallway": "#e6e6e6",
    "corridor": "#e6e6e6",
    "office": "#f2c9c9",
    "meeting_room": "#e8c6f0",
    "open_office": "#f7e3b5",
    "kitchenette": "#b9e3c6",
    "stairwell": "#d8d8d8",
    "lift_lobby": "#d8d8d8",
    "aisle": "#ece4d2",
    "cross_aisle": "#e6e6e6",
    "loading_dock": "#d7e6f5",
    "workstations": "#f2dcc2",
}


def draw_topdown(
    scene: Scene, ax: Any = None, navigable: bool = True, labels: bool = True, max_labels: int = 200
) -> Any:
    """Draw ``scene`` from above onto ``ax`` (a new figure if None) and return the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 8))
    for room in scene.rooms:
        ax.add_patch(
            Polygon(
                room.polygon,
                closed=True,
                alpha=0.55,
                lw=0.6,
                ec="#555555",
                fc=ROOM_COLOURS.get(room.type, "#eeeeee"),
            )
        )
    grid = scene.navgrid()
    cs = grid.config.cell_size
    extent = (
        grid.origin[0],
        grid.origin[0] + grid.shape[1] * cs,
        grid.origin[1],
        grid.origin[1] + grid.shape[0] * cs,
    )
    overlay = np.zeros((*grid.shape, 4))
    overlay[grid.obstacle] = (0.2, 0.2, 0.2, 0.9)
    if navigable:
        overlay[grid.navigable & ~grid.obstacle] = (0.1, 0.65, 0.25, 0.28)
    ax.imshow(overlay, origin="lower", extent=extent, interpolation="nearest", zorder=2)
    if labels:
        for room in scene.rooms:
            cx, cy = room.centroid
            ax.text(
                cx,
                cy,
                room.name,
                ha="center",
                va="center",
                fontsize=7,
                zorder=4,
                weight="bold",
                color="#333333",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.6, "lw": 0},
            )
        marks = scene.landmarks()[:max_labels]
        if marks:
            xy = np.array([m.position[:2] for m in marks])
            ax.scatter(xy[:, 0], xy[:, 1], s=6, c="#c0392b", zorder=5)
            for m in marks:
                label = m.text or m.name
                ax.text(
                    m.position[0],
                    m.position[1],
                    label,
                    fontsize=4.5,
                    zorder=5,
                    color="#7b1d12" if m.text else "#1d3d7b",
                    ha="left",
                    va="bottom",
                )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_title(
        f"{scene.kind} (seed {scene.seed}): {len(scene.rooms)} rooms, "
        f"{len(scene.landmarks())} landmarks, navigable {grid.navigable_area:.0f} m²",
        fontsize=9,
    )
    ax.legend(
        handles=[
            Patch(fc=(0.2, 0.2, 0.2), label="obstacle"),
            Patch(fc=(0.1, 0.65, 0.25, 0.4), label=f"navigable (r = {grid.config.robot_radius} m)"),
        ],
        loc="upper right",
        fontsize=6,
        framealpha=0.8,
    )
    return ax


def save_topdown(scene: Scene, path: str | Path, dpi: int = 160, **kwargs: Any) -> Path:
    """Draw ``scene`` and write the picture to ``path`` (PNG, PDF or SVG by suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lo, hi = scene.bounds
    w, h = hi[0] - lo[0], hi[1] - lo[1]
    fig, ax = plt.subplots(figsize=(min(16, 3 + w * 0.45), min(14, 2.5 + h * 0.45)))
    draw_topdown(scene, ax=ax, **kwargs)
    fig.tight_layout()
    _save_figure(fig, path, dpi)
    return path


def _save_figure(fig: Any, path: Path, dpi: int) -> None:
    """Save through a temporary file so an interrupted write leaves no broken image."""
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    try:
        fig.savefig(tmp, dpi=dpi)
        tmp.replace(path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)


def save_overview(scenes: list[Scene], path: str | Path, dpi: int = 130) -> Path:
    """Several scenes side by side in one picture (the README's figure)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(scenes), figsize=(6.5 * len(scenes), 6.0))
    for ax, scene in zip(np.atleast_1d(axes), scenes, strict=True):
        draw_topdown(scene, ax=ax, max_labels=80)
    fig.tight_layout()
    _save_figure(fig, path, dpi)
    return path
