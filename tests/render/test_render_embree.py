"""The Embree renderer against a hand-made box room whose every pixel has a closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import cached_scene

from astra_sim.render import (
    CameraMount,
    EmbreeRenderer,
    EquirectangularCamera,
    FisheyeCamera,
    PinholeCamera,
    Rig,
    Shading,
)
from astra_sim.scenes import Instance, Material, Scene

LO = np.array([-2.0, -1.5, 0.0])
HI = np.array([3.0, 2.5, 2.5])
FLOOR, CEILING, FRONT, BACK, LEFT, RIGHT = 1, 2, 3, 4, 5, 6  # FRONT is the +x wall
RED, GREEN, BLUE, WHITE = (200, 0, 0), (0, 200, 0), (0, 0, 200), (250, 250, 250)
FLAT = Shading(ambient=1.0, diffuse=0.0, attenuation=0.0)


def box_room() -> Scene:
    """Floor, ceiling and four walls of the box LO..HI, each its own instance.

    The +x wall carries a 2x2 quadrant texture (red top-left, green top-right, blue
    bottom-left, white bottom-right, as seen from inside) mapped once over the wall; the
    others a small random texture tiled per metre.
    """
    (x0, y0, z0), (x1, y1, z1) = LO, HI
    # (instance, corner, edge u, edge v): u runs to the viewer's right, v up.
    quads = [
        (FLOOR, (x0, y1, z0), (x1 - x0, 0, 0), (0, y0 - y1, 0)),
        (CEILING, (x0, y0, z1), (x1 - x0, 0, 0), (0, y1 - y0, 0)),
        (FRONT, (x1, y1, z0), (0, y0 - y1, 0), (0, 0, z1 - z0)),
        (BACK, (x0, y0, z0), (0, y1 - y0, 0), (0, 0, z1 - z0)),
        (LEFT, (x0, y1, z0), (x1 - x0, 0, 0), (0, 0, z1 - z0)),
        (RIGHT, (x1, y0, z0), (x0 - x1, 0, 0), (0, 0, z1 - z0)),
    ]
    unit = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    verts, uvs, faces, inst, mat = [], [], [], [], []
    for q, (iid, corner, eu, ev) in enumerate(quads):
        corner, eu, ev = (np.asarray(a, dtype=np.float64) for a in (corner, eu, ev))
        verts.append(corner + unit[:, :1] * eu + unit[:, 1:] * ev)
        scale = [1.0, 1.0] if iid == FRONT else [np.linalg.norm(eu), np.linalg.norm(ev)]
        uvs.append(unit * scale)
        faces += [[4 * q, 4 * q + 1, 4 * q + 2], [4 * q, 4 * q + 2, 4 * q + 3]]
        inst += [iid, iid]
        mat += [1 if iid == FRONT else 0] * 2
    quadrants = np.array([[RED, GREEN], [BLUE, WHITE]], dtype=np.uint8)
    rng = np.random.default_rng(0)
    materials = [
        Material(0, "noise", "paint", "grey", 1.0, rng.integers(60, 200, (8, 8, 3), np.uint8)),
        Material(1, "quadrants", "paint", "white", 1.0, quadrants.repeat(4, 0).repeat(4, 1)),
    ]
    names = ["void", "floor", "ceiling", "front", "back", "left", "right"]
    return Scene(
        vertices=np.concatenate(verts),
        faces=np.array(faces),
        uv=np.concatenate(uvs),
        face_instance=np.array(inst),
        face_material=np.array(mat),
        instances=[Instance(i, n) for i, n in enumerate(names)],
        rooms=[],
        materials=materials,
    )


@pytest.fixture(scope="module")
def room() -> EmbreeRenderer:
    renderer = EmbreeRenderer(box_room(), shading=FLAT)
    yield renderer
    renderer.close()


def analytic_hits(origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Distance to the box's inside and which wall, for rays (..., 3) from inside the box.

    Also whether the nearest wall wins by a clear margin (so the id is unambiguous).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(dirs > 0, (HI - origin) / dirs, (LO - origin) / dirs)
        t = np.where(dirs == 0, np.inf, t)
        order = np.sort(t, axis=-1)
        clear = order[..., 1] - order[..., 0] > 1e-3
    axis = np.argmin(t, axis=-1)
    positive = np.take_along_axis(dirs, axis[..., None], -1)[..., 0] > 0
    ids = np.choose(axis, [np.where(positive, FRONT, BACK), np.where(positive, LEFT, RIGHT),
                           np.where(positive, CEILING, FLOOR)])  # fmt: skip
    return order[..., 0], ids, clear


def pinhole_dirs(w: int, h: int, hfov_deg: float) -> np.ndarray:
    """Camera-frame unit rays of a pinhole, written out independently of the package."""
    f = (w / 2) / math.tan(math.radians(hfov_deg) / 2)
    xs, ys = np.meshgrid(np.arange(w) + 0.5 - w / 2, np.arange(h) + 0.5 - h / 2)
    d = np.stack([np.full_like(xs, f), -xs, -ys], axis=-1)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def to_world(d: np.ndarray, yaw: float, pitch: float) -> np.ndarray:
    cp, sp, cy, sy = math.cos(pitch), math.sin(pitch), math.cos(yaw), math.sin(yaw)
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return d @ (rz @ ry).T


def one_camera(cam, height: float = 1.25, yaw: float = 0.0, pitch: float = 0.0) -> Rig:
    return Rig([CameraMount(cam, xyz=(0.0, 0.0, height), yaw=yaw, pitch=pitch)])


def test_centre_depth_is_the_distance_to_the_facing_wall(room):
    frame = room.render(one_camera(PinholeCamera(65, 49, 90.0)), (0.5, 0.5, 0.0))
    assert frame.depth.shape == frame.semantic.shape == (1, 49, 65)
    assert frame.rgb.shape == (1, 49, 65, 3)
    assert frame.depth[0, 24, 32] == pytest.approx(HI[0] - 0.5, abs=1e-3)
    assert frame.semantic[0, 24, 32] == FRONT
    # z-depth is constant over a wall facing the camera, off-centre pixels included.
    on_wall = frame.semantic[0] == FRONT
    assert on_wall.sum() > 1000
    np.testing.assert_allclose(frame.depth[0][on_wall], HI[0] - 0.5, atol=1e-3)


@pytest.mark.parametrize(("yaw", "pitch"), [(0.3, 0.0), (2.5, -0.2), (-1.2, 0.4)])
def test_every_pixel_matches_the_analytic_z_depth_and_wall(room, yaw, pitch):
    w, h, hfov = 48, 36, 100.0
    pose = (0.7, -0.3, yaw - 0.1)
    frame = room.render(one_camera(PinholeCamera(w, h, hfov), 1.1, 0.1, pitch), pose)
    cam_dirs = pinhole_dirs(w, h, hfov)
    world = to_world(cam_dirs, yaw, pitch)
    t, ids, clear = analytic_hits(np.array([0.7, -0.3, 1.1]), world)
    np.testing.assert_allclose(frame.depth[0], t * cam_dirs[..., 0], atol=1e-3)
    np.testing.assert_array_equal(frame.semantic[0][clear], ids[clear])
    assert len(np.unique(ids)) >= 2


def test_looking_down_sees_the_floor_at_the_right_range(room):
    pitch = 0.6
    frame = room.render(one_camera(PinholeCamera(33, 33, 60.0), pitch=pitch), (0.5, 0.5, 0.0))
    assert frame.semantic[0, 16, 16] == FLOOR
    assert frame.depth[0, 16, 16] == pytest.approx(1.25 / math.sin(pitch), abs=1e-3)


def test_texture_is_upright_and_not_mirrored(room):
    # The +x wall's centre is straight ahead; its quadrant texture must appear as drawn.
    frame = room.render(one_camera(PinholeCamera(64, 64, 90.0)), (0.5, 0.5, 0.0))
    rgb, sem = frame.rgb[0], frame.semantic[0]
    assert sem[20, 20] == sem[44, 44] == FRONT
    assert tuple(rgb[20, 20]) == RED  # top-left
    assert tuple(rgb[20, 44]) == GREEN  # top-right
    assert tuple(rgb[44, 20]) == BLUE  # bottom-left
    assert tuple(rgb[44, 44]) == WHITE  # bottom-right


def test_lighting_tells_surfaces_apart_and_stays_in_range():
    scene = box_room()
    with EmbreeRenderer(scene, shading=Shading(filtering="bilinear")) as lit:
        frame = lit.render(Rig.from_name("default"), (0.0, 0.0, 0.2))
    means = {i: frame.rgb[frame.semantic == i].mean() for i in (FLOOR, LEFT, BACK)}
    assert len({round(m) for m in means.values()}) == 3
    assert frame.rgb[frame.semantic > 0].astype(int).sum(axis=-1).min() > 0  # no black hits


def test_equirectangular_depth_is_continuous_across_the_seam(room):
    rig = one_camera(EquirectangularCamera(256, 128))
    frame = room.render(rig, (0.7, -0.4, 0.2))
    d = frame.depth[0].astype(np.float64)
    assert np.all(d > 0)
    seam = np.abs(d[:, 0] - d[:, -1]).mean()
    neighbours = np.abs(np.diff(d, axis=1)).mean(axis=0)
    distant = np.abs(d - np.roll(d, 128, axis=1)).mean(axis=0)
    assert seam <= 3 * np.percentile(neighbours, 90)
    assert seam < 0.1 * np.median(distant)
    # Equirectangular depth is range: the straight-up row sees the ceiling 1.25 m above.
    assert d[0].mean() == pytest.approx(1.25, abs=2e-3)


def test_fisheye_depth_is_range_and_outside_pixels_are_empty(room):
    cam = FisheyeCamera(96, 96, fov_deg=190.0, model="kannala_brandt", k=(0.0, 0.02, 0, 0))
    rig = one_camera(cam, yaw=0.4)
    frame = room.render(rig, (0.5, 0.5, 0.0))
    valid = cam.valid
    assert np.all(frame.depth[0][~valid] == 0) and np.all(frame.semantic[0][~valid] == 0)
    assert np.all(frame.rgb[0][~valid] == 0)
    t, ids, clear = analytic_hits(
        np.array([0.5, 0.5, 1.25]), to_world(cam.ray_directions(), 0.4, 0)
    )
    np.testing.assert_allclose(frame.depth[0][valid], t[valid], atol=1e-3)
    np.testing.assert_array_equal(frame.semantic[0][valid & clear], ids[valid & clear])


def test_cast_reports_misses_and_barycentrics(room):
    origins = np.array([[0.5, 0.5, 1.25], [10.0, 0.0, 1.0]], dtype=np.float32)
    dirs = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=np.float32)
    prim, t, u, v = room.cast(origins, dirs)
    assert prim[1] == -1 and np.isinf(t[1])
    assert t[0] == pytest.approx(2.5, abs=1e-5)
    scene = box_room()
    p = scene.vertices[scene.faces[prim[0]]].astype(np.float64)
    hit = (1 - u[0] - v[0]) * p[0] + u[0] * p[1] + v[0] * p[2]
    np.testing.assert_allclose(hit, [3.0, 0.5, 1.25], atol=1e-4)
    with pytest.raises(ValueError, match="origins and directions"):
        room.cast(origins, dirs[:1])


def test_renders_are_deterministic_and_independent_of_threads():
    scene = cached_scene("home", 0)
    rig = Rig.from_name("default")
    x, y = scene.rooms[0].centroid
    with EmbreeRenderer(scene, threads=2) as two, EmbreeRenderer(scene, threads=1) as one:
        a, b, c = (r.render(rig, (x, y, 0.7)) for r in (two, two, one))
        for name in ("rgb", "depth", "semantic"):
            assert getattr(a, name).tobytes() == getattr(b, name).tobytes()
            assert getattr(a, name).tobytes() == getattr(c, name).tobytes()
        sem_only = two.render(rig, (x, y, 0.7), rgb=False, depth=False)
    assert sem_only.rgb is None and sem_only.depth is None
    np.testing.assert_array_equal(sem_only.semantic, a.semantic)
    assert a.rgb.dtype == np.uint8 and a.depth.dtype == np.float32 and a.semantic.dtype == np.int32
    assert (a.semantic > 0).mean() > 0.9 and a.rgb.std() > 10


def test_bad_renderer_input():
    scene = box_room()
    with pytest.raises(ValueError, match="threads"):
        EmbreeRenderer(scene, threads=0)
    with pytest.raises(ValueError, match="scene"):
        EmbreeRenderer("scene.glb")
    renderer = EmbreeRenderer(scene)
    with pytest.raises(ValueError, match="rig"):
        renderer.render("default", (0, 0, 0))
    with pytest.raises(ValueError, match="rgb"):
        renderer.render(Rig.from_name("default"), (0, 0, 0), rgb="yes")
    renderer.close()
    with pytest.raises(RuntimeError, match="closed"):
        renderer.render(Rig.from_name("default"), (0, 0, 0))
