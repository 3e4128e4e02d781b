"""MP3D scans: a bare z-up .glb with its .house regions and _semantic.ply object ids."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from astra_sim.core.errors import SceneFormatError
from astra_sim.scenes.habitat import load_habitat_scene
from tests.scenes.habitat_files import FRIDGE_XY, PILLAR_XY, room_meshes

HOUSE = """ASCII 1.1
H house1 house 0 0 0 0 0 4 4 2 0 1 0 0 0 0 0 0 0 0 6 4 2.5 0 0 0 0 0
R 0 0 0 0 l 2 2 0 0 0 0 4 4 2.5 2.5 0 0 0 0
R 1 0 0 0 k 5 3 0 4 0 0 6 4 2.5 2.5 0 0 0 0
C 0 1 floor 2 floor 0 0 0 0 0
C 1 2 wall 1 wall 0 0 0 0 0
C 2 3 column 24 column 0 0 0 0 0
C 3 4 refrigerator 37 appliances 0 0 0 0 0
O 0 0 0 3 2 0 1 0 0 0 1 0 3 2 0.1 0 0 0 0 0 0 0 0
O 1 0 1 3 2 1 1 0 0 0 1 0 3 2 1.2 0 0 0 0 0 0 0 0
O 2 0 2 2 1 0.5 1 0 0 0 1 0 0.2 0.2 0.5 0 0 0 0 0 0 0 0
O 3 1 3 5 3 0.9 1 0 0 0 1 0 0.3 0.3 0.9 0 0 0 0 0 0 0 0
"""


def _ply(mesh: trimesh.Trimesh, object_id: np.ndarray) -> str:
    head = [
        "ply", "format ascii 1.0", f"element vertex {len(mesh.vertices)}",
        "property float x", "property float y", "property float z",
        f"element face {len(mesh.faces)}", "property list uchar int vertex_indices",
        "property int object_id", "end_header",
    ]  # fmt: skip
    verts = [" ".join(f"{c:.6f}" for c in v) for v in mesh.vertices]
    faces = [f"3 {a} {b} {c} {o}" for (a, b, c), o in zip(mesh.faces, object_id, strict=True)]
    return "\n".join(head + verts + faces) + "\n"


def test_house_regions_objects_and_semantic_ply(tmp_path):
    parts = room_meshes()
    merged = trimesh.util.concatenate(list(parts.values()))
    object_id = np.concatenate([np.full(len(m.faces), i) for i, m in enumerate(parts.values())])
    merged.export(tmp_path / "house1.glb")  # Matterport GLBs are z-up, as habitat assumes
    (tmp_path / "house1_semantic.ply").write_text(_ply(merged, object_id))
    (tmp_path / "house1.house").write_text(HOUSE)
    scene = load_habitat_scene(tmp_path / "house1.glb")
    assert [i.category for i in scene.instances] == [
        "void",
        "floor",
        "wall",
        "column",
        "appliances",
    ]
    assert [(r.type, r.name) for r in scene.rooms] == [
        ("living_room", "living room 1"),
        ("kitchen", "kitchen 1"),
    ]
    column = scene.find(category="column")[0]
    assert column.position[:2] == PILLAR_XY and column.room == 0
    assert scene.find(category="appliances")[0].position[:2] == FRIDGE_XY
    assert (scene.face_instance == column.id).sum() == 12


def test_malformed_house_record_is_named(tmp_path):
    merged = trimesh.util.concatenate(list(room_meshes().values()))
    merged.export(tmp_path / "h.glb")
    (tmp_path / "h.house").write_text("ASCII 1.1\nO 0 x 1\n")
    with pytest.raises(SceneFormatError, match=r"h\.house:2: malformed O record"):
        load_habitat_scene(tmp_path / "h.glb")
