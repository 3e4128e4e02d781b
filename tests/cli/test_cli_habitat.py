"""``astra-sim scene export-habitat`` / ``import-habitat`` through the command line."""

from __future__ import annotations

import gzip
import json

from astra_sim.cli.main import main
from astra_sim.scenes import Scene
from tests.scenes.habitat_files import write_room_dataset


def test_export_with_episodes_then_import_round_trips(tmp_path, capsys):
    scene_dir, hab, back = tmp_path / "s", tmp_path / "hab", tmp_path / "back"
    assert (
        main(["scene", "generate", "--kind", "home", "--seed", "4", "--out", str(scene_dir)]) == 0
    )
    code = main(["scene", "export-habitat", str(scene_dir), "--out", str(hab), "--episodes", "3"])
    assert code == 0
    assert "wrote 3 PointNav episodes" in capsys.readouterr().out
    doc = json.loads(gzip.decompress((hab / "episodes.json.gz").read_bytes()))
    assert [e["scene_id"] for e in doc["episodes"]] == ["home-4/home-4.glb"] * 3
    config = hab / "astra_sim.scene_dataset_config.json"
    assert doc["episodes"][0]["scene_dataset_config"] == str(config.resolve())
    assert main(["scene", "import-habitat", str(config), "--out", str(back)]) == 0
    original, imported = Scene.load(scene_dir), Scene.load(back)
    assert (imported.vertices == original.vertices).all()
    assert imported.instances == original.instances and imported.rooms == original.rooms


def test_import_of_a_handmade_dataset_and_its_errors(tmp_path, capsys):
    config = write_room_dataset(tmp_path / "ok")
    assert main(["scene", "import-habitat", str(config), "--out", str(tmp_path / "o")]) == 0
    assert "4 instances" in capsys.readouterr().out
    bad = write_room_dataset(tmp_path / "bad", render_name="missing.glb")
    assert main(["scene", "import-habitat", str(bad), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "room.stage_config.json" in err and "'missing.glb'" in err and "does not exist" in err
    assert not (tmp_path / "x").exists()
