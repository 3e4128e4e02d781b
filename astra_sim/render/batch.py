"""Render the rigs of many (renderer, rig, pose) jobs with as few calls as each backend allows.

The ``gl`` backend draws every job of this process, on any scene, into one framebuffer and
reads it back once (``gl_backend.render_jobs``); other backends render job by job. Frames
come back in the jobs' order, each what ``renderer.render(rig, pose)`` would have given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from astra_sim.render.protocol import Frame


def render_many(
    jobs: Sequence[tuple[Any, Any, Any]],
    rgb: bool = True,
    depth: bool = True,
    semantic: bool = True,
) -> list[Frame]:
    """One ``Frame`` per (renderer, rig, pose) job, in order."""
    frames: list[Frame | None] = [None] * len(jobs)
    gl_jobs = [i for i, (r, _, _) in enumerate(jobs) if _is_gl(r)]
    if gl_jobs:
        from astra_sim.render.gl_backend import render_jobs

        done = render_jobs([jobs[i] for i in gl_jobs], rgb=rgb, depth=depth, semantic=semantic)
        for i, frame in zip(gl_jobs, done, strict=True):
            frames[i] = frame
    for i, (renderer, rig, pose) in enumerate(jobs):
        if frames[i] is None:
            frames[i] = renderer.render(rig, pose, rgb=rgb, depth=depth, semantic=semantic)
    return frames  # type: ignore[return-value]


def _is_gl(renderer: Any) -> bool:
    # Checked by class name first, so batching embree jobs never imports moderngl.
    if type(renderer).__name__ != "GLRenderer":
        return False
    from astra_sim.render.gl_backend import GLRenderer

    return isinstance(renderer, GLRenderer)
