"""The ``gl`` render backend: rasterizing with OpenGL (moderngl, headless EGL).

Rasterizing is how habitat-sim and other fast simulators render: a frame costs its visible
triangles and pixels, not one ray traversal per pixel, so on small scenes it is several
times faster than ray casting, on Mesa's llvmpipe (a CPU) as on a GPU. On large scenes a
ray caster wins again on a CPU (``render.auto`` holds the measured crossover).

What it renders matches ``EmbreeRenderer``: pinhole depth is z-depth and wide-angle depth is
the range along the ray, both in metres, 0 on a miss; instance ids are the scene's rows;
colour is the same texture and light arithmetic (``gl_shaders``). Pinhole cameras are one
view each; fisheye and equirectangular cameras render the faces of a cube map and look
their rays up in it (``render.cubemap``).

All views of a call (every camera of every rig passed to ``render_jobs``, on any scenes of
this process) of one size are horizontal strips of one framebuffer, drawn by one
multi-draw call per scene and read back once: N envs' rigs cost one round trip to the
rasterizer, and Python's cost per frame stays flat in the number of cameras.

Measured on 2-core llvmpipe (default rig, 4 x 128 x 128): a warehouse frame (10k triangles
handed over after frustum and facing culling) is about a third main-thread work (vertex shading,
clipping, triangle setup and binning, 0.5 ms of it for vertices alone; Python 0.4 ms) and
two thirds rasterizer threads, which scale with pixels times depth complexity (300k
fragments for 65k pixels, 86k of them shaded). Tried and slower: one viewport per view
instead of strips (separate or as a viewport array; 1.2-1.5x), flushing mid-frame so that
binning overlaps rasterizing (1.0-1.15x), one render target packing everything (1.05-1.2x),
drawing clusters unordered to merge commands (1.15-1.25x); no better: finer or coarser
clusters, depth and range from ``gl_FragCoord`` instead of a varying, other texel formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from astra_sim.core.errors import BackendUnavailableError
from astra_sim.render.cubemap import plane_depth
from astra_sim.render.gl_context import MAX_VIEWS, gl_unavailable_reason, shared_context
from astra_sim.render.gl_scene import GLSceneBuffers
from astra_sim.render.gl_views import FAR, NEAR, RigViews, ViewKey, place, projection, rig_views
from astra_sim.render.protocol import ClosableRenderer, Frame, check_flag
from astra_sim.render.rig import Rig
from astra_sim.render.shading import Shading
from astra_sim.scenes.model import Scene

__all__ = ["FAR", "NEAR", "GLRenderer", "render_jobs"]
_GL_CLIP_DISTANCE0 = 0x3000


class GLRenderer(ClosableRenderer):
    """Renders a ``Scene`` for camera rigs by rasterizing with OpenGL on headless EGL.

    Args:
        scene: the scene; its geometry and textures are uploaded at the first render (later
            edits to the scene do not show).
        threads: llvmpipe rasterizer threads (0: rasterize in the calling thread), used
            when this is the process's first GL context and ``LP_NUM_THREADS`` is unset;
            GPU drivers ignore it.
        shading: texture filtering and lighting settings, as for ``EmbreeRenderer``.
        cube_size: cube-map face side in pixels for fisheye and equirectangular cameras;
            None picks 1.5 x the camera's own angular sampling (``cubemap``).
        cull: skip clusters of triangles outside each view's frustum (identical images,
            fewer triangles to set up); off only to measure what it saves.
        cull_back_faces: draw the triangles of closed solids one-sided (``render.winding``);
            False draws every triangle from both sides, for meshes where a camera may sit
            inside a closed, outward-wound shell.

    Raises:
        BackendUnavailableError: moderngl or an EGL driver is missing (says what to install).
    """

    def __init__(
        self,
        scene: Scene,
        threads: int = 2,
        shading: Shading | None = None,
        cube_size: int | None = None,
        cull: bool = True,
        cull_back_faces: bool = True,
    ) -> None:
        if not isinstance(scene, Scene):
            raise ValueError(f"scene must be a Scene, got {type(scene).__name__}")
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
            raise ValueError(f"threads must be a non-negative integer, got {threads!r}")
        self.shading = shading if shading is not None else Shading()
        if not isinstance(self.shading, Shading):
            raise ValueError(f"shading must be a Shading, got {type(self.shading).__name__}")
        bad_size = isinstance(cube_size, bool) or not isinstance(cube_size, (int, type(None)))
        if bad_size or (cube_size is not None and cube_size < 1):
            raise ValueError(f"cube_size must be a positive integer or None, got {cube_size!r}")
        self.cube_size = cube_size
        self.cull = check_flag(cull, "cull")
        self._one_sided = check_flag(cull_back_faces, "cull_back_faces")
        reason = gl_unavailable_reason()
        if reason is not None:
            raise BackendUnavailableError(reason)
        self.threads = int(threads)
        self._scene: Scene | None = scene
        self._buffers: GLSceneBuffers | None = None
        self._images: list[np.ndarray] | None = None  # set_appearance's, until uploaded
        self._rigs: dict[int, tuple[Rig, RigViews]] = {}
        self._closed = False

    @property
    def gl(self) -> Any:
        """The process's GL context, made at the first render (see ``buffers``)."""
        return shared_context(self.threads)

    @property
    def buffers(self) -> GLSceneBuffers:
        """The scene on the GL side, uploaded at the first render: a renderer that never
        renders (an env built only to read its spaces, as ``AsyncVectorEnv`` does in its
        parent process) leaves the process without a context, free to fork."""
        if self._buffers is None:
            self._check_open()
            self._buffers = GLSceneBuffers(
                self.gl, self._scene, self.shading, self._one_sided, self._images
            )
            self._scene = None
        return self._buffers

    def set_appearance(self, images: list[np.ndarray], shading: Shading) -> None:
        """Re-colour the scene: one new image per material and new lighting, same geometry
        (``EmbreeRenderer.set_appearance``'s contract, for domain randomization)."""
        self._check_open()
        if not isinstance(shading, Shading):
            raise ValueError(f"shading must be a Shading, got {type(shading).__name__}")
        self.shading, self._images = shading, list(images)
        if self._buffers is not None:
            self._buffers.set_appearance(self._images, shading)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Free the scene's GL buffers; further calls raise RuntimeError."""
        if not self._closed:
            if self._buffers is not None:
                self._buffers.release()
            self._scene = None
            self._closed = True

    # ------------------------------------------------------------------ frames
    def render(
        self,
        rig: Rig,
        pose: Any,
        rgb: bool = True,
        depth: bool = True,
        semantic: bool = True,
    ) -> Frame:
        """Render all cameras of ``rig`` for the base pose (x, y, yaw); see ``Frame``."""
        return render_jobs([(self, rig, pose)], rgb=rgb, depth=depth, semantic=semantic)[0]

    def render_many(
        self, rig: Rig, poses: Sequence[Any], rgb: bool = True, depth: bool = True,
        semantic: bool = True,
    ) -> list[Frame]:  # fmt: skip
        """One ``Frame`` per pose, all rasterized in one pass and read back once."""
        jobs = [(self, rig, p) for p in poses]
        return render_jobs(jobs, rgb=rgb, depth=depth, semantic=semantic)

    def rig_views(self, rig: Rig) -> RigViews:
        """The pose-independent views of ``rig`` (kept for the last few rigs)."""
        entry = self._rigs.get(id(rig))
        if entry is not None and entry[0] is rig:
            return entry[1]
        views = rig_views(rig, self.cube_size)
        if len(self._rigs) >= 8:
            self._rigs.pop(next(iter(self._rigs)))
        self._rigs[id(rig)] = (rig, views)
        return views


def _rotate_z(vectors: np.ndarray, c: float, s: float) -> np.ndarray:
    """Vectors (..., 3) turned about z by the angle with cosine c and sine s."""
    out = vectors.copy()
    out[..., 0] = c * vectors[..., 0] - s * vectors[..., 1]
    out[..., 1] = s * vectors[..., 0] + c * vectors[..., 1]
    return out


def render_jobs(
    jobs: Sequence[tuple[GLRenderer, Rig, Any]],
    rgb: bool = True,
    depth: bool = True,
    semantic: bool = True,
) -> list[Frame]:
    """Render (renderer, rig, pose) jobs of this process's GL renderers, one ``Frame`` per
    job in order: one framebuffer pass per view size, one draw call per scene in it."""
    want = (check_flag(rgb, "rgb"), check_flag(depth, "depth"), check_flag(semantic, "semantic"))
    for renderer, rig, _ in jobs:
        if not isinstance(renderer, GLRenderer):
            raise ValueError(f"render_jobs takes GLRenderers, got {type(renderer).__name__}")
        renderer._check_open()
        if not isinstance(rig, Rig):
            raise ValueError(f"rig must be a Rig, got {type(rig).__name__}")
    if not any(want):
        return [Frame() for _ in jobs]
    # Place every view: its attributes and frustum per pose, and a slot in its size group.
    groups: dict[ViewKey, list[tuple[Any, ...]]] = {}
    placed = []
    for renderer, rig, pose in jobs:
        views = renderer.rig_views(rig)
        *block, c, s = place(views, pose)
        slots = []
        for i, key in enumerate(views.keys):
            group = groups.setdefault(key, [])
            slots.append((key, len(group)))
            group.append((renderer, block, i))
        placed.append((views, slots, c, s))
    images = {key: _rasterize(key, members, want) for key, members in groups.items()}
    return [
        _assemble(rig, views, slots, c, s, images, want)
        for (_, rig, _), (views, slots, c, s) in zip(jobs, placed, strict=True)
    ]


def _set_uniforms(program: Any, values: dict[str, Any]) -> None:
    """Set the uniforms that changed since this program's last draw (kept in its
    ``extra``): most calls change none."""
    if program.extra is None:
        program.extra = {}
    last = program.extra
    for name, value in values.items():
        if last.get(name) != value and program.get(name, None) is not None:
            program[name].value = value
            last[name] = value


def _gather(chunk: list[tuple[Any, ...]]) -> list[np.ndarray]:
    """The per-view arrays (attributes, planes, eyes) of a chunk's members, as slices of
    their jobs' arrays where consecutive (one job's rig is one slice), copied."""
    pieces: list[list[Any]] = []
    for _, block, i in chunk:
        last = pieces[-1] if pieces else None
        if last is not None and last[0] is block and last[2] == i:
            last[2] = i + 1
        else:
            pieces.append([block, i, i + 1])
    return [np.concatenate([b[k][lo:hi] for b, lo, hi in pieces]) for k in range(3)]


def _rasterize(
    key: ViewKey,
    members: list[tuple[Any, ...]],
    want: tuple[bool, ...],
) -> dict[str, np.ndarray]:
    """Draw same-sized views as strips of one framebuffer (several passes past the driver's
    size limit) and read back the images asked for, (n, H, W, ...) each."""
    w, h, focal, mode, cx, cy = key
    gl = members[0][0].gl
    ctx = gl.ctx
    n = len(members)
    wide = mode == 1
    read = {"colour": want[0] or wide, "geometry": want[1], "instance": want[2]}
    shapes = {
        "colour": ((n, h, w, 4 if wide else 3), np.uint8, 4 if wide else 3, 0, "f1"),
        "geometry": ((n, h, w, 4) if wide else (n, h, w), np.float32, 4 if wide else 1, 1, "f4"),
        "instance": ((n, h, w), np.int32, 1, 2, "i4"),
    }
    out = {name: np.empty(shapes[name][0], shapes[name][1]) for name, on in read.items() if on}
    uniforms = {
        "u_proj": projection(focal, w, h),
        "u_offset": (2 * cx / w, 2 * cy / h),
    }
    per_pass = max(1, min(MAX_VIEWS, gl.max_size // h))
    for start in range(0, n, per_pass):
        chunk = members[start : start + per_pass]
        attributes, planes, eyes = _gather(chunk)
        attributes[:, 15] = np.arange(len(chunk))
        gl.views.write(attributes)
        # Consecutive views of one scene share a draw call per cluster set.
        runs, commands, total = [], [], 0
        i = 0
        while i < len(chunk):
            r = chunk[i][0]
            j = i
            while j < len(chunk) and chunk[j][0] is r:
                j += 1
            cmds, sets = r.buffers.clusters.commands(planes[i:j], eyes[i:j], i, r.cull)
            runs.extend((r, cull, total + first, count) for cull, first, count in sets)
            commands.append(cmds)
            total += len(cmds)
            i = j
        fbo = gl.target(w, len(chunk) * h, wide)
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        if runs:
            indirect = gl.indirect(np.concatenate(commands))
            ctx.enable(gl.moderngl.DEPTH_TEST)
            ctx.depth_func = "<"
            # Front faces turn clockwise on screen: the projection flips y.
            ctx.front_face = "cw"
            ctx.cull_face = "back"
            ctx.enable_direct(_GL_CLIP_DISTANCE0)
            ctx.enable_direct(_GL_CLIP_DISTANCE0 + 1)
            for r, cull, first, count in runs:
                if cull:
                    ctx.enable(gl.moderngl.CULL_FACE)
                else:
                    ctx.disable(gl.moderngl.CULL_FACE)
                prog = gl.program(r.shading.filtering == "bilinear", wide)
                uniforms["u_strips"] = float(len(chunk))
                uniforms["u_attenuation"] = float(r.shading.attenuation)
                _set_uniforms(prog, uniforms)
                r.buffers.bind(prog)
                r.buffers.vao(prog).render_indirect(indirect, count=count, first=first)
            ctx.disable(gl.moderngl.CULL_FACE)
            ctx.disable_direct(_GL_CLIP_DISTANCE0)
            ctx.disable_direct(_GL_CLIP_DISTANCE0 + 1)
        rows = (0, 0, w, len(chunk) * h)
        for name, array in out.items():
            _, _, comps, attachment, dtype = shapes[name]
            target = array[start : start + len(chunk)]
            fbo.read_into(target, rows, comps, attachment, 1, dtype=dtype)
    return out


def _assemble(
    rig: Rig,
    views: RigViews,
    slots: list[tuple[ViewKey, int]],
    c: float,
    s: float,
    images: dict[ViewKey, dict[str, np.ndarray]],
    want: tuple[bool, ...],
) -> Frame:
    """One rig's ``Frame`` from the read-back strips: slices of them for pinhole cameras
    (no copy when the rig's views are consecutive in one strip), lookups for the others."""
    names = ("colour", "geometry", "instance")
    key, first = slots[0]
    count = len(slots)
    if (
        key[3] == 0
        and count == len(rig.mounts)
        and slots == [(key, first + i) for i in range(count)]
    ):
        block = images[key]
        parts = [
            block[k][first : first + count] if on else None
            for k, on in zip(names, want, strict=True)
        ]
        return Frame(rgb=parts[0], depth=parts[1], semantic=parts[2])
    cams, h, w = rig.shape
    rgb = np.zeros((cams, h, w, 3), np.uint8) if want[0] else None
    depth = np.zeros((cams, h, w), np.float32) if want[1] else None
    sem = np.zeros((cams, h, w), np.int32) if want[2] else None
    for i, (mount, (span, lookup)) in enumerate(zip(rig.mounts, views.mounts, strict=True)):
        key, index = slots[span.start]
        block = images[key]
        if lookup is None:
            for name, target in zip(names, (rgb, depth, sem), strict=True):
                if target is not None:
                    target[i] = block[name][index]
            continue
        cube, rays, texel_rays = lookup
        faces = slice(index, index + len(cube.faces))
        colour = block["colour"][faces].reshape(-1, 4).take(cube.index, axis=0)
        hit = colour[:, 3] > 0
        valid = mount.camera.valid
        if rgb is not None:
            rgb[i][valid] = colour[:, :3]
        if depth is not None:
            plane = block["geometry"][faces].reshape(-1, 4).take(cube.index, axis=0)
            t = plane_depth(plane, _rotate_z(rays, c, s), _rotate_z(texel_rays, c, s))
            depth[i][valid] = np.where(hit, t, np.float32(0))
        if sem is not None:
            ids = block["instance"][faces].reshape(-1).take(cube.index)
            sem[i][valid] = np.where(hit, ids, 0)
    return Frame(rgb=rgb, depth=depth, semantic=sem)
