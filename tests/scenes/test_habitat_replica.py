"""Replica scenes: mesh.ply with habitat/mesh_semantic.ply face ids and info_semantic.json.

The folder is written here as Replica lays it out: a z-up scan (floor at z = -1.2, shifted
in x and y) whose render mesh is an ASCII quad PLY with vertex colours and whose semantic
mesh is a binary PLY of unshared quads (the floor split in two, unlike the render mesh's
one quad) with ushort ``object_id``s, or an ASCII one whose floor holds a pentagon.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import trimesh

import astra_sim  # noqa: F401  (registers the envs)
from astra_sim.core.errors import SceneFormatError
from astra_sim.render import CameraMount, EmbreeRenderer, PinholeCamera, Rig
from astra_sim.scenes.habitat import HabitatDataset, frames, load_habitat_scene
from astra_sim.scenes.navigation import NavGrid
from tests.conftest import write_panorama_rig
from tests.scenes.habitat_files import FRIDGE_XY, PILLAR_XY, room_meshes

SHIFT = np.array([0.5, -2.0, -1.2])  # habitat_files' room moved by this in the Replica files
PILLAR = np.add(PILLAR_XY, SHIFT[:2])
FRIDGE = np.add(FRIDGE_XY, SHIFT[:2])
CLASSES = [(0, "undefined"), (3, "floor"), (5, "wall"), (8, "pillar"), (12, "refrigerator")]
# Replica object id, class id, box (ours, before SHIFT); id 0 has no faces
OBJECTS = [(1, 3), (2, 5), (3, 5), (4, 5), (5, 5), (7, 8), (9, 12)]
WALLS = [((-0.1, -0.1, 0), (6.1, 0, 2.5)), ((-0.1, 4, 0), (6.1, 4.1, 2.5)),
         ((-0.1, 0, 0), (0, 4, 2.5)), ((6, 0, 0), (6.1, 4, 2.5))]  # fmt: skip
BOX_QUADS = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]]


def _box(lo, hi):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    corners = np.array([[(hi if i >> k & 1 else lo)[k] for k in range(3)] for i in range(8)])
    return corners + SHIFT, np.array(BOX_QUADS)


def _parts() -> list[tuple[int, np.ndarray, list[list[int]]]]:
    """(object id, vertices, polygons) in Replica coordinates, render-mesh split."""
    floor = np.array([[0, 0, 0], [6, 0, 0], [6, 4, 0], [0, 4, 0]], float) + SHIFT
    px, py = PILLAR_XY
    fx, fy = FRIDGE_XY
    boxes = [*WALLS, ((px - 0.2, py - 0.2, 0), (px + 0.2, py + 0.2, 1.0)),
             ((fx - 0.3, fy - 0.3, 0), (fx + 0.3, fy + 0.3, 1.8))]  # fmt: skip
    parts = [(1, floor, [[0, 1, 2, 3]])]
    for (ident, _), (lo, hi) in zip(OBJECTS[1:], boxes, strict=True):
        v, q = _box(lo, hi)
        parts.append((ident, v, q.tolist()))
    return parts


def _write_render_ply(path: Path) -> None:
    verts, faces, base = [], [], 0
    for ident, v, polys in _parts():
        colour = (40 * ident % 256, 90, 200 - 20 * ident)
        verts += [f"{x:.6f} {y:.6f} {z:.6f} {colour[0]} {colour[1]} {colour[2]}" for x, y, z in v]
        faces += [f"{len(p)} " + " ".join(str(base + i) for i in p) for p in polys]
        base += len(v)
    head = ["ply", "format ascii 1.0", f"element vertex {len(verts)}",
            "property float x", "property float y", "property float z", "property uchar red",
            "property uchar green", "property uchar blue", f"element face {len(faces)}",
            "property list uchar int vertex_indices", "end_header"]  # fmt: skip
    path.write_text("\n".join(head + verts + faces) + "\n")


def _semantic_polygons(pentagon: bool) -> list[tuple[int, np.ndarray]]:
    """(object id, polygon vertices), each polygon with its own vertices (as Replica's);
    the floor split in two, its first half a pentagon if asked."""
    polygons: list[tuple[int, np.ndarray]] = []
    for ident, v, polys in _parts():
        if ident != 1:
            polygons += [(ident, v[p]) for p in polys]
            continue
        (x0, y0, z), (x1, y1) = v[0], v[2][:2]
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        half = [[x0, y0, z], [xm, y0, z]] + ([[xm, ym, z]] if pentagon else [])
        polygons.append((1, np.array([*half, [xm, y1, z], [x0, y1, z]])))
        polygons.append((1, np.array([[xm, y0, z], [x1, y0, z], [x1, y1, z], [xm, y1, z]])))
    return polygons


def _write_semantic_ply(path: Path, object_id: bool = True, pentagon: bool = False) -> None:
    """Binary little-endian quads with ushort ids; ASCII with int ids for a pentagon
    (trimesh's binary PLY reader needs every face of one size)."""
    polygons = _semantic_polygons(pentagon)
    vertices = np.concatenate([p for _, p in polygons]).astype("<f4")
    head = ["ply", f"format {'ascii' if pentagon else 'binary_little_endian'} 1.0",
            f"element vertex {len(vertices)}", "property float x", "property float y",
            "property float z", "property uchar red", "property uchar green",
            "property uchar blue", f"element face {len(polygons)}",
            "property list uchar int vertex_indices"]  # fmt: skip
    head += [f"property {'int' if pentagon else 'ushort'} object_id"] if object_id else []
    body = bytearray(("\n".join([*head, "end_header"]) + "\n").encode())
    lines, first = [], 0
    for xyz in vertices:
        lines.append(" ".join(f"{c:.6f}" for c in xyz) + " 128 128 128")
        body += xyz.tobytes() + bytes([128, 128, 128])
    for ident, p in polygons:
        index = np.arange(first, first + len(p), dtype="<i4")
        lines.append(" ".join(map(str, [len(p), *index] + ([ident] if object_id else []))))
        body += struct.pack("<B", len(p)) + index.tobytes()
        body += struct.pack("<H", ident) if object_id else b""
        first += len(p)
    if pentagon:
        body = bytearray(("\n".join([*head, "end_header", *lines]) + "\n").encode())
    path.write_bytes(bytes(body))


def write_replica(folder: Path, drop: tuple[int, ...] = ()) -> Path:
    """A Replica scene folder; ``drop`` leaves those object ids out of the table."""
    (folder / "habitat").mkdir(parents=True, exist_ok=True)
    _write_render_ply(folder / "mesh.ply")
    _write_semantic_ply(folder / "habitat" / "mesh_semantic.ply")
    names = dict(CLASSES)
    objects = [
        {"id": i, "class_id": c, "class_name": names[c],
         "oriented_bbox": {"abb": {"center": [0, 0, 0], "sizes": [1, 1, 1]},
                           "orientation": {"rotation": [0, 0, 0, 1], "translation": [0, 0, 0]}}}
        for i, c in [(0, 0), *OBJECTS] if i not in drop
    ]  # fmt: skip
    info = {"classes": [{"id": i, "name": n} for i, n in CLASSES], "objects": objects,
            "id_to_label": [0, 3, 5, 5, 5, 5, 0, 8, 0, 12]}  # fmt: skip
    (folder / "habitat" / "info_semantic.json").write_text(json.dumps(info))
    return folder


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    folder = write_replica(tmp_path_factory.mktemp("replica") / "apartment_0")
    return folder, load_habitat_scene(folder)


def test_replica_is_z_up_and_known_points_land_where_they_should(replica):
    folder, scene = replica
    # habitat's own path: asset (up +z, front +y) -> habitat world -> ours, floor to z = 0
    to_world = frames.frame_to_world(frames.GLB_DEFAULT_UP, frames.GLB_DEFAULT_FRONT)
    file_point = np.array([*PILLAR, SHIFT[2]])
    habitat = to_world @ file_point
    assert np.allclose(habitat, [PILLAR[0], SHIFT[2], -PILLAR[1]])
    expected = frames.habitat_to_ours(habitat, floor_height=habitat[1])
    pillar = scene.find(category="pillar")[0]
    assert pillar.position == pytest.approx(tuple(expected))
    assert pillar.size == pytest.approx((0.4, 0.4, 1.0))
    assert scene.find(category="refrigerator")[0].position[:2] == pytest.approx(tuple(FRIDGE))
    assert scene.metadata["params"] == {"scene_id": "mesh", "floor_height": -1.2}
    lo, hi = scene.bounds
    assert np.allclose(lo, [0.4, -2.1, 0.0], atol=1e-5)
    assert np.allclose(hi, [6.6, 2.1, 2.5], atol=1e-5)
    same = load_habitat_scene(folder / "mesh.ply")
    assert np.array_equal(same.face_instance, scene.face_instance)
    side = load_habitat_scene(folder, up="y")  # an explicit up still wins
    assert not np.allclose(side.bounds, scene.bounds)


def test_ids_and_categories_come_through_on_the_right_triangles(replica):
    _, scene = replica
    assert [i.category for i in scene.instances] == [
        "void", "undefined", "floor", "wall", "wall", "wall", "wall", "pillar", "refrigerator",
    ]  # fmt: skip
    assert [i.attributes["habitat_id"] for i in scene.instances[1:]] == [
        "0", "1", "2", "3", "4", "5", "7", "9",
    ]  # fmt: skip
    tris = scene.vertices[scene.faces].astype(np.float64)
    counts = np.bincount(scene.face_instance, minlength=len(scene.instances))
    assert counts.tolist() == [0, 0, 2, 12, 12, 12, 12, 12, 12]  # quads became 2 triangles
    by_id = {str(i): v for i, v, _ in _parts()}
    for inst in scene.instances[2:]:
        part = by_id[inst.attributes["habitat_id"]] - [0, 0, SHIFT[2]]  # as written, floor at 0
        own = tris[scene.face_instance == inst.id].reshape(-1, 3)
        assert (own.min(0) >= part.min(0) - 1e-5).all() and (own.max(0) <= part.max(0) + 1e-5).all()
        assert inst.size == pytest.approx(tuple(np.ptp(part, axis=0)), abs=1e-4)
    pillar_tris = tris[scene.face_instance == scene.find(category="pillar")[0].id]
    assert np.allclose(pillar_tris[:, :, :2].mean((0, 1)), PILLAR)
    walls = [i for i in scene.instances if i.category == "wall"]
    assert len({i.position for i in walls}) == 4  # four objects of one class
    assert scene.rooms == [] and all(i.room == -1 for i in scene.instances[1:])


def test_replica_scene_navigates_like_the_original_mesh(replica):
    _, scene = replica
    parts = trimesh.util.concatenate(list(room_meshes().values()))
    v = parts.vertices + np.array([*SHIFT[:2], 0.0])
    original = NavGrid.from_mesh(v.astype(np.float32), parts.faces)
    step = np.array([1.0, 0.0])
    a, b = PILLAR - step, PILLAR + step  # the pillar sits between them
    ours = scene.navgrid().geodesic_distance(a, b)
    assert ours > 2.1
    assert ours == pytest.approx(original.geodesic_distance(a, b), rel=0.01)


def test_embree_sees_the_pillar_by_its_instance_id(replica):
    _, scene = replica
    pillar = scene.find(category="pillar")[0]
    rig = Rig([CameraMount(PinholeCamera(33, 25, 60.0), xyz=(0.0, 0.0, 0.5))])
    with EmbreeRenderer(scene) as renderer:
        frame = renderer.render(rig, (PILLAR[0] - 1.2, PILLAR[1], 0.0))
    assert frame.semantic[0, 12, 16] == pillar.id
    assert frame.depth[0, 12, 16] == pytest.approx(1.0, abs=1e-3)  # the pillar's near face
    assert (frame.semantic[0] == pillar.id).sum() > 50


def test_the_env_runs_on_a_replica_folder(replica, tmp_path):
    folder, _ = replica
    rig = write_panorama_rig(tmp_path / "rig.yaml", 16)
    env = gym.make("AstraSim/PointNav-v0", scene_dataset=folder, rig=rig)
    try:
        obs, info = env.reset(seed=0)
        assert info["scene_kind"] == "habitat" and list(env.unwrapped._sims) == [("mesh", None)]
        assert obs["semantic"].max() > 0
    finally:
        env.close()


def test_a_stage_config_keeps_its_frame_and_finds_the_semantics(replica, tmp_path):
    folder = write_replica(tmp_path / "room_0")
    stage = {"render_asset": "../mesh.ply", "up": [0, 0, 1], "front": [0, 1, 0]}
    (folder / "habitat" / "replica_stage.stage_config.json").write_text(json.dumps(stage))
    config = tmp_path / "replica.scene_dataset_config.json"
    config.write_text(json.dumps({"stages": {"paths": {".json": ["*/habitat/*.json"]}}}))
    scene = load_habitat_scene(config)
    assert np.array_equal(scene.face_instance, replica[1].face_instance)
    assert np.allclose(scene.bounds, replica[1].bounds)


def test_polygon_faces_are_fanned_into_triangles(tmp_path):
    folder = write_replica(tmp_path / "room_0")
    _write_semantic_ply(folder / "habitat" / "mesh_semantic.ply", pentagon=True)
    from astra_sim.scenes.habitat.replica import read_semantic_ply

    spec = HabitatDataset(folder).scenes["mesh"]
    tris, ids = read_semantic_ply(folder / "habitat" / "mesh_semantic.ply", spec.stage)
    assert len(tris) == 3 + 2 + 6 * 12 and (ids == 1).sum() == 5  # pentagon: 3, quad: 2
    floor = tris[ids == 1]
    area = np.linalg.norm(np.cross(floor[:, 1] - floor[:, 0], floor[:, 2] - floor[:, 0]), axis=1)
    assert area.sum() / 2 == pytest.approx(24.0)
    scene = load_habitat_scene(folder)
    assert (scene.face_instance == scene.find(category="floor")[0].id).sum() == 2


def test_bad_info_semantic_json_is_named(tmp_path):
    folder = write_replica(tmp_path / "room_0")
    info = folder / "habitat" / "info_semantic.json"
    info.write_text('{"classes": [')
    with pytest.raises(SceneFormatError, match=r"info_semantic\.json: not valid JSON"):
        load_habitat_scene(folder)
    info.write_text(json.dumps({"classes": [{"id": 1, "name": "wall"}]}))
    with pytest.raises(SceneFormatError, match=r'info_semantic\.json: no "objects" list'):
        load_habitat_scene(folder)


def test_semantic_ply_without_object_ids_is_named(tmp_path):
    folder = write_replica(tmp_path / "room_0")
    _write_semantic_ply(folder / "habitat" / "mesh_semantic.ply", object_id=False)
    with pytest.raises(
        SceneFormatError, match=r"mesh_semantic\.ply: its faces have no object_id property"
    ):
        load_habitat_scene(folder)


def test_object_ids_the_table_lacks_follow_strict_semantics(tmp_path):
    folder = write_replica(tmp_path / "room_0", drop=(7,))
    with pytest.raises(
        SceneFormatError,
        match=r"mesh_semantic\.ply: 1 object ids are not in .*info_semantic\.json "
        r"\(7 \(12 triangles\)\); is the table from another scene\?",
    ):
        load_habitat_scene(folder)
    scene = load_habitat_scene(folder, strict_semantics=False)
    assert "pillar" not in {i.category for i in scene.instances}
    near_pillar = np.abs(scene.vertices[scene.faces][:, :, :2].mean(1) - PILLAR).max(1) < 0.25
    assert (scene.face_instance[near_pillar] == 0).all() and near_pillar.sum() == 12
