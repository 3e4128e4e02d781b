"""``backend="auto"``: the faster of ``gl`` and ``embree`` for a scene, by its triangle count.

A rasterizer's frame grows with the triangles it sets up, a ray caster's hardly at all, so
on a CPU (Mesa's llvmpipe) ``gl`` wins on small scenes and loses on large ones. The
crossover was measured with ``astra-sim bench`` on a 2-core x86 machine (docs/rendering.md
has the table): the default 4 x 128^2 pinhole rig, generated scenes subdivided to a range of
triangle counts. Wide-angle cameras cost ``gl`` six cube faces each plus a lookup, so
``auto`` keeps them on Embree; so it does when EGL is missing, so that ``auto`` runs
wherever ``embree`` does.
"""

from __future__ import annotations

from typing import Any

from astra_sim.render.cameras import PinholeCamera

GL_MAX_TRIANGLES = 9_000
"""Scenes with fewer triangles render faster with ``gl`` than with ``embree`` (on llvmpipe)."""


def choose_backend(scene: Any, rig: Any = None) -> str:
    """``"gl"`` or ``"embree"``: the one ``make_renderer(backend="auto")`` builds.

    Args:
        scene: the scene (only its triangle count is read).
        rig: the rig it will render, if known; a wide-angle camera in it picks ``embree``.
    """
    from astra_sim.render.gl_context import gl_unavailable_reason

    if len(scene.faces) >= GL_MAX_TRIANGLES:
        return "embree"
    if rig is not None and not all(isinstance(m.camera, PinholeCamera) for m in rig.mounts):
        return "embree"
    return "embree" if gl_unavailable_reason() is not None else "gl"
