"""Export of our scenes as habitat scene datasets, and back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from astra_sim.scenes.habitat import export_habitat, load_habitat_scene
from astra_sim.scenes.habitat.gltf import Gltf
from astra_sim.scenes.habitat.semantics import linear_to_srgb_int, read_semantic_txt
from tests.conftest import SMALL, cached_scene


@pytest.fixture(scope="module")
def office():
    return cached_scene("office", 3, **SMALL["office"])


def test_export_then_import_round_trips_exactly(office, tmp_path):
    exported = export_habitat(office, tmp_path)
    back = load_habitat_scene(exported.config)
    for name in ("vertices", "faces", "uv", "face_instance", "face_material"):
        assert np.array_equal(getattr(back, name), getattr(office, name)), name
    assert back.instances == office.instances
    assert back.rooms == office.rooms
    assert back.materials == office.materials
    assert back.nav_config == office.nav_config
    assert back.metadata["astra_sim"] == office.metadata
    assert back.metadata["params"] == {"scene_id": "office-3", "floor_height": 0.0}


def test_files_alone_carry_instances_and_rooms(office, tmp_path):
    """Without the astra-sim tables (as habitat tools would rewrite the config), the HM3D
    files still give every triangle its instance and every instance its room grouping."""
    exported = export_habitat(office, tmp_path, name="plain")
    stage = tmp_path / "plain" / "plain.stage_config.json"
    doc = json.loads(stage.read_text())
    del doc["user_defined"]
    stage.write_text(json.dumps(doc))
    back = load_habitat_scene(exported.config)
    assert np.array_equal(back.face_instance, office.face_instance)
    assert [i.category for i in back.instances] == [i.category for i in office.instances]
    pairs = {(a.room, b.room) for a, b in zip(office.instances, back.instances, strict=True)}
    assert len(pairs) == len({a for a, _ in pairs})  # same partition of instances into rooms
    assert len(back.rooms) == len({i.room for i in office.instances if i.room >= 0})


def test_semantic_files_are_what_habitat_matches(office, tmp_path):
    export_habitat(office, tmp_path)
    rows = read_semantic_txt(tmp_path / "office-3" / "office-3.semantic.txt")
    assert [r.id for r in rows] == list(range(1, len(office.instances)))
    assert len({r.colour for r in rows}) == len(rows) and all(r.colour for r in rows)
    prims = Gltf(tmp_path / "office-3" / "office-3.semantic.glb").primitives()
    colours = linear_to_srgb_int(prims[0].colors)  # habitat: linear COLOR_0 -> sRGB bytes
    by_colour = {r.colour: r.id for r in rows}
    ids = np.array([by_colour.get(c, 0) for c in colours[prims[0].faces[:, 0]]])
    assert np.array_equal(ids, office.face_instance)
    # y-up: habitat's world height is our z
    assert np.allclose(prims[0].positions[:, 1].max(), office.vertices[:, 2].max())


def test_dataset_config_declares_the_y_up_frame(office, tmp_path):
    exported = export_habitat(office, tmp_path)
    doc = json.loads(exported.config.read_text())
    defaults = doc["stages"]["default_attributes"]
    assert defaults["up"] == [0.0, 1.0, 0.0] and defaults["front"] == [0.0, 0.0, -1.0]
    assert defaults["semantic_asset"] == "%%CONFIG_NAME_AS_ASSET_FILENAME%%.semantic.glb"
    with pytest.raises(ValueError, match="only letters"):
        export_habitat(office, tmp_path, name="a.b")
