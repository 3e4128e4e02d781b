"""The benchmark runs end to end and writes the keys users and CI read."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from astra_sim.bench import render_bench as rb
from astra_sim.bench.sim_bench import HEAVY, BenchConfig, run_benchmark
from astra_sim.cli.main import main
from astra_sim.render.gl_context import gl_unavailable_reason

SMALL_RUN = [
    *("--frames", "3", "--pybullet-frames", "2", "--rounds", "2", "--sim-steps", "2"),
    *("--min-pass-s", "0"),
    "--no-heavy",
    *("--env-steps", "5", "--vector-envs", "1", "2", "--crossover-levels", "0", "1"),
]


def test_bench_writes_the_documented_keys(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--out", str(out), "--kinds", "home", *SMALL_RUN]) == 0
    report = json.loads(out.read_text())
    backends = ["embree"] + (["gl"] if gl_unavailable_reason() is None else [])
    for backend in backends:
        for key in ("render_fps", "speedup", "sim_steps_per_s"):
            assert report[key]["home"][backend] > 0, (key, backend)
        # Rounds take turns: each round's ratio pairs a backend's pass with pybullet's, on
        # the views pybullet rendered (the first 2 of 3).
        row = report["scenes"]["home"]["backends"][backend]
        fps, pb = row["render_fps_rounds"], report["scenes"]["home"]["pybullet_fps_rounds"]
        same = row["pybullet_views_fps_rounds"]
        assert len(fps) == len(pb) == len(same) == 2
        assert report["scenes"]["home"]["pybullet_frames"] == 2
        ratios = [a / b for a, b in zip(same, pb, strict=True)]
        assert row["speedup_rounds"] == pytest.approx(ratios, rel=0.02)
        assert report["speedup"]["home"][backend] == pytest.approx(np.median(ratios), rel=0.02)
        assert row["render_fps"] == pytest.approx(np.median(fps), rel=0.01)
    assert report["pybullet_fps"]["home"] > 0 and report["rays_per_s"]["home"] > 0
    # Linux says how much CPU time other guests of a virtual machine took meanwhile.
    steal = report["scenes"]["home"]["cpu_steal"]
    assert steal is None or 0.0 <= steal < 1.0
    assert (steal is None) == (rb.cpu_ticks() is None)
    assert report["fastest"]["home"] in backends
    per_core = report["env_steps_per_core"]
    assert per_core["steps_per_s"][per_core["auto_picks"]] > 0
    parts = per_core["breakdown_ms"]["embree"]
    assert {"render", "body_200hz", "imu", "wheels", "measures", "other"} <= set(parts)
    assert parts["render"] > 0 and parts["body_200hz"] > 0
    assert set(report["vector"]["env_steps_per_s"]["batched"]) == {"1", "2"}
    assert set(report["crossover"]["render_fps"]) == {"934", "3736"}
    text = capsys.readouterr().out
    assert "render fps" in text and "env steps/s on one core" in text


def test_the_heavy_row_sits_beside_the_others():
    cfg = BenchConfig(kinds=(), frames=2, pybullet_frames=1, rounds=1, min_pass_s=0.0,
                      sim_steps=1, heavy_edge=1.0, crossover_levels=(), env_steps=0,
                      vector_envs=())  # fmt: skip
    report = run_benchmark(cfg)
    assert report["triangles"][HEAVY] > 934  # split from the 934-triangle home
    assert report["render_fps"][HEAVY]["embree"] > 0 and report["pybullet_fps"][HEAVY] > 0
    assert "sim_steps_per_s" not in report["scenes"][HEAVY]["backends"]["embree"]


def test_bench_refuses_bad_numbers(capsys):
    assert main(["bench", "--frames", "0"]) == 2
    assert "--frames must be >= 1" in capsys.readouterr().err
    assert main(["bench", "--rounds", "0"]) == 2
    assert "--rounds must be >= 1" in capsys.readouterr().err
    assert main(["bench", "--frames", "4", "--pybullet-frames", "5"]) == 2
    assert "--pybullet-frames must be <= --frames" in capsys.readouterr().err
    assert main(["bench", "--min-pass-s", "-1"]) == 2
    assert "--min-pass-s must be >= 0" in capsys.readouterr().err


def test_a_pass_repeats_its_views_until_it_has_run_long_enough():
    calls = []

    def slow(item):
        calls.append(item)
        t = time.perf_counter()
        while time.perf_counter() - t < 0.004:
            pass

    each = rb.pass_times(slow, ["a", "b"], min_seconds=0.05)
    passes = len(calls) // 2
    assert passes >= 5 and calls == ["a", "b"] * passes  # whole passes, in order
    assert each.shape == (2,) and np.all(each >= 0.004) and np.all(each < 0.05)
    calls.clear()
    rb.pass_times(slow, ["a", "b"])  # no minimum: one pass
    assert calls == ["a", "b"]


def test_steal_share_is_the_stolen_part_of_all_cpu_time():
    before = np.array([100.0, 300.0, 10.0])
    assert rb.steal_share(before, before + np.array([30.0, 60.0, 10.0])) == 0.1
    assert rb.steal_share(before, before) == 0.0
    assert rb.steal_share(None, before) is None
