"""Back-face culling of open-bottomed boxes whose opening something else covers.

A carton without a bottom standing on a shelf board shows its inside to no camera: the
board's top face is in the way. ``visible_sides`` lets such cartons be drawn one-sided, and
only where the cover is complete; the render must not change.
"""

from __future__ import annotations

import numpy as np
import pytest

from astra_sim.render import Rig
from astra_sim.render.gl_context import gl_unavailable_reason
from astra_sim.render.winding import BOTH, FRONT, visible_sides
from astra_sim.scenes import Instance, Material, Scene


def _open_box(x0, y0, z0, sx, sy, sz):
    """The five outward-facing quads (o, u, v) of a box without a bottom."""
    return [
        ((x0 + sx, y0, z0), (0, sy, 0), (0, 0, sz)),
        ((x0, y0 + sy, z0), (0, -sy, 0), (0, 0, sz)),
        ((x0 + sx, y0 + sy, z0), (-sx, 0, 0), (0, 0, sz)),
        ((x0, y0, z0), (sx, 0, 0), (0, 0, sz)),
        ((x0, y0, z0 + sz), (sx, 0, 0), (0, sy, 0)),
    ]


def shelf_scene(board: tuple[float, float, float, float]) -> Scene:
    """A floor, a raised open-bottomed board (x0, y0, sx, sy) 0.8-0.9 m up, and a 1 m
    open-bottomed carton standing on it at (0, 0)."""
    bx, by, sx, sy = board
    parts = [
        (1, [((-5, -5, 0), (10, 0, 0), (0, 10, 0))]),
        (2, _open_box(bx, by, 0.8, sx, sy, 0.1)),
        (3, _open_box(0.0, 0.0, 0.9, 1.0, 1.0, 0.5)),
    ]
    return _scene(parts)


def test_a_carton_on_a_board_is_one_sided_only_where_the_board_covers_its_opening():
    covered = shelf_scene((-0.5, -0.5, 2.0, 2.0))
    sides = visible_sides(covered.vertices, covered.faces)
    assert (sides[covered.face_instance == 3] == FRONT).all()
    assert (sides[covered.face_instance == 2] == BOTH).all()  # the board's opening is open
    assert (sides[covered.face_instance == 1] == BOTH).all()
    overhanging = shelf_scene((0.2, -0.5, 2.0, 2.0))  # the carton sticks out over an edge
    sides = visible_sides(overhanging.vertices, overhanging.faces)
    assert (sides[overhanging.face_instance == 3] == BOTH).all()


@pytest.mark.skipif(gl_unavailable_reason() is not None, reason=str(gl_unavailable_reason()))
@pytest.mark.parametrize("board", [(-0.5, -0.5, 2.0, 2.0), (0.2, -0.5, 2.0, 2.0)])
def test_culling_the_carton_changes_no_pixel_from_below_or_above(board):
    from astra_sim.render.cameras import PinholeCamera
    from astra_sim.render.gl_backend import GLRenderer
    from astra_sim.render.rig import CameraMount

    scene = shelf_scene(board)
    one, two = GLRenderer(scene), GLRenderer(scene, cull_back_faces=False)
    for z, pitch in [(0.3, -1.2), (0.5, -0.6), (2.0, 0.9)]:
        rig = Rig((CameraMount(PinholeCamera(64, 64, 90.0), xyz=(0, 0, z), pitch=pitch),))
        for pose in [(0.5, 0.5, 0.0), (-1.0, 0.4, 0.3), (2.5, 2.0, 3.6)]:
            a, b = one.render(rig, pose), two.render(rig, pose)
            assert np.array_equal(a.semantic, b.semantic)
            assert np.array_equal(a.depth, b.depth)
    one.close()
    two.close()


def _scene(parts: list[tuple[int, list]]) -> Scene:
    verts, tris, inst = [], [], []
    for instance, quads in parts:
        for o, u, v in quads:
            o, u, v = (np.array(a, float) for a in (o, u, v))
            k = len(verts)
            verts += [o, o + u, o + u + v, o + v]
            tris += [[k, k + 1, k + 2], [k, k + 2, k + 3]]
            inst += [instance, instance]
    return Scene(
        vertices=np.array(verts, np.float32),
        faces=np.array(tris),
        uv=np.zeros((len(verts), 2), np.float32),
        face_instance=np.array(inst),
        face_material=np.zeros(len(tris), int),
        instances=[Instance(i, name) for i, name in enumerate(["void", "floor", "a", "b"])],
        rooms=[],
        materials=[Material(0, "m", "paint", "grey", 1.0, np.full((4, 4, 3), 90, np.uint8))],
    )


def test_boxes_touching_along_an_edge_are_judged_one_by_one():
    floor = (1, [((-5, -5, 0), (10, 0, 0), (0, 10, 0))])
    # Corner to corner: the vertical edge at (1, 1) belongs to four faces.
    scene = _scene([floor, (2, _open_box(0, 0, 0, 1, 1, 1)), (3, _open_box(1, 1, 0, 1, 1, 1))])
    sides = visible_sides(scene.vertices, scene.faces)
    assert (sides[scene.face_instance >= 2] == FRONT).all()
    if gl_unavailable_reason() is None:
        _culled_renders_like_two_sided(
            scene, [(-2.0, 0.5, 0.0), (1.0, -2.0, 1.57), (3.0, 3.0, -2.36)]
        )


def test_boxes_of_two_objects_touching_face_to_face_are_one_sided_and_render_the_same():
    floor = (1, [((-5, -5, 0), (10, 0, 0), (0, 10, 0))])
    # Neighbouring rack bays' uprights: the face at x = 1 is both boxes', so each edge of
    # it belongs to four faces.
    apart = _scene([floor, (2, _open_box(0, 0, 0, 1, 1, 2)), (3, _open_box(1, 0, 0, 1, 1, 2))])
    sides = visible_sides(apart.vertices, apart.faces, apart.face_instance)
    assert (sides[apart.face_instance >= 2] == FRONT).all()
    # Welded across objects (no groups) the shared face's edges spoil both boxes.
    assert (visible_sides(apart.vertices, apart.faces)[apart.face_instance >= 2] == BOTH).all()
    # One object: its two boxes are welded together, and judged (conservatively) two-sided.
    one_object = _scene([floor, (2, _open_box(0, 0, 0, 1, 1, 2) + _open_box(1, 0, 0, 1, 1, 2))])
    sides = visible_sides(one_object.vertices, one_object.faces, one_object.face_instance)
    assert (sides[one_object.face_instance == 2] == BOTH).all()
    with pytest.raises(ValueError, match="groups"):
        visible_sides(apart.vertices, apart.faces, apart.face_instance[:-1])
    if gl_unavailable_reason() is None:
        poses = [(-2.0, 0.5, 0.0), (1.0, -2.0, 1.57), (3.5, 2.5, -2.36), (1.0, 3.0, -1.57)]
        _culled_renders_like_two_sided(apart, poses)


def _culled_renders_like_two_sided(scene: Scene, poses: list[tuple[float, float, float]]):
    """Asserts that a 64 x 64 camera 0.5 m up sees the boxes (instances >= 2) from each pose,
    with the same ids and depths whether back faces are culled or not."""
    from astra_sim.render.cameras import PinholeCamera
    from astra_sim.render.gl_backend import GLRenderer
    from astra_sim.render.rig import CameraMount

    one, two = GLRenderer(scene), GLRenderer(scene, cull_back_faces=False)
    rig = Rig((CameraMount(PinholeCamera(64, 64, 90.0), xyz=(0, 0, 0.5)),))
    for pose in poses:
        a, b = one.render(rig, pose), two.render(rig, pose)
        assert (a.semantic >= 2).any()
        assert np.array_equal(a.semantic, b.semantic) and np.array_equal(a.depth, b.depth)
    one.close()
    two.close()
