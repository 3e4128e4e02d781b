"""One headless OpenGL context per process (moderngl on EGL), shared by every ``gl`` renderer.

EGL needs no display server, so the same code renders on Mesa's llvmpipe (a CPU rasterizer
that ships with every Linux distribution) and on a GPU's own EGL driver. All renderers of a
process share one context, which is what lets the rigs of many envs, on different scenes,
render into one framebuffer and come back in one read (``GLRenderer.render_many``).

A context cannot cross ``fork``: the child of a process that made one gets its own on first
use (the context is keyed by process id), and the parent's is left alone.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from astra_sim.core.errors import BackendUnavailableError
from astra_sim.render import gl_shaders

GL_HINT = (
    "the 'gl' render backend needs moderngl (`pip install 'astra-sim[gl]'`) and a headless "
    "EGL driver with OpenGL 3.3: on Debian or Ubuntu `apt-get install libegl1 libgl1 "
    "libgl1-mesa-dri` (Mesa's llvmpipe renders on the CPU; a GPU's EGL driver works too); "
    "or use backend='embree'"
)
GL_VERSION = 330
"""OpenGL 3.3 core: integer textures and attributes, multiple render targets."""

MAX_VIEWS = 4096
"""Views per framebuffer pass: the capacity of the per-view (instanced) attribute buffer."""
VIEW_BYTES = 64
"""One view's attributes: three rows of the world -> eye transform and the eye (4 x vec4)."""

_lock = threading.Lock()
_shared: dict[int, GLContext] = {}
_unavailable: dict[int, str] = {}


class GLContext:
    """A moderngl context with the scene program compiled and framebuffers kept by size.

    Args:
        threads: rasterizer threads for llvmpipe (``LP_NUM_THREADS``), applied only when
            the variable is unset and this is the process's first context; GPU drivers
            ignore it.

    Raises:
        BackendUnavailableError: moderngl is not installed or no EGL driver answers; the
            message says what to install.
    """

    def __init__(self, threads: int | None = None) -> None:
        try:
            import moderngl
        except ImportError as exc:
            raise BackendUnavailableError(f"{GL_HINT} (moderngl: {exc})") from exc
        if threads is not None and "LP_NUM_THREADS" not in os.environ:
            os.environ["LP_NUM_THREADS"] = str(int(threads))
        try:
            self.ctx = moderngl.create_context(standalone=True, backend="egl", require=GL_VERSION)
        except Exception as exc:  # glcontext raises bare Exceptions for a missing libEGL
            raise BackendUnavailableError(f"{GL_HINT} (EGL: {exc})") from exc
        self.moderngl = moderngl
        self.renderer_name = str(self.ctx.info.get("GL_RENDERER", "unknown"))
        self._programs: dict[tuple[bool, bool], Any] = {}
        self._targets: dict[tuple[int, int, bool], Any] = {}
        self._indirect: Any = None
        self.views = self.ctx.buffer(reserve=MAX_VIEWS * VIEW_BYTES)

    def indirect(self, commands: Any) -> Any:
        """The indirect-draw buffer holding ``commands`` ((R, 5) uint32 rows), grown as needed."""
        import numpy as np

        data = np.ascontiguousarray(commands, dtype=np.uint32).tobytes() or bytes(20)
        if self._indirect is None or self._indirect.size < len(data):
            if self._indirect is not None:
                self._indirect.release()
            self._indirect = self.ctx.buffer(reserve=max(4096, 2 * len(data)))
        self._indirect.write(data)
        return self._indirect

    def program(self, bilinear: bool, cube_face: bool) -> Any:
        """The scene program for a texture filter and a geometry output, compiled once."""
        key = (bool(bilinear), bool(cube_face))
        if key not in self._programs:
            self._programs[key] = self.ctx.program(
                vertex_shader=gl_shaders.vertex_source(key[1]),
                fragment_shader=gl_shaders.fragment_source(*key),
            )
        return self._programs[key]

    def target(self, width: int, height: int, cube_face: bool = False) -> Any:
        """A framebuffer of (colour RGBA8, geometry, instance R32I, depth) textures, the
        geometry R32F (z-depth) for pinhole views and RGBA32F (a plane) for cube faces.

        Kept by size, so a rig rendered every step allocates nothing after the first frame.
        """
        key = (int(width), int(height), bool(cube_face))
        if key not in self._targets:
            ctx, size = self.ctx, key[:2]
            attachments = [
                ctx.texture(size, 4, dtype="f1"),
                ctx.texture(size, 4 if cube_face else 1, dtype="f4"),
                ctx.texture(size, 1, dtype="i4"),
            ]
            fbo = ctx.framebuffer(attachments, ctx.depth_texture(size))
            if len(self._targets) >= 8:  # sizes come from rigs and batch sizes: a handful
                self._targets.pop(next(iter(self._targets))).release()
            self._targets[key] = fbo
        return self._targets[key]

    @property
    def max_size(self) -> int:
        """Largest framebuffer side this driver allows."""
        return int(self.ctx.info["GL_MAX_TEXTURE_SIZE"])


def shared_context(threads: int | None = None) -> GLContext:
    """This process's GL context, created on first use.

    Raises:
        BackendUnavailableError: as ``GLContext``; the failure is remembered, so a process
            without EGL pays for the probe once.
        RuntimeError: the context was made by a parent process before it forked; a
            driver's state does not survive ``fork``, so start workers with ``spawn`` or
            ``forkserver`` (e.g. ``AsyncVectorEnv(..., context="spawn")``) or render
            nothing in the parent first.
    """
    pid = os.getpid()
    with _lock:
        if pid in _unavailable:
            raise BackendUnavailableError(_unavailable[pid])
        if pid not in _shared:
            if _shared:
                raise RuntimeError(
                    "this process was forked from one that already made a GL context, which "
                    "cannot be used or replaced after fork; start worker processes with the "
                    "'spawn' or 'forkserver' method (AsyncVectorEnv(..., context='spawn')), "
                    "or render nothing with backend='gl' in the parent before forking"
                )
            try:
                _shared[pid] = GLContext(threads)
            except BackendUnavailableError as exc:
                _unavailable[pid] = str(exc)
                raise
        return _shared[pid]


_PROBE = (
    "import moderngl\n"
    "ctx = moderngl.create_context(standalone=True, backend='egl', require={version})\n"
    "print(ctx.info['GL_RENDERER'])\n"
)
PROBE_ENV = "ASTRA_SIM_GL_PROBE"
"""Where a process leaves the probe's verdict for its children ("ok" or the reason)."""


def gl_unavailable_reason() -> str | None:
    """Why the ``gl`` backend cannot run here (what to install), or None when it can.

    Answered without making a context in this process (a child process tries), so asking
    leaves the process free to fork; the verdict is kept in ``ASTRA_SIM_GL_PROBE`` for
    this process and the ones it starts.
    """
    pid = os.getpid()
    if pid in _shared:
        return None
    if pid in _unavailable:
        return _unavailable[pid]
    verdict = os.environ.get(PROBE_ENV)
    if verdict is None:
        verdict = _probe()
        os.environ[PROBE_ENV] = verdict
    return None if verdict == "ok" else verdict


def _probe() -> str:
    """ "ok", or what to install, from trying to make a context in a child process."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("moderngl") is None:
        return f"{GL_HINT} (moderngl is not installed)"
    code = _PROBE.format(version=GL_VERSION)
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{GL_HINT} (EGL probe: {exc})"
    if out.returncode == 0:
        return "ok"
    last = (out.stderr.strip().splitlines() or ["no output"])[-1]
    return f"{GL_HINT} (EGL: {last})"
