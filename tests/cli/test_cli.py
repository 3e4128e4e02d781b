"""The astra-sim command: subcommands listed, scenes generated and drawn, errors explained."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from astra_sim.cli.main import main
from astra_sim.scenes import Scene


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("scene", "demo"):
        assert cmd in out


def test_console_script_is_installed():
    exe = shutil.which("astra-sim")
    if exe is None:
        pytest.skip("package not installed with pip (astra-sim not on PATH)")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    assert "scene" in out


def test_generate_then_show(tmp_path, capsys):
    out = tmp_path / "wh"
    code = main(
        [
            "scene",
            "generate",
            "--kind",
            "warehouse",
            "--seed",
            "4",
            "--out",
            str(out),
            "racks=2",
            "bays=3",
        ]
    )
    assert code == 0
    scene = Scene.load(out)
    assert scene.kind == "warehouse" and scene.seed == 4
    assert scene.metadata["params"]["bays"] == 3
    assert main(["scene", "show", str(out), "--out", str(tmp_path / "top.png")]) == 0
    png = (tmp_path / "top.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_generate_from_recipe(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("kind: office\nseed: 2\nparams:\n  rooms_per_side: 2\n  meeting_rooms: 1\n")
    assert main(["scene", "generate", "--recipe", str(recipe), "--out", str(tmp_path / "o")]) == 0
    meta = json.loads((tmp_path / "o/scene.json").read_text())["metadata"]
    assert meta["kind"] == "office" and meta["params"]["rooms_per_side"] == 2


def test_unknown_kind_exits_non_zero_listing_kinds(tmp_path, capsys):
    code = main(["scene", "generate", "--kind", "castle", "--seed", "0", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "castle" in err and "home, office, warehouse" in err


def test_non_integer_seed_exits_non_zero(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["scene", "generate", "--kind", "home", "--seed", "abc", "--out", str(tmp_path)])
    assert e.value.code == 2
    assert "invalid int value: 'abc'" in capsys.readouterr().err


def test_show_of_a_broken_scene_exits_non_zero(tmp_path, capsys):
    (tmp_path / "scene.json").write_text("{not json")
    (tmp_path / "scene.glb").write_bytes(b"")
    code = main(["scene", "show", str(tmp_path), "--out", str(tmp_path / "x.png")])
    assert code == 2
    assert "corrupted scene.json" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_real_process_exit_code(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "astra_sim.cli.main",
            "scene",
            "generate",
            "--kind",
            "igloo",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert "valid scene kinds are: home, office, warehouse" in r.stderr


def test_demo_writes_metrics_pictures_and_a_gif(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--episodes", "1"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    tasks = [e["task"] for e in metrics["episodes"]]
    assert tasks == ["pointnav", "languagenav"]
    for e in metrics["episodes"]:
        assert {"task", "success", "spl", "collisions"} <= set(e)
        assert e["success"] == 1.0 and e["spl"] > 0.8  # the expert is the demo's agent
    for name in ("trajectories.png", "scenes.png", "views.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "episode.gif").read_bytes()[:6] == b"GIF89a"
    out = capsys.readouterr().out
    assert "spl" in out and "languagenav" in out
