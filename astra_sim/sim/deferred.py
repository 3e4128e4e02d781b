"""Deferred rendering: step many simulators, then render all their rigs in one batch.

A vector env steps N envs one after the other, and each step ends in a render. Rendering
them one by one costs N round trips to the rasterizer; inside ``deferred_rendering()`` a
simulator's step runs its physics and sensors as usual but only queues its render, and
``flush()`` renders every queued rig in one call (``render.batch.render_many``) and fills
the observations in. Nothing else changes: each simulator still draws its image noise from
its own generator in its own order, so observations are bit for bit those of stepping
alone (with one backend: batching never changes which renderer serves a simulator).

The observation dict a deferred step returns is the one that gets filled, so code that
passes it through unchanged (the env, gymnasium's wrappers) sees the images after the
flush; until then its image keys hold read-only zeros of the right shape and dtype.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import numpy as np

from astra_sim.render.batch import render_many

_active: contextvars.ContextVar[RenderQueue | None] = contextvars.ContextVar(
    "astra_sim_render_queue", default=None
)


def active_queue() -> RenderQueue | None:
    """The queue of the innermost ``deferred_rendering()`` block, or None outside one."""
    return _active.get()


class RenderQueue:
    """Renders queued by simulators, waiting for one batched ``flush``."""

    def __init__(self) -> None:
        self._jobs: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]] = []

    def __len__(self) -> int:
        return len(self._jobs)

    def defer(self, sim: Any, imu: np.ndarray, wheel: np.ndarray) -> dict[str, Any]:
        """Queue ``sim``'s render at its current pose; the observation to be filled in."""
        c, h, w = sim.rig.shape
        obs: dict[str, Any] = {
            "rgb": _zeros((c, h, w, 3), np.uint8),
            "depth": _zeros((c, h, w), np.float32),
            "semantic": _zeros((c, h, w), np.int32),
            "imu": imu,
            "wheel": wheel,
        }
        self._jobs.append((sim, sim.state.pose.copy(), imu, wheel, obs))
        return obs

    def flush(self) -> None:
        """Render every queued rig (one batch per backend) and fill the observations."""
        jobs, self._jobs = self._jobs, []
        if not jobs:
            return
        frames = render_many([(sim.renderer, sim.rig, pose) for sim, pose, *_ in jobs])
        for (sim, _, imu, wheel, obs), frame in zip(jobs, frames, strict=True):
            obs.update(sim.assemble(frame, imu, wheel))


def _zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A read-only array of zeros that costs no memory (a broadcast scalar)."""
    return np.broadcast_to(np.zeros((), dtype=dtype), shape)


@contextlib.contextmanager
def deferred_rendering() -> Iterator[RenderQueue]:
    """Queue simulator renders inside the block; they are flushed when it ends.

    Flush earlier with ``queue.flush()`` to read the images inside the block.
    """
    queue = RenderQueue()
    token = _active.set(queue)
    try:
        yield queue
    finally:
        _active.reset(token)
    queue.flush()
