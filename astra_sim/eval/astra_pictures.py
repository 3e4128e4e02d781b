"""Pictures of an Astra episode, so a failure can be seen, not only counted.

A top-down picture: the scene's occupancy (ground truth, for the viewer), the map G faintly,
the global route, the true trajectory (solid) against the agent's estimate (dashed), the
localization fixes (accepted filled, rejected hollow), the goal region and the agent's goal.
The animation draws the same with both trajectories growing. Drawn with Pillow on the
picture of ``envs.frame.topdown_image``, so a 300-step episode costs milliseconds.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from astra_sim.envs.frame import topdown_image
from astra_sim.scenes.navigation import NavGrid

TRUE, EST, ROUTE, GOAL, FIX_OK, FIX_BAD = (
    (30, 80, 220), (235, 120, 20), (120, 40, 160), (210, 30, 30), (20, 150, 60), (200, 0, 0),
)  # fmt: skip
PX_PER_M = 24


class _Canvas:
    """World metres -> pixels of an upscaled top-down image of the grid."""

    def __init__(self, grid: NavGrid) -> None:
        self.grid = grid
        self.k = max(1, round(PX_PER_M * grid.config.cell_size))
        base = Image.fromarray(topdown_image(grid))
        self.image = base.resize((base.width * self.k, base.height * self.k), Image.NEAREST)

    def px(self, xy: Any) -> list[tuple[float, float]]:
        a = np.asarray(xy, np.float64).reshape(-1, 2)
        g, cs = self.grid, self.grid.config.cell_size
        col = (a[:, 0] - g.origin[0]) / cs * self.k
        row = self.image.height - (a[:, 1] - g.origin[1]) / cs * self.k
        return list(zip(col.tolist(), row.tolist(), strict=False))


def _dot(draw: ImageDraw.ImageDraw, p: tuple[float, float], r: float, **kw: Any) -> None:
    draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], **kw)


def _dashed(draw: ImageDraw.ImageDraw, pts: list, fill: tuple, width: int = 2) -> None:
    for i in range(0, len(pts) - 1, 2):
        draw.line([pts[i], pts[i + 1]], fill=fill, width=width)


def _background(grid: NavGrid, trace: dict[str, Any]) -> _Canvas:
    """Everything that does not move: map graph, route, goal region, goal estimate, start."""
    c = _Canvas(grid)
    draw = ImageDraw.Draw(c.image, "RGBA")
    nodes = np.asarray(trace.get("map_nodes") or np.zeros((0, 2)), np.float64).reshape(-1, 2)
    pn = c.px(nodes)
    for i, j in trace.get("map_edges") or []:
        draw.line([pn[i], pn[j]], fill=(90, 90, 90, 70), width=1)
    for goal in c.px(trace.get("goal_positions") or np.zeros((0, 2))):
        _dot(draw, goal, 2, fill=(*GOAL, 110))
    route = trace.get("subgoals") or []
    if len(route) > 1:
        draw.line(c.px(route), fill=(*ROUTE, 200), width=3)
    if trace.get("goal_estimate") is not None:
        g = c.px(trace["goal_estimate"][:2])[0]
        draw.rectangle([g[0] - 5, g[1] - 5, g[0] + 5, g[1] + 5], outline=GOAL, width=2)
    if trace.get("start_true") is not None:
        _dot(draw, c.px(trace["start_true"][:2])[0], 5, outline=(0, 0, 0), width=2)
    return c


def _overlay(c: _Canvas, trace: dict[str, Any], upto: int | None = None) -> Image.Image:
    """The background with the trajectories (and fixes) up to step ``upto``."""
    img = c.image.copy()
    draw = ImageDraw.Draw(img)
    true = np.asarray(trace["true_xy"], np.float64)[: None if upto is None else upto + 1]
    est = [p for p in trace.get("est_pose", [])[: None if upto is None else upto + 1] if p]
    if len(true) > 1:
        draw.line(c.px(true), fill=TRUE, width=2)
    if len(est) > 1:
        _dashed(draw, c.px(np.asarray(est)[:, :2]), EST)
    for fix in trace.get("fixes", []):
        if fix.get("pose") is None or (upto is not None and fix["t"] > upto):
            continue
        p = c.px(fix["pose"][:2])[0]
        if fix.get("accepted"):
            _dot(draw, p, 4, fill=FIX_OK)
        else:
            _dot(draw, p, 4, outline=FIX_BAD, width=2)
    return img


def _legend(img: Image.Image, trace: dict[str, Any]) -> Image.Image:
    """A strip above the picture: title, outcome and the key."""
    strip = Image.new("RGB", (max(img.width, 520), 40), (255, 255, 255))
    d = ImageDraw.Draw(strip)
    d.text((4, 2), f"{trace.get('title', '')}  [{trace.get('outcome', '')}]", fill=(0, 0, 0))
    x = 4
    for label, color in (("true", TRUE), ("estimate", EST), ("route", ROUTE), ("goal", GOAL),
                         ("fix ok", FIX_OK), ("fix rejected", FIX_BAD)):  # fmt: skip
        d.line([(x, 28), (x + 16, 28)], fill=color, width=3)
        d.text((x + 20, 21), label, fill=(0, 0, 0))
        x += 28 + 7 * len(label)
    out = Image.new("RGB", (strip.width, strip.height + img.height), (255, 255, 255))
    out.paste(strip, (0, 0))
    out.paste(img, (0, strip.height))
    return out


def episode_picture(grid: NavGrid, trace: dict[str, Any]) -> bytes:
    """PNG bytes of the whole episode."""
    buf = io.BytesIO()
    _legend(_overlay(_background(grid, trace), trace), trace).save(buf, format="PNG")
    return buf.getvalue()


def episode_animation(grid: NavGrid, trace: dict[str, Any], frames: int = 40) -> bytes:
    """GIF bytes: the trajectories growing over ``frames`` frames (the last holds longer)."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    c = _background(grid, trace)
    steps = max(len(trace["true_xy"]) - 1, 0)
    cuts = np.linspace(0, steps, frames).round().astype(int)
    images = [_legend(_overlay(c, trace, int(t)), trace).convert("P", palette=Image.ADAPTIVE)
              for t in cuts]  # fmt: skip
    buf = io.BytesIO()
    durations = [100] * (frames - 1) + [1500]
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=durations, loop=0)  # fmt: skip
    return buf.getvalue()
