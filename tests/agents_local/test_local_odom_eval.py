"""Odometry evaluation: evo metrics on known errors, the summary file, data windows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from astra_sim.agents.astra_local.odometry_data import (
    OdometryChunks,
    OdometryEpisode,
    downsample,
    window_indices,
)
from astra_sim.eval.odometry import dead_reckoning_predictor, evaluate, trajectory_errors

pytest.importorskip("evo")


def straight_episode(steps: int = 120, v: float = 0.8) -> OdometryEpisode:
    """Straight at v m/s: 0.08 m a step; wheel and IMU consistent with it."""
    pose = np.zeros((steps, 3))
    pose[:, 0] = np.arange(steps) * v * 0.1
    wheel = np.full((steps, 10, 2), v * 0.01 / 0.05, np.float32)
    wheel[0] = 0
    imu = np.zeros((steps, 20, 6), np.float32)
    rgb = np.zeros((steps, 4, 8, 8, 3), np.uint8)
    return OdometryEpisode(rgb, imu, wheel, pose)


def test_window_indices_pad_the_episode_start():
    frames, rows, mask = window_indices(2, 4)
    assert mask.tolist() == [False, False, True, True]
    assert rows.tolist() == [1, 1, 1, 2]
    assert frames.tolist() == [0, 0, 0, 1, 2]


def test_chunks_hold_consistent_targets():
    ep = straight_episode(20)
    batch = OdometryChunks([ep], 5).batch([(0, 10)])
    assert batch["rgb"].shape == (1, 6, 4, 8, 8, 3)
    assert batch["imu"].shape == (1, 5, 20, 6) and batch["wheel"].shape == (1, 5, 10, 2)
    assert np.allclose(batch["target"][0].numpy(), [[0.08, 0, 0]] * 5, atol=1e-6)
    assert OdometryChunks([ep], 5).episode(0)["target"].shape == (1, 19, 3)


def test_downsample_averages_blocks():
    img = np.zeros((1, 4, 4, 3), np.uint8)
    img[0, :2, :2] = 200
    assert downsample(img, 2)[0, 0, 0].tolist() == [200] * 3
    assert downsample(img, 2)[0, 1, 1].tolist() == [0] * 3


def test_scaled_translation_gives_its_rte():
    ep = straight_episode()
    est = ep.pose.copy()
    est[:, 0] *= 1.02  # 2 % too long
    err = trajectory_errors(ep.pose, est, segment=2.0)
    assert np.isclose(err["rpe_t"].mean() / 2.0 * 100, 2.0, atol=0.1)
    assert np.allclose(err["rpe_r"], 0.0, atol=1e-6)


def test_summary_has_the_documented_shape(tmp_path):
    eps = [straight_episode(), straight_episode(80)]
    summary = evaluate(
        {"wheel": dead_reckoning_predictor(False), "truth": lambda ep: ep.targets},
        eps,
        tmp_path,
        segment=2.0,
    )
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == summary
    for name in ("wheel", "truth"):
        assert set(on_disk[name]) == {"rte_percent", "rre_deg_per_10m", "ate_m"}
        assert on_disk[name]["rte_percent"] < 1e-4
    assert (tmp_path / "table.md").read_text().startswith("| method")


def test_bad_predictor_output_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="expected"):
        evaluate({"bad": lambda ep: np.zeros((3, 3))}, [straight_episode()], tmp_path)
