"""Procedural generators: determinism, connectivity, navigability, landmarks, bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import SMALL, cached_scene

from astra_sim.core.errors import UnknownNameError
from astra_sim.scenes import SCENE_KINDS, generate_scene
from astra_sim.scenes.generators.warehouse import shelf_code


def test_same_seed_gives_byte_identical_files(kind, tmp_path):
    a = generate_scene(kind, 3, **SMALL[kind])
    b = generate_scene(kind, 3, **SMALL[kind])
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    assert (tmp_path / "a/scene.json").read_bytes() == (tmp_path / "b/scene.json").read_bytes()
    assert (tmp_path / "a/scene.glb").read_bytes() == (tmp_path / "b/scene.glb").read_bytes()
    assert a == b


def test_different_seeds_give_different_layouts(kind):
    a = cached_scene(kind, 0, **SMALL[kind])
    b = cached_scene(kind, 1, **SMALL[kind])
    assert [r.polygon for r in a.rooms] != [r.polygon for r in b.rooms] or not np.array_equal(
        a.vertices, b.vertices
    )
    assert a.vertices.shape != b.vertices.shape or not np.array_equal(a.vertices, b.vertices)


def test_every_room_reachable_from_every_other(scene):
    grid = scene.navgrid()
    # Start from the navigable cell nearest the first room's centre, flood over the grid.
    start = grid.snap(np.array(scene.rooms[0].centroid))
    field = grid.distance_field(start)
    rows, cols = grid.shape
    cs = grid.config.cell_size
    xs = grid.origin[0] + (np.arange(cols) + 0.5) * cs
    ys = grid.origin[1] + (np.arange(rows) + 0.5) * cs
    centres = np.stack(np.meshgrid(xs, ys), axis=-1)
    for room in scene.rooms:
        inside = room.contains(centres)
        assert inside.any(), room.name
        assert np.isfinite(field[inside]).any(), f"{room.name} is not reachable"


def test_navigable_area_is_sensible_and_shrinks_with_robot_radius(scene):
    room_area = sum(
        abs(
            np.dot(np.array(r.polygon)[:, 0], np.roll(np.array(r.polygon)[:, 1], 1))
            - np.dot(np.array(r.polygon)[:, 1], np.roll(np.array(r.polygon)[:, 0], 1))
        )
        / 2
        for r in scene.rooms
    )
    small = scene.navgrid(robot_radius=0.1).navigable_area
    default = scene.navgrid().navigable_area
    big = scene.navgrid(robot_radius=0.4).navigable_area
    assert 0.3 * room_area < default < 0.95 * room_area
    assert small > default > big
    # Nothing navigable lies inside an obstacle or closer to one than the robot radius.
    grid = scene.navgrid()
    assert not (grid.navigable & grid.obstacle).any()
    assert (grid.esdf[grid.navigable] > grid.config.robot_radius).all()


def test_robot_wider_than_the_doors_is_refused():
    from astra_sim.scenes import NavConfig

    with pytest.raises(ValueError, match=r"unreachable for a robot of radius 0\.55"):
        generate_scene("home", 0, nav_config=NavConfig(robot_radius=0.55))


def test_home_has_rooms_and_a_resting_area():
    scene = cached_scene("home", 0, **SMALL["home"])
    types = {r.type for r in scene.rooms}
    assert {"living_room", "kitchen", "bedroom", "bathroom", "hallway"} <= types
    living = [r.id for r in scene.rooms if r.type == "living_room"]
    seats = [i for i in scene.instances if i.category in ("sofa", "armchair")]
    assert any(i.category == "sofa" for i in seats)
    assert all(i.room in living for i in seats if i.category == "sofa")
    assert all("rest" in i.description for i in seats)
    assert scene.find(category="door")
    assert all(i.attributes.get("colour") for i in seats)


def test_office_rooms_are_numbered_with_door_signs():
    scene = cached_scene("office", 0, **SMALL["office"])
    texts = [i.text for i in scene.find(category="sign")]
    numbers = [t for t in texts if re.fullmatch(r"Room 2\d\d", t)]
    assert len(numbers) >= 4
    assert len(numbers) == len(set(numbers))
    assert {"STAIRS", "LIFT"} <= set(texts)
    types = {r.type for r in scene.rooms}
    assert {"corridor", "office", "meeting_room", "kitchenette", "open_office"} <= types
    assert scene.find(category="stairs") and scene.find(category="lift")
    # The sign of "Room N" stands in front of the door of the room named with N.
    for sign in scene.find(category="sign"):
        if sign.text.startswith("Room"):
            assert sign.attributes["refers_to"].endswith(sign.text.split()[1])


def test_warehouse_has_shelf_codes_on_every_bay():
    p = SMALL["warehouse"]
    scene = cached_scene("warehouse", 0, **p)
    shelves = scene.find(category="shelf")
    codes = sorted(s.text for s in shelves)
    expected = sorted(shelf_code(r, b) for r in range(p["racks"]) for b in range(p["bays"]))
    assert codes == expected
    assert all(re.fullmatch(r"[A-Z]-\d{3}", c) for c in codes)
    assert scene.find(text="A-001")[0].category == "shelf"
    for cat in ("pillar", "dock_door", "workstation"):
        assert scene.find(category=cat), cat
    assert {"aisle", "loading_dock"} <= {r.type for r in scene.rooms}


def test_signs_carry_their_text_in_the_atlas(scene):
    atlas = [m for m in scene.materials if m.kind == "sign_atlas"]
    texts = {i.text for i in scene.instances if i.text}
    if scene.kind == "home":
        assert not texts and not atlas  # homes carry no signs, so no atlas either
        return
    assert len(atlas) == 1
    assert texts == set(atlas[0].params["texts"])
    # Sign faces have UVs inside the atlas and show dark text pixels.
    faces = scene.face_material == atlas[0].id
    assert faces.any()
    assert (atlas[0].image < 100).any()


def test_surfaces_are_textured_not_flat(scene):
    for m in scene.materials:
        if m.kind == "sign_atlas":
            continue
        assert m.image.std(axis=(0, 1)).max() > 3, m.name
    uv = scene.uv[scene.faces[scene.face_material != scene.materials[-1].id]].reshape(-1, 2)
    assert np.ptp(uv[:, 0]) > 1.0  # textures repeat in real-world tiles


def test_every_triangle_belongs_to_a_known_instance(scene):
    assert scene.face_instance.min() >= 1  # nothing generated is left without semantics
    cats = {scene.instances[i].category for i in np.unique(scene.face_instance)}
    assert {"wall", "floor", "ceiling"} <= cats


@pytest.mark.parametrize("bad", ["castle", "Home", ""])
def test_unknown_kind_lists_the_kinds(bad):
    with pytest.raises(UnknownNameError) as err:
        generate_scene(bad, 0)
    for k in SCENE_KINDS:
        assert k in str(err.value)


@pytest.mark.parametrize("seed", ["3", 1.5, -1, None, True])
def test_seed_must_be_an_integer(seed):
    with pytest.raises(ValueError, match="seed"):
        generate_scene("home", seed)


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match=r"unknown home parameter.*colour.*valid ones"):
        generate_scene("home", 0, colour="red")


def test_impossible_size_is_refused():
    with pytest.raises(ValueError, match="width"):
        generate_scene("home", 0, width=5.0, bedrooms=4)


def test_sign_text_faces_the_reader(kind):
    """On every sign's front, +u runs to the reader's right and +v runs up: not mirrored."""
    scene = cached_scene(kind, 0, **SMALL[kind])
    atlas = [m.id for m in scene.materials if m.kind == "sign_atlas"]
    if not atlas:
        pytest.skip("no signs in this kind")
    tris = np.flatnonzero(scene.face_material == atlas[0])
    checked = 0
    for f in tris:
        p = scene.vertices[scene.faces[f]].astype(np.float64)
        t = scene.uv[scene.faces[f]].astype(np.float64)
        duv = np.array([t[1] - t[0], t[2] - t[0]])
        if abs(np.linalg.det(duv)) < 1e-9:
            continue  # back and edges of a plate map to one blank texel
        dp = np.array([p[1] - p[0], p[2] - p[0]])
        d_du, d_dv = np.linalg.solve(duv, dp)  # world direction of +u and +v
        normal = np.cross(p[1] - p[0], p[2] - p[0])
        right = np.cross(-normal, [0.0, 0.0, 1.0])  # the reader looks along -normal
        assert d_du @ right > 0 and d_dv[2] > 0
        checked += 1
    assert checked >= 2 * len({i.text for i in scene.instances if i.text})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_default_sizes_generate_connected(kind, seed):
    from astra_sim.scenes.generators.layout import unreachable_rooms

    scene = cached_scene(kind, seed)
    assert unreachable_rooms(scene) == []
    assert len(scene.landmarks()) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4, 40))
def test_many_seeds_generate_connected(kind, seed):
    from astra_sim.scenes.generators.layout import unreachable_rooms

    params = {"home": {"bedrooms": 1 + seed % 4, "width": 12.0 + seed % 4}}.get(kind, {})
    scene = generate_scene(kind, seed, **params)
    assert unreachable_rooms(scene) == []


def test_scenes_are_closed_to_a_camera(scene):
    """Rays from navigable points at camera height always hit something: no gaps to the void."""
    import trimesh

    mesh = trimesh.Trimesh(scene.vertices, scene.faces, process=False)
    rng = np.random.default_rng(0)
    xy = scene.navgrid().sample_navigable(rng, 200)
    origins = np.c_[np.repeat(xy, 20, axis=0), np.full(len(xy) * 20, 0.5)]
    dirs = rng.normal(size=origins.shape)
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    assert mesh.ray.intersects_any(origins, dirs).all()
