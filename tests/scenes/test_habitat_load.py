"""Reading habitat scene datasets: frames, floors, HM3D semantics, rooms, bad input."""

from __future__ import annotations

import json
import struct
import warnings

import numpy as np
import pytest
import trimesh

from astra_sim.core.errors import SceneFormatError
from astra_sim.scenes import Scene
from astra_sim.scenes.habitat import (
    HabitatDataset,
    TextureFallbackWarning,
    load_habitat_scene,
)
from astra_sim.scenes.navigation import NavGrid
from tests.scenes.habitat_files import (
    FRIDGE_XY,
    PILLAR_XY,
    room_meshes,
    write_render_glb,
    write_room_dataset,
)


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    root = tmp_path_factory.mktemp("room")
    config = write_room_dataset(root, lift=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean dataset loads without warnings
        return config, load_habitat_scene(config)


def test_known_points_land_where_they_should(room):
    _, scene = room
    by_category = {i.category: i for i in scene.instances}
    assert by_category["pillar"].position == (*PILLAR_XY, 0.0)  # floor lifted 1.5 m -> z 0
    assert by_category["pillar"].size == (0.4, 0.4, 1.0)
    assert by_category["refrigerator"].position[:2] == FRIDGE_XY
    assert scene.metadata["params"] == {"scene_id": "room", "floor_height": 1.5}
    lo, hi = scene.bounds
    assert np.allclose(lo, [-0.1, -0.1, 0.0]) and np.allclose(hi, [6.1, 4.1, 2.5])
    grid = scene.navgrid()
    assert grid.is_navigable(np.array([[1.0, 3.0], [4.0, 2.0], PILLAR_XY])).tolist() == [
        True,
        True,
        False,
    ]


def test_instance_ids_semantics_and_rooms_come_through(room):
    _, scene = room
    assert [i.category for i in scene.instances] == [
        "void",
        "floor",
        "wall",
        "pillar",
        "refrigerator",
    ]
    assert [i.attributes["habitat_id"] for i in scene.instances[1:]] == ["1", "2", "3", "4"]
    pillar = scene.find(category="pillar")[0]
    tris = scene.vertices[scene.faces[scene.face_instance == pillar.id]]
    assert len(tris) == 12 and np.allclose(tris[:, :, :2].mean((0, 1)), PILLAR_XY)
    assert [(r.id, r.type) for r in scene.rooms] == [(0, "room"), (1, "kitchen")]  # fridge
    assert scene.find(category="refrigerator")[0].room == 1 and pillar.room == 0
    assert scene.rooms[1].contains(np.array(FRIDGE_XY))


def test_textures_and_vertex_colours_become_materials(room):
    _, scene = room
    assert sorted(m.kind for m in scene.materials) == ["texture"] + ["vertex_colour"] * 3
    floor = next(m for m in scene.materials if m.kind == "texture")
    assert (
        floor.image.shape == (16, 16, 3) and len(np.unique(floor.image.reshape(-1, 3), axis=0)) == 2
    )


def test_geodesics_agree_with_our_planner_on_the_original_mesh(room):
    _, scene = room
    parts = room_meshes()
    mesh = trimesh.util.concatenate(list(parts.values()))
    # float32, as every scene stores vertices (a 1e-9 m shift can move the grid by a cell)
    original = NavGrid.from_mesh(mesh.vertices.astype(np.float32), mesh.faces)
    a, b = np.array([1.0, 1.0]), np.array([3.0, 1.0])  # the pillar sits between them
    ours = scene.navgrid().geodesic_distance(a, b)
    assert ours > 2.1  # a detour, not the 2 m straight line
    assert ours == pytest.approx(original.geodesic_distance(a, b), rel=0.01)


def test_a_saved_import_loads_back_identically(room, tmp_path):
    _, scene = room
    scene.save(tmp_path / "s")
    assert Scene.load(tmp_path / "s") == scene


def test_bare_glb_follows_habitat_defaults_and_up_overrides(tmp_path):
    glb = write_render_glb(tmp_path / "bare.glb")
    as_file = load_habitat_scene(glb, up="y")
    assert np.allclose(as_file.bounds, [[-0.1, -0.1, 0.0], [6.1, 4.1, 2.5]])
    # habitat-sim reads a bare .glb as z-up (Matterport): this y-up file stands on its side
    default = load_habitat_scene(glb)
    assert not np.allclose(default.bounds, as_file.bounds)
    assert len(default.instances) == 1  # no semantic files beside it


def test_floor_height_picks_a_storey(tmp_path):
    lower = write_render_glb(tmp_path / "a.glb")
    upper = write_render_glb(tmp_path / "b.glb", lift=3.0)
    both = trimesh.util.concatenate(
        [trimesh.load(p, force="mesh", process=False) for p in (lower, upper)]
    )
    both.export(tmp_path / "two.glb")
    top = load_habitat_scene(tmp_path / "two.glb", up="y", floor_height=3.02)
    assert top.metadata["params"]["floor_height"] == pytest.approx(3.0)
    assert top.navgrid().is_navigable(np.array([[1.0, 3.0]]))[0]
    with pytest.raises(SceneFormatError, match="no floor within"):
        load_habitat_scene(tmp_path / "two.glb", up="y", floor_height=1.5)


def test_missing_stage_file_names_the_file(tmp_path):
    config = write_room_dataset(tmp_path, render_name="gone.glb")
    with pytest.raises(
        SceneFormatError, match=r"room\.stage_config\.json.*'gone\.glb'.*does not exist"
    ):
        load_habitat_scene(config)


def test_table_with_unknown_colours_is_an_error_naming_file_and_line(tmp_path):
    config = write_room_dataset(tmp_path, extra_row=True)
    with pytest.raises(
        SceneFormatError, match=r"room\.semantic\.txt: 1 of 5 rows .*line 6: id 5 123456"
    ):
        load_habitat_scene(config)
    scene = load_habitat_scene(config, strict_semantics=False)
    ghost = scene.instances[5]
    assert ghost.name == "ghost, with comma" and not (scene.face_instance == 5).any()


def test_malformed_table_rows_are_named(tmp_path):
    config = write_room_dataset(tmp_path)
    table = tmp_path / "room" / "room.semantic.txt"
    table.write_text(table.read_text() + '7,XYZ,"chair",0\n')
    with pytest.raises(SceneFormatError, match=r"room\.semantic\.txt:6: colour 'XYZ'"):
        load_habitat_scene(config)
    table.write_text("not a table\n")
    with pytest.raises(SceneFormatError, match="expected a header"):
        load_habitat_scene(config)


def test_unknown_scene_lists_the_dataset(room):
    config, _ = room
    with pytest.raises(
        SceneFormatError, match=r"scene 'elsewhere\.glb' is not in .* \(it has room\)"
    ):
        HabitatDataset(config).resolve("elsewhere.glb")
    assert HabitatDataset(config).resolve("data/scene_datasets/x/room/room.glb").name == "room"


def _as_ktx2(glb: bytes) -> bytes:
    """The same GLB with its images declared KTX2 (what HM3D's .basis.glb carry)."""
    size = struct.unpack_from("<I", glb, 12)[0]
    doc = json.loads(glb[20 : 20 + size])
    for image in doc["images"]:
        image["mimeType"] = "image/ktx2"
    doc["extensionsUsed"] = [*doc.get("extensionsUsed", []), "KHR_texture_basisu"]
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    rest = glb[20 + size :]
    return (
        struct.pack("<III", 0x46546C67, 2, 20 + len(text) + len(rest))
        + struct.pack("<II", len(text), 0x4E4F534A)
        + text
        + rest
    )


def test_undecodable_basis_textures_fall_back_and_say_so_once(tmp_path):
    glb = write_render_glb(tmp_path / "scan.basis.glb")
    glb.write_bytes(_as_ktx2(glb.read_bytes()))
    with pytest.warns(TextureFallbackWarning, match="1 Basis/KTX2 texture") as record:
        scene = load_habitat_scene(glb, up="y")
    assert len([w for w in record if w.category is TextureFallbackWarning]) == 1
    assert "texture" not in {m.kind for m in scene.materials}
    assert len(scene.faces) == 74
