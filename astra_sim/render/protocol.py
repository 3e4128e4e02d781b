"""The renderer protocol, its output, and the factory that picks a backend by name.

Backends (the CPU Embree ray caster by default, the OpenGL rasterizer ``gl`` on headless
EGL, habitat-sim optionally, and ``auto``, which picks ``gl`` or ``embree`` by triangle
count) are siblings behind this one protocol, so the simulator and sensors never depend on
which one runs. habitat-sim is heavy and ships only through conda, and moderngl needs a
system EGL driver, so each is imported lazily, by its backend alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

import numpy as np

from astra_sim.core.errors import UnknownNameError

if TYPE_CHECKING:
    from astra_sim.render.rig import Rig
    from astra_sim.scenes.model import Scene

BACKENDS = ("embree", "gl", "auto", "habitat")
"""Names ``make_renderer`` accepts."""

HABITAT_HINT = (
    "the 'habitat' render backend needs habitat-sim, which ships only as a conda package: "
    "create the environment with `conda env create -f environment.yml` (it installs "
    "habitat-sim headless and then astra-sim), or use backend='embree'"
)


@dataclass
class Frame:
    """One rig render: a stack of per-camera images, each ``None`` when not asked for.

    Attributes:
        rgb: (C, H, W, 3) uint8 colour; black where nothing was hit or a pixel is invalid.
        depth: (C, H, W) float32 metres; distance along the optical axis for pinhole cameras
            (what depth sensors report), along the ray for fisheye and equirectangular ones
            (z-depth is meaningless beyond 90 degrees off-axis); 0 where nothing was hit.
        semantic: (C, H, W) int32 instance ids (rows of ``scene.instances``); 0 where
            nothing was hit.
    """

    rgb: np.ndarray | None = None
    depth: np.ndarray | None = None
    semantic: np.ndarray | None = None


@runtime_checkable
class Renderer(Protocol):
    """Anything that renders a rig at a planar base pose into a ``Frame``."""

    def render(
        self,
        rig: Rig,
        pose: Any,
        rgb: bool = True,
        depth: bool = True,
        semantic: bool = True,
    ) -> Frame:
        """Render every camera of ``rig`` for the base pose (x, y, yaw) on the floor."""
        ...

    def close(self) -> None:
        """Release threads and native resources; the renderer is unusable afterwards."""
        ...


def check_flag(value: Any, name: str) -> bool:
    """A render switch (``rgb``, ``depth``, ...) as a bool; a ValueError for anything but a
    bool, so that a stray string or array does not silently count as True."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


class ClosableRenderer:
    """The lifecycle the CPU backends share: a context manager whose exit calls ``close()``,
    after which any use raises, rather than rendering from freed buffers."""

    _closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"this {type(self).__name__} was closed; make a new one")


def make_renderer(scene: Scene, backend: str = "embree", **kwargs: Any) -> Renderer:
    """The renderer for ``backend``, built for ``scene``.

    Args:
        scene: the scene to render.
        backend: one of ``BACKENDS``.
        **kwargs: passed to the backend's constructor (e.g. ``threads``); ``auto`` also
            takes ``rig``, the rig to be rendered (see ``render.auto.choose_backend``), and
            passes the rest on, so give it only what both backends accept.

    Raises:
        UnknownNameError: ``backend`` is not one of ``BACKENDS``.
        ImportError: the backend's optional dependency is not installed
            (``BackendUnavailableError`` for ``gl``, saying what to install).
    """
    if backend == "auto":
        from astra_sim.render.auto import choose_backend

        backend = choose_backend(scene, kwargs.pop("rig", None))
    if backend == "gl":
        from astra_sim.render.gl_backend import GLRenderer

        return GLRenderer(scene, **kwargs)
    if backend == "embree":
        from astra_sim.render.embree import EmbreeRenderer

        return EmbreeRenderer(scene, **kwargs)
    if backend == "habitat":
        return _make_habitat(scene, **kwargs)
    raise UnknownNameError("render backend", backend, BACKENDS)


def _make_habitat(scene: Scene, **kwargs: Any) -> Renderer:
    """The habitat-sim backend (``render.habitat_backend``, the one module that imports
    habitat_sim); ImportError with HABITAT_HINT where habitat-sim is missing."""
    from astra_sim.render.habitat_backend import HabitatRenderer

    return HabitatRenderer(scene, **kwargs)
