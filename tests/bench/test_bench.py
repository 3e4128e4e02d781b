"""The benchmark runs end to end and writes the keys users and CI read."""

from __future__ import annotations

import json

from astra_sim.cli.main import main


def test_bench_writes_the_documented_keys(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "--out",
            str(out),
            "--kinds",
            "home",
            "--frames",
            "3",
            "--pybullet-frames",
            "1",
            "--sim-steps",
            "2",
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    for key in ("render_fps", "pybullet_fps", "speedup", "rays_per_s", "sim_steps_per_s"):
        assert report[key]["home"] > 0, key
    assert report["speedup"]["home"] == round(
        report["scenes"]["home"]["render_fps"] / report["scenes"]["home"]["pybullet_fps"], 2
    )
    assert "render fps" in capsys.readouterr().out


def test_bench_refuses_bad_numbers(capsys):
    assert main(["bench", "--frames", "0"]) == 2
    assert "--frames must be >= 1" in capsys.readouterr().err
