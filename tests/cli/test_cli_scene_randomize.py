"""``astra-sim scene show SCENE --randomize N``: one captioned row per draw, the first
without randomization; a bad block in ``--randomize-recipe`` is an error naming its key."""

from __future__ import annotations

import io

import numpy as np
from conftest import SMALL, cached_scene
from PIL import Image

from astra_sim.cli.main import main
from astra_sim.cli.scene_randomize import CAPTION_PX


def test_show_draws_n_randomized_rows_after_the_plain_one(tmp_path):
    cached_scene("home", 0, **SMALL["home"]).save(tmp_path / "home")
    recipe = tmp_path / "block.yaml"
    recipe.write_text("randomize:\n  lighting: default\n  camera: {yaw_deg: [-5, 5]}\n")
    out = tmp_path / "views.png"
    args = ["scene", "show", str(tmp_path / "home"), "--out", str(out), "--randomize", "2",
            "--randomize-recipe", str(recipe), "--rig", "default"]  # fmt: skip
    assert main(args) == 0
    image = np.asarray(Image.open(io.BytesIO(out.read_bytes())))
    row = CAPTION_PX + 128
    assert image.shape == (3 * row, 4 * 128, 3)
    views = [image[i * row + CAPTION_PX : (i + 1) * row] for i in range(3)]
    assert not np.array_equal(views[0], views[1]) and not np.array_equal(views[1], views[2])
    assert main([*args, "--out", str(tmp_path / "again.png")]) == 0  # seeded: the same picture
    assert (tmp_path / "again.png").read_bytes() == out.read_bytes()


def test_a_bad_block_is_refused_naming_the_key(tmp_path, capsys):
    cached_scene("home", 0, **SMALL["home"]).save(tmp_path / "home")
    recipe = tmp_path / "block.yaml"
    recipe.write_text("lighting: {ambient: [0.7, 0.2]}\n")
    code = main(["scene", "show", str(tmp_path / "home"), "--out", str(tmp_path / "v.png"),
                 "--randomize", "1", "--randomize-recipe", str(recipe)])  # fmt: skip
    assert code == 2
    assert "randomize.lighting.ambient: range [0.7, 0.2] is inverted" in capsys.readouterr().err
    assert not (tmp_path / "v.png").exists()
