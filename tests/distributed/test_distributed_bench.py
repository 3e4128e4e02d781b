"""``astra-sim bench --collect`` runs end to end on a local Ray and writes its figures."""

from __future__ import annotations

import json

import pytest
from distributed_helpers import local_ray, rig_recipe

pytest.importorskip("ray")
pytest.importorskip("pyarrow")

from astra_sim.cli.main import main


@pytest.mark.ray
def test_bench_collect_writes_throughput_and_ratios(tmp_path_factory, tmp_path, capsys):
    rig = rig_recipe(tmp_path, 16)
    out = tmp_path / "bench.json"
    args = ["bench", "--collect", "--workers", "1", "--episodes", "2", "--max-steps", "5",
            "--kinds", "home", "--rig", rig, "--out", str(out)]  # fmt: skip
    with local_ray(tmp_path_factory):
        assert main(args) == 0
    report = json.loads(out.read_text())
    assert set(report["steps_per_s"]) == {"no_ray", "ray_1"}
    assert report["settings"]["ray_1"]["steps"] == report["settings"]["no_ray"]["steps"] == 10
    assert report["ratio_to_no_ray"]["no_ray"] == 1.0 and report["steps_per_s"]["ray_1"] > 0
    assert "ray_1" in capsys.readouterr().out
    assert main(["bench", "--collect", "--workers", "0"]) == 2
    assert "workers must be Ray worker counts >= 1" in capsys.readouterr().err
