"""Pictures of an Astra episode, so a failure can be seen, not only counted.

A top-down picture: the scene's occupancy (ground truth, for the viewer only), the map
graph faintly, the global route and the subgoals sent to the local planner, the true
trajectory (solid) against the agent's estimate (dashed), the localization fixes (accepted
filled, rejected hollow, failed attempts as a grey cross on the true path), the true goal
region and the agent's goal. The animation is the same picture with both trajectories
growing. Everything is drawn with Pillow on ``envs.frame.topdown_image`` (as the env's own
frames are): the static part once, then only the trajectories per frame, so a 300-step
episode costs milliseconds, and one fixed palette keeps the GIF's frames to their deltas.

Trace keys (JSON-like lists, see ``astra_outcome.picture_trace``): ``true_xy`` (T, 2),
``est_pose`` (T, 3) with None before the agent had an estimate, ``map_nodes`` (V, 2),
``map_edges`` (E, 2), ``route`` (node ids), ``subgoals`` (S, 2), ``fixes`` ({"t", "pose",
"accepted"}, pose None for a failed attempt), ``goal_positions`` (G, 2), ``goal_estimate``
([x, y, yaw] or None), ``start_true`` ([x, y, yaw]), ``outcome``, ``title``.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from astra_sim.envs.frame import topdown_image
from astra_sim.scenes.navigation import NavGrid

TRUE, EST, ROUTE, GOAL = (30, 80, 220), (235, 120, 20), (130, 40, 170), (210, 30, 30)
FIX_OK, FIX_BAD, FIX_NONE, START = (20, 150, 60), (200, 0, 0), (110, 110, 110), (0, 0, 0)
TARGET_PX = 700
"""The map's longest side is at least this many pixels where whole pixels per cell allow."""
_KEY = (
    ("true", TRUE, "line"), ("estimate", EST, "dash"), ("route", ROUTE, "line"),
    ("subgoal", ROUTE, "diamond"), ("goal region", GOAL, "dot"), ("goal estimate", GOAL, "box"),
    ("start", START, "ring"), ("fix accepted", FIX_OK, "dot"),
    ("fix rejected", FIX_BAD, "ring"), ("no fix", FIX_NONE, "cross"),
)  # fmt: skip


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _seq(value: Any) -> Any:
    """``value`` or, for None, an empty list (a trace may hold lists or arrays)."""
    return [] if value is None else value


def _xy(value: Any, width: int = 2) -> np.ndarray:
    """A (N, width) float array of a JSON-like list of points, or of one point."""
    if value is None or len(value) == 0:
        return np.zeros((0, width))
    a = np.asarray(value, np.float64)
    return (a[None] if a.ndim == 1 else a)[:, :width]


class _Canvas:
    """The static picture: a key strip above the map; world metres -> its pixels."""

    def __init__(self, grid: NavGrid) -> None:
        self.grid = grid
        self.k = int(np.clip(math.ceil(TARGET_PX / max(grid.shape)), 1, 8))  # pixels per cell
        self.font = _font(13)
        base = Image.fromarray(topdown_image(grid))
        base = base.resize((base.width * self.k, base.height * self.k), Image.NEAREST)
        self.map_h = base.height
        self.top = self._strip_height(max(base.width, 560))
        self.image = Image.new("RGB", (max(base.width, 560), self.top + base.height), "white")
        self.image.paste(base, (0, self.top))

    def px(self, xy: Any) -> list[tuple[float, float]]:
        a = _xy(xy)
        cs, origin = self.grid.config.cell_size, self.grid.origin
        col = (a[:, 0] - origin[0]) / cs * self.k
        row = self.top + self.map_h - (a[:, 1] - origin[1]) / cs * self.k
        return list(zip(col.tolist(), row.tolist(), strict=True))

    def _key_layout(self, width: int) -> list[tuple[float, float, str, tuple, str]]:
        """Where each key entry goes: two lines for the title, then as many as needed."""
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        out, x, y = [], 4.0, 40.0
        for label, color, mark in _KEY:
            w = 26 + probe.textlength(label, font=self.font) + 14
            if x + w > width and x > 4:
                x, y = 4.0, y + 18
            out.append((x, y, label, color, mark))
            x += w
        return out

    def _strip_height(self, width: int) -> int:
        return int(self._key_layout(width)[-1][1]) + 20

    def draw_key(self, trace: dict[str, Any]) -> None:
        d = ImageDraw.Draw(self.image)
        d.text((4, 2), str(trace.get("title", "")), fill=(0, 0, 0), font=_font(14))
        d.text((4, 20), f"outcome: {trace.get('outcome', '?')}", fill=(0, 0, 0), font=self.font)
        for x, y, label, color, mark in self._key_layout(self.image.width):
            p = (x + 10, y + 8)
            if mark == "line":
                d.line([(x, p[1]), (x + 20, p[1])], fill=color, width=3)
            elif mark == "dash":
                _dashed(d, [(x, p[1]), (x + 20, p[1])], color, 3, on=5, off=3)
            else:
                _mark(d, p, mark, color)
            d.text((x + 26, y), label, fill=(0, 0, 0), font=self.font)


def _mark(draw: ImageDraw.ImageDraw, p: tuple[float, float], mark: str, color: tuple) -> None:
    x, y = p
    if mark == "dot":
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=color)
    elif mark == "ring":
        draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline=color, width=2)
    elif mark == "box":
        draw.rectangle([x - 6, y - 6, x + 6, y + 6], outline=color, width=2)
    elif mark == "diamond":
        draw.polygon([(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)], fill=color)
    elif mark == "cross":
        draw.line([(x - 4, y - 4), (x + 4, y + 4)], fill=color, width=2)
        draw.line([(x - 4, y + 4), (x + 4, y - 4)], fill=color, width=2)


def _dashed(
    draw: ImageDraw.ImageDraw, pts: list, fill: tuple, width: int = 2, on: float = 7,
    off: float = 5,
) -> None:  # fmt: skip
    """A polyline dashed by arc length in pixels (steps are shorter than a dash)."""
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    if len(p) < 2:
        return
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(p, axis=0).T))])
    for a in np.arange(0.0, s[-1], on + off):
        b = min(a + on, s[-1])
        inner = p[(s > a) & (s < b)]
        xs, ys = np.interp([a, b], s, p[:, 0]), np.interp([a, b], s, p[:, 1])
        dash = [(xs[0], ys[0]), *map(tuple, inner.tolist()), (xs[1], ys[1])]
        draw.line(dash, fill=fill, width=width)


def _heading(draw: ImageDraw.ImageDraw, p: tuple, yaw: float, color: tuple) -> None:
    draw.line([p, (p[0] + 10 * math.cos(yaw), p[1] - 10 * math.sin(yaw))], fill=color, width=2)


def _scale_bar(c: _Canvas, draw: ImageDraw.ImageDraw) -> None:
    """A bar of a round number of metres, so pose errors can be read off the picture."""
    px_per_m = c.k / c.grid.config.cell_size
    metres = next((m for m in (1, 2, 5, 10, 20, 50) if m * px_per_m >= 50), 100)
    x0, y0 = 8, c.image.height - 10
    draw.rectangle([x0 - 3, y0 - 16, x0 + metres * px_per_m + 30, y0 + 4], fill=(255, 255, 255))
    draw.line([(x0, y0), (x0 + metres * px_per_m, y0)], fill=(0, 0, 0), width=3)
    draw.text((x0 + metres * px_per_m + 4, y0 - 13), f"{metres} m", fill=(0, 0, 0), font=c.font)


def _background(grid: NavGrid, trace: dict[str, Any]) -> _Canvas:
    """Everything that does not move: key, map graph, route, subgoals, goals, start."""
    c = _Canvas(grid)
    c.draw_key(trace)
    draw = ImageDraw.Draw(c.image, "RGBA")
    nodes = c.px(trace.get("map_nodes"))
    for i, j in _seq(trace.get("map_edges")):
        draw.line([nodes[int(i)], nodes[int(j)]], fill=(90, 90, 90, 60), width=1)
    for p in nodes:
        draw.ellipse([p[0] - 1.5, p[1] - 1.5, p[0] + 1.5, p[1] + 1.5], fill=(90, 90, 90, 90))
    for p in c.px(trace.get("goal_positions")):
        draw.ellipse([p[0] - 3, p[1] - 3, p[0] + 3, p[1] + 3], fill=(*GOAL, 170))
    route = [nodes[int(n)] for n in _seq(trace.get("route"))]
    if len(route) > 1:
        draw.line(route, fill=(*ROUTE, 150), width=4, joint="curve")
    for p in c.px(trace.get("subgoals")):
        _mark(draw, p, "diamond", (*ROUTE, 220))
    for pose, mark, color in (
        (trace.get("goal_estimate"), "box", GOAL),
        (trace.get("start_true"), "ring", START),
    ):
        if pose is not None:
            p = c.px(pose[:2])[0]
            _mark(draw, p, mark, color)
            if len(pose) > 2:
                _heading(draw, p, float(pose[2]), color)
    _scale_bar(c, draw)
    return c


def _estimate_runs(est_pose: list, upto: int) -> list[np.ndarray]:
    """The estimated positions up to step ``upto`` as runs without gaps (None: no estimate)."""
    runs, run = [], []
    for p in list(_seq(est_pose))[: upto + 1]:
        if p is None:
            runs, run = ([*runs, run] if run else runs), []
        else:
            run.append(p[:2])
    return [np.asarray(r, np.float64) for r in ([*runs, run] if run else runs)]


def _overlay(c: _Canvas, trace: dict[str, Any], upto: int) -> Image.Image:
    """The static picture with the trajectories, fixes and robot up to step ``upto``."""
    img = c.image.copy()
    draw = ImageDraw.Draw(img)
    true = _xy(trace.get("true_xy"))[: upto + 1]
    true_px = c.px(true)
    for fix in _seq(trace.get("fixes")):
        if fix.get("t", 0) > upto:
            continue
        if fix.get("pose") is not None:
            _mark(draw, c.px(fix["pose"][:2])[0], "dot" if fix.get("accepted") else "ring",
                  FIX_OK if fix.get("accepted") else FIX_BAD)  # fmt: skip
        elif true_px:
            _mark(draw, true_px[min(max(int(fix.get("t", 0)), 0), len(true_px) - 1)], "cross",
                  FIX_NONE)  # fmt: skip
    if len(true_px) > 1:
        draw.line(true_px, fill=TRUE, width=2, joint="curve")
    for run in _estimate_runs(trace.get("est_pose"), upto):
        _dashed(draw, c.px(run), EST, 2)
    if true_px:
        x, y = true_px[-1]
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=TRUE, outline=(255, 255, 255))
    return img


def _steps(trace: dict[str, Any]) -> int:
    """The last step index of the episode (0 for an empty one)."""
    return max(len(_seq(trace.get("true_xy"))), len(_seq(trace.get("est_pose"))), 1) - 1


def episode_picture(grid: NavGrid, trace: dict[str, Any]) -> bytes:
    """PNG bytes of the whole episode on ``grid`` (the scene's ``navgrid()``)."""
    buf = io.BytesIO()
    _overlay(_background(grid, trace), trace, _steps(trace)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def episode_animation(grid: NavGrid, trace: dict[str, Any], frames: int = 40) -> bytes:
    """GIF bytes: the trajectories growing over ``frames`` frames, the last held longer.

    Frame i shows the steps up to (i + 1) / frames of the episode. An episode of fewer
    steps than frames repeats steps, and GIF writers merge identical frames, so it has fewer.

    Raises:
        ValueError: If frames < 1.
    """
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    c = _background(grid, trace)
    steps = _steps(trace)
    cuts = [math.ceil((i + 1) * steps / frames) for i in range(frames)]
    images = [_overlay(c, trace, t) for t in cuts]
    palette = images[-1].quantize(colors=96, dither=Image.Dither.NONE)  # the fullest frame
    gif = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    buf = io.BytesIO()
    gif[0].save(buf, format="GIF", save_all=True, append_images=gif[1:], loop=0,
                duration=[100] * (frames - 1) + [1500], optimize=False)  # fmt: skip
    return buf.getvalue()
