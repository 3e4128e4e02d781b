"""Scene files: round trips, plain meshes, clear errors, no half-written files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from conftest import SMALL, cached_scene

from astra_sim.core.errors import SceneFormatError
from astra_sim.scenes import Scene, load_mesh


def test_save_load_round_trip_is_exact(scene, tmp_path):
    scene.save(tmp_path / "s")
    loaded = Scene.load(tmp_path / "s")
    assert loaded == scene
    assert np.array_equal(loaded.uv, scene.uv)
    assert loaded.instances == scene.instances
    assert all(
        np.array_equal(a.image, b.image)
        for a, b in zip(loaded.materials, scene.materials, strict=True)
    )
    # Saving the loaded scene again writes the same bytes.
    loaded.save(tmp_path / "t")
    for name in ("scene.json", "scene.glb"):
        assert (tmp_path / "s" / name).read_bytes() == (tmp_path / "t" / name).read_bytes()


def test_glb_is_a_standard_y_up_gltf_that_trimesh_reads(tmp_path):
    scene = cached_scene("home", 0, **SMALL["home"])
    scene.save(tmp_path)
    loaded = trimesh.load(tmp_path / "scene.glb", force="scene")
    n_faces = sum(len(g.faces) for g in loaded.geometry.values())
    assert n_faces == len(scene.faces)
    lo, hi = loaded.bounds
    # glTF is y-up: the walls' height is along y in the file, along z in memory.
    assert hi[1] - lo[1] == pytest.approx(scene.bounds[1, 2] - scene.bounds[0, 2], abs=1e-4)
    assert any(g.visual.material.baseColorTexture is not None for g in loaded.geometry.values())


def test_glb_without_sidecar_loads_as_plain_mesh(tmp_path):
    scene = cached_scene("home", 0, **SMALL["home"])
    scene.save(tmp_path)
    plain = Scene.load(tmp_path / "scene.glb")
    assert plain.instances[0].category == "void" and len(plain.instances) == 1
    assert (plain.face_instance == 0).all()
    assert np.allclose(plain.bounds, scene.bounds, atol=1e-4)
    a, b = plain.navgrid(), scene.navgrid()
    assert a.navigable_area == pytest.approx(b.navigable_area, rel=0.01)


def test_plain_obj_is_z_up_and_navigable(tmp_path):
    floor = trimesh.creation.box(extents=(6, 4, 0.1))
    floor.apply_translation((3, 2, -0.05))
    pillar = trimesh.creation.box(extents=(0.5, 0.5, 2.0))
    pillar.apply_translation((3, 2, 1.0))
    trimesh.util.concatenate([floor, pillar]).export(tmp_path / "room.obj")
    scene = load_mesh(tmp_path / "room.obj")
    assert scene.bounds[1, 2] == pytest.approx(2.0)
    grid = scene.navgrid()
    assert grid.is_navigable(np.array([[1.0, 2.0]]))[0]
    assert not grid.is_navigable(np.array([[3.0, 2.0]]))[0]


def test_missing_scene_json_is_named(tmp_path):
    scene = cached_scene("home", 0, **SMALL["home"])
    scene.save(tmp_path)
    (tmp_path / "scene.json").unlink()
    with pytest.raises(SceneFormatError, match=r"no scene\.json"):
        Scene.load(tmp_path)
    with pytest.raises(SceneFormatError, match="no such scene"):
        Scene.load(tmp_path / "nowhere")


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda t: t[: len(t) // 2], "corrupted scene.json"),
        (lambda t: json.dumps({**json.loads(t), "format": "other"}), "format is 'other'"),
        (
            lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "rooms"}),
            "missing key 'rooms'",
        ),
        (
            lambda t: json.dumps(
                {**json.loads(t), "mesh": {**json.loads(t)["mesh"], "sha256": "0" * 64}}
            ),
            "does not match",
        ),
        (
            lambda t: json.dumps({**json.loads(t), "instances": json.loads(t)["instances"][:3]}),
            "face_instance holds ids outside",
        ),
    ],
)
def test_corrupted_scene_json_gives_a_clear_error(tmp_path, damage, message):
    scene = cached_scene("home", 0, **SMALL["home"])
    scene.save(tmp_path)
    path = tmp_path / "scene.json"
    path.write_text(damage(path.read_text()))
    with pytest.raises(SceneFormatError, match=message):
        Scene.load(tmp_path)


def test_failed_save_leaves_the_old_files_and_no_temporaries(tmp_path):
    scene = cached_scene("home", 0, **SMALL["home"])
    scene.save(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    broken = Scene.load(tmp_path)
    broken.materials[0].image = np.zeros((4, 4, 7), dtype=np.uint8)  # not an image PIL takes
    with pytest.raises((TypeError, ValueError)):
        broken.save(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
