"""What the ``gl`` backend needs, what ``auto`` picks, and which faces may be culled.

These run everywhere, EGL or not: the missing-driver error is provoked in a child process
by pointing glcontext at a library that does not exist.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import cached_scene

from astra_sim.render import Rig
from astra_sim.render.auto import GL_MAX_TRIANGLES, choose_backend
from astra_sim.render.gl_context import gl_unavailable_reason
from astra_sim.render.winding import BOTH, FRONT, visible_sides
from astra_sim.scenes import Instance, Material, Scene


def test_missing_egl_says_what_to_install():
    code = (
        "from astra_sim.core.errors import BackendUnavailableError\n"
        "from astra_sim.render import Rig, make_renderer\n"
        "from astra_sim.scenes import generate_scene\n"
        "try:\n"
        "    r = make_renderer(generate_scene('home', 0), backend='gl')\n"
        "    r.render(Rig.from_name('default'), (1.0, 1.0, 0.0))\n"
        "except BackendUnavailableError as e:\n"
        "    assert isinstance(e, ImportError)\n"
        "    print('ERROR', e)\n"
    )
    env = dict(os.environ, GLCONTEXT_LINUX_LIBEGL="/nonexistent/libEGL.so.1")
    env.pop("ASTRA_SIM_GL_PROBE", None)  # this process's verdict was for its own EGL
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
        check=True,
    )  # fmt: skip
    assert "ERROR" in out.stdout, out.stderr
    assert "apt-get install libegl1 libgl1 libgl1-mesa-dri" in out.stdout
    assert "backend='embree'" in out.stdout


def box_scene(z0: float = 0.0, faces: str = "sides_top", flip: bool = False) -> Scene:
    """A 1 m box standing at height z0 on a floor quad at z = 0 (the scene's lowest point)."""
    quads = [
        ((-5, -5, 0), (10, 0, 0), (0, 10, 0)),  # floor, facing up
    ]
    box = {
        "+x": ((1, 0, z0), (0, 1, 0), (0, 0, 1)),
        "-x": ((0, 1, z0), (0, -1, 0), (0, 0, 1)),
        "+y": ((1, 1, z0), (-1, 0, 0), (0, 0, 1)),
        "-y": ((0, 0, z0), (1, 0, 0), (0, 0, 1)),
        "top": ((0, 0, z0 + 1), (1, 0, 0), (0, 1, 0)),
        "bottom": ((0, 1, z0), (1, 0, 0), (0, -1, 0)),
    }
    names = ["+x", "-x", "+y", "-y", "top"] + (["bottom"] if faces == "closed" else [])
    quads += [box[n] for n in names]
    verts, tris = [], []
    for i, (o, u, v) in enumerate(quads):
        o, u, v = (np.array(a, float) for a in (o, u, v))
        if flip and i > 0:
            u, v = v, u
        verts += [o, o + u, o + u + v, o + v]
        tris += [[4 * i, 4 * i + 1, 4 * i + 2], [4 * i, 4 * i + 2, 4 * i + 3]]
    n = len(tris)
    return Scene(
        vertices=np.array(verts, np.float32),
        faces=np.array(tris),
        uv=np.zeros((len(verts), 2), np.float32),
        face_instance=np.r_[[1, 1], np.full(n - 2, 2)],
        face_material=np.zeros(n, int),
        instances=[Instance(0, "void"), Instance(1, "floor"), Instance(2, "crate")],
        rooms=[],
        materials=[Material(0, "m", "paint", "grey", 1.0, np.full((4, 4, 3), 90, np.uint8))],
    )


def test_closed_and_floor_standing_boxes_are_one_sided_open_ones_not():
    standing = visible_sides(box_scene().vertices, box_scene().faces)
    assert (standing[:2] == BOTH).all()  # the floor is an open quad
    assert (standing[2:] == FRONT).all()  # the box's open rim lies on the floor
    raised = box_scene(z0=1.0)
    assert (visible_sides(raised.vertices, raised.faces)[2:] == BOTH).all()  # seen inside
    closed = box_scene(z0=1.0, faces="closed")
    assert (visible_sides(closed.vertices, closed.faces)[2:] == FRONT).all()
    inside_out = box_scene(flip=True)
    assert (visible_sides(inside_out.vertices, inside_out.faces)[2:] == BOTH).all()


def test_auto_keeps_large_scenes_and_wide_cameras_on_embree():
    rng = np.random.default_rng(0)
    n = GL_MAX_TRIANGLES
    big = Scene(
        vertices=rng.uniform(0, 10, (3 * n, 3)).astype(np.float32),
        faces=np.arange(3 * n).reshape(n, 3),
        uv=np.zeros((3 * n, 2), np.float32),
        face_instance=np.zeros(n, int),
        face_material=np.zeros(n, int),
        instances=[Instance(0, "void")],
        rooms=[],
        materials=[Material(0, "m", "paint", "grey", 1.0, np.full((4, 4, 3), 90, np.uint8))],
    )
    assert choose_backend(big, Rig.from_name("default")) == "embree"
    small = cached_scene("home", 0)
    assert choose_backend(small, Rig.from_name("astra3")) == "embree"
    expected = "gl" if gl_unavailable_reason() is None else "embree"
    assert choose_backend(small, Rig.from_name("default")) == expected


@pytest.mark.skipif(gl_unavailable_reason() is not None, reason=str(gl_unavailable_reason()))
def test_culling_back_faces_changes_no_pixel_of_a_raised_open_box():
    """From below, a raised open box shows its inside: drawn two-sided it must still show."""
    from astra_sim.render.cameras import PinholeCamera
    from astra_sim.render.gl_backend import GLRenderer
    from astra_sim.render.rig import CameraMount

    rig = Rig((CameraMount(PinholeCamera(64, 64, 90.0), xyz=(0, 0, 0.5), pitch=-1.2),))
    scene = box_scene(z0=1.0)
    one, two = GLRenderer(scene), GLRenderer(scene, cull_back_faces=False)
    a, b = one.render(rig, (0.5, 0.5, 0.0)), two.render(rig, (0.5, 0.5, 0.0))
    assert (a.semantic == 2).mean() > 0.5  # looking up into the crate
    assert np.array_equal(a.semantic, b.semantic) and np.array_equal(a.depth, b.depth)
    one.close()
    two.close()
