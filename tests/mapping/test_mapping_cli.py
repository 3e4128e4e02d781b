"""``astra-sim map build|show|text`` through a parser made from the module's add_parser."""

from __future__ import annotations

import argparse
import shutil

import pytest
from conftest import cached_scene
from test_mapping_graph import tiny_map

from astra_sim.cli import map as map_cli
from astra_sim.core.errors import SceneFormatError
from astra_sim.mapping import load_map
from astra_sim.mapping.draw import save_map_picture

PNG = b"\x89PNG\r\n\x1a\n"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="astra-sim")
    sub = parser.add_subparsers(dest="command", required=True)
    map_cli.add_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    cached_scene("home", 0).save(root / "scene")
    argv = ["map", "build", "--scene", str(root / "scene"), "--out", str(root / "map")]
    assert run([*argv, "--seed", "3", "--max-steps", "120", "--show"]) == 0
    return root


def test_build_writes_map_and_picture(built, capsys):
    m = load_map(built / "map")
    assert m.nodes and m.metadata["config"]["seed"] == 3
    assert m.metadata["config"]["max_steps"] == 120
    assert m.metadata["scene"]["path"] == str((built / "scene").resolve())
    assert (built / "map" / "map.png").read_bytes()[:8] == PNG


def test_show_finds_or_regenerates_the_scene(built, tmp_path, capsys):
    assert run(["map", "show", str(built / "map"), "--out", str(tmp_path / "a.png")]) == 0
    assert (tmp_path / "a.png").read_bytes()[:8] == PNG
    scene_dir = built / "scene"
    assert run(["map", "show", str(built / "map"), "--scene", str(scene_dir),
                "--out", str(tmp_path / "b.svg"), "--no-labels"]) == 0  # fmt: skip
    assert (tmp_path / "b.svg").read_text().lstrip().startswith("<?xml")
    moved = shutil.move(scene_dir, built / "scene_moved")  # the recorded directory is gone
    try:
        assert run(["map", "show", str(built / "map"), "--out", str(tmp_path / "c.png")]) == 0
        assert (tmp_path / "c.png").read_bytes()[:8] == PNG
    finally:
        shutil.move(moved, scene_dir)


def test_text_prints_the_map(built, capsys):
    assert run(["map", "text", str(built / "map"), "--max-tokens", "200"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Landmarks") and len(out.split()) <= 200


def test_bad_input_is_named(tmp_path):
    with pytest.raises(SceneFormatError, match="nope"):
        run(["map", "build", "--scene", str(tmp_path / "nope"), "--out", str(tmp_path / "m")])
    with pytest.raises(ValueError, match="picture suffix"):
        save_map_picture(tiny_map(), cached_scene("home", 0), tmp_path / "x.gif")
