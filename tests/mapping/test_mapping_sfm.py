"""SfM node poses (pycolmap): alignment math, and maps built with ``pose_source="sfm"``."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from conftest import SMALL, cached_scene

from astra_sim.mapping import MapConfig, TopoSemanticMap, build_map
from astra_sim.mapping.sfm import align_to_map, umeyama


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q @ np.diag(np.sign(np.diag(r)))
    return q if np.linalg.det(q) > 0 else -q


def test_umeyama_recovers_a_known_similarity_exactly():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(20, 3))
    r, s, t = _rotation(rng), 0.37, np.array([1.0, -2.0, 3.5])
    dst = s * src @ r.T + t
    s2, r2, t2 = umeyama(src, dst)
    assert s2 == pytest.approx(s) and np.allclose(r2, r) and np.allclose(t2, t)
    aligned, _ = align_to_map(src, dst)
    assert np.allclose(aligned, dst)


def test_planar_alignment_with_up_fixes_the_free_rotation_of_a_straight_line():
    """Collinear robot positions leave the roll about the line free; knowing up fixes it."""
    rng = np.random.default_rng(1)
    gt = np.c_[np.linspace(0, 5, 12), np.full(12, 2.0), np.zeros(12)]  # a straight corridor
    r, s, t = _rotation(rng), 2.5, rng.normal(size=3)
    sfm = (gt - t) @ r / s  # the inverse similarity: gt = s R sfm + t
    aligned, (s2, r2, t2) = align_to_map(sfm, gt, up=r.T @ [0.0, 0.0, 1.0])
    assert np.allclose(aligned, gt) and s2 == pytest.approx(s)
    assert np.allclose(r2, r) and np.allclose(t2, t)


def test_alignment_rejects_degenerate_input():
    with pytest.raises(ValueError, match="coincide"):
        umeyama(np.ones((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="N >= 2"):
        umeyama(np.zeros((1, 3)), np.zeros((1, 3)))


def test_build_map_without_pycolmap_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pycolmap(name, *args, **kwargs):
        if name == "pycolmap":
            raise ImportError("No module named 'pycolmap'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pycolmap)
    with pytest.raises(ImportError, match=r"pip install 'astra-sim\[vision\]'"):
        build_map(cached_scene("home", 0), MapConfig(pose_source="sfm", max_steps=5))


@functools.cache
def sfm_map(**overrides) -> TopoSemanticMap:
    pytest.importorskip("pycolmap")
    config = MapConfig(spacing=4.0, travel=1.0, turn_deg=60.0, pose_source="sfm", **overrides)
    return build_map(cached_scene("home", 0, **SMALL["home"]), config)


def _check_sfm_map(m: TopoSemanticMap, min_registered: float, max_ate: float, max_yaw: float):
    stats = m.metadata["sfm"]
    assert json.loads(json.dumps(stats)) == stats  # saved with the map as it is
    assert stats["registered_nodes"] == len(m.nodes) > 0
    assert stats["registered_nodes"] + stats["dropped_nodes"] == stats["nodes"]
    assert stats["registered_nodes"] >= min_registered * stats["nodes"], stats
    assert 0 < stats["mean_reprojection_error_px"] < 2.0
    assert stats["ate_rmse_m"] <= max_ate and stats["yaw_error_median_deg"] <= max_yaw, stats
    assert stats["seconds"] > 0 and stats["frames"] >= stats["nodes"]
    # node poses are the aligned SfM ones: close to, but not exactly, the ground truth
    for node in m.nodes:
        assert np.all(np.isfinite(node.pose)) and node.pose[2] == pytest.approx(0.5)
    steps = [n.step for n in m.nodes]
    assert steps == sorted(steps)
    assert m.metadata["config"]["pose_source"] == "sfm"


def test_sfm_map_of_a_short_tour_is_close_to_ground_truth():
    """The first room of the tour: SfM chains it and lands within decimetres of the truth."""
    m = sfm_map(max_steps=120)
    _check_sfm_map(m, min_registered=0.8, max_ate=0.15, max_yaw=2.0)


@pytest.mark.slow
def test_sfm_map_of_the_whole_home():
    m = sfm_map()
    _check_sfm_map(m, min_registered=0.3, max_ate=1.0, max_yaw=5.0)
    assert math.isfinite(m.metadata["sfm"]["scale"])


def test_cli_passes_pose_source_into_the_config(tmp_path, monkeypatch):
    import argparse

    from astra_sim.cli import map as map_cli
    from astra_sim.mapping import build as build_module

    parser = argparse.ArgumentParser(prog="astra-sim")
    map_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    cached_scene("home", 0).save(tmp_path / "scene")
    argv = ["map", "build", "--scene", str(tmp_path / "scene"), "--out", str(tmp_path / "m")]
    seen = []

    class Stop(Exception):
        pass

    def fake_build_map(scene, config):
        seen.append(config)
        raise Stop  # before the tour: only the config matters here

    monkeypatch.setattr(build_module, "build_map", fake_build_map)
    for source in ("gt", "sfm"):
        args = parser.parse_args([*argv, "--pose-source", source])
        with pytest.raises(Stop):
            args.func(args)
    assert [c.pose_source for c in seen] == ["gt", "sfm"]
    assert parser.parse_args(argv).pose_source == "gt"
    with pytest.raises(SystemExit):
        parser.parse_args([*argv, "--pose-source", "slam"])
