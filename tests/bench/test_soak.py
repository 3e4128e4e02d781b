"""The leak soak: a short run in the default suite (the report, the CLI, threads released by
close()), the full 100,000 steps as a slow test."""

from __future__ import annotations

import json
import threading

import gymnasium as gym
import pytest
from conftest import SMALL, write_panorama_rig

import astra_sim  # noqa: F401  (registers the ids)
from astra_sim.bench.soak import RENDER_THREAD_PREFIX, SoakConfig, resources, run_soak
from astra_sim.cli.main import main


def render_threads() -> int:
    return sum(t.name.startswith(RENDER_THREAD_PREFIX) for t in threading.enumerate())


def test_close_releases_the_renderer_threads():
    before, threads = resources(), render_threads()  # earlier tests may leave envs open
    # The default rig: enough rays per frame that the renderer splits them over threads.
    env = gym.make("AstraSim/PointNav-v0", scene_params=SMALL["home"])
    env.reset(seed=0)
    env.step(env.action_space.sample())
    assert render_threads() == threads + 2  # a real pool, or this test proves nothing
    env.close()
    assert render_threads() == threads
    assert resources()["fds"] <= before["fds"]


def test_short_soak_reports_and_cleans_up(tmp_path, capsys):
    rig = write_panorama_rig(tmp_path / "rig.yaml", 8)
    out = tmp_path / "soak.json"
    code = main(["bench", "--soak", "--steps", "60", "--warmup", "40", "--kinds", "home",
                 "--rig", rig, "--out", str(out)])  # fmt: skip
    report = json.loads(out.read_text())
    assert report["counts"]["steps"] == 60 and report["counts"]["resets"] >= 2
    assert {"rss", "fds", "threads", "render_threads"} <= set(report["after_warmup"])
    checks = report["checks"]
    assert checks["render_threads_released"] and checks["fds_flat"], checks
    assert code == (0 if report["passed"] else 1)
    assert "resident memory" in capsys.readouterr().out


def test_soak_config_refuses_bad_numbers():
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        SoakConfig(steps=0)
    with pytest.raises(ValueError, match="stop_fraction"):
        SoakConfig(stop_fraction=2.0)


@pytest.mark.slow
@pytest.mark.timeout(6 * 3600)
def test_soak_100k_steps_no_leaks(tmp_path):
    """The issue's figure: 100,000 steps, every scene kind, both bodies, every task."""
    report = run_soak(SoakConfig(), tmp_path / "soak.json", progress=False)
    assert report["counts"]["steps"] == 100_000
    assert report["rss_growth"] < 0.05, report["rss_growth"]
    assert report["passed"], report["checks"]
