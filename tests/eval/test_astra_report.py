"""The report of ``astra-sim eval astra`` on hand-made episodes, and its episode pictures."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from astra_sim.eval.astra_pictures import episode_animation, episode_picture
from astra_sim.eval.astra_report import (
    ABLATION_ORDER,
    FAILURES,
    PAPER_TABLE1,
    format_astra_summary,
    summarize_astra,
    write_astra_report,
)
from astra_sim.eval.nav import ReportExistsError


def _episode(index: int, row: str = "none", kind: str = "office", **kw) -> dict:
    success = kw.pop("success", 1)
    base = {
        "episode_index": index,
        "ablation": row,
        "scene_kind": kind,
        "scene_seed": 0,
        "task": "languagenav",
        "instruction": "go to the printer",
        "geodesic_distance": 8.0,
        "steps": 120,
        "success": success,
        "spl": 0.8 * success,
        "soft_spl": 0.8,
        "path_length": 10.0,
        "collisions": 0,
        "time": 12.0,
        "outcome": "success" if success else "timeout",
        "goal_localized": True,
        "self_localized": True,
        "max_pose_error_m": 0.3,
        "fallback_rate": 0.0,
        "plans": 10,
        "fallbacks": 0,
        "fixes_accepted": 3,
        "fixes_rejected": 1,
        "cost_ms": {"odometry": 2.0, "planner": 8.0, "fusion": 0.1, "localizer": 40.0},
    }
    return {**base, **kw}


def _episodes() -> list[dict]:
    """Three office episodes of the real agent, two of them successes, and oracle rows."""
    none = [
        _episode(0, plans=10, fallbacks=1, collisions=2),
        _episode(1, plans=2, fallbacks=2, cost_ms={"odometry": 4.0, "planner": None}),
        _episode(2, success=0, outcome="lost", self_localized=False, plans=8, collisions=1),
    ]
    goal = [_episode(i, "goal") for i in range(3)]
    wrong = _episode(0, "goal+start", "home", success=0, outcome="goal_wrong")
    return [goal[2], *none[::-1], wrong, *goal[:2], _episode(1, "goal+start", "home")]


def test_ladder_names_match_the_agent_and_the_scorer():
    from astra_sim.agents.astra.config import ORACLE_LADDER
    from astra_sim.eval.astra_outcome import CAUSES

    assert ABLATION_ORDER == ("none", "goal", "goal+start", "goal+start+pose", "all")
    assert tuple(ORACLE_LADDER) == ABLATION_ORDER
    assert FAILURES == CAUSES


def test_summary_headline_is_the_no_oracle_row_pooled():
    s = summarize_astra(_episodes())
    assert s["headline_row"] == "none"
    office = s["office"]
    assert office["episodes"] == 3
    assert office["end_to_end_sr"] == 0.6667  # the all-success oracle row does not leak in
    assert office["goal_localization_sr"] == 1.0
    assert office["self_localization_sr"] == 0.6667
    assert office["fallback_rate"] == 0.15  # 3 fallbacks / 20 plans, not the mean 0.3667
    assert office["collisions_per_m"] == 0.1  # 3 collisions / 30 m
    assert office["spl"] == round(1.6 / 3, 4)
    assert "home" not in s  # home was played by an oracle row only
    assert list(s["ablations"]) == ["none", "goal", "goal+start"]
    assert s["ablations"]["goal"]["office"]["end_to_end_sr"] == 1.0
    assert s["ablations"]["goal+start"]["home"]["end_to_end_sr"] == 0.5
    assert s["failures"]["none"]["office"] == {c: int(c == "lost") for c in FAILURES}
    assert s["failures"]["goal"]["office"] == dict.fromkeys(FAILURES, 0)
    assert s["failures"]["goal+start"]["home"]["goal_wrong"] == 1
    # Means over the no-oracle row, a missing or null cost ignored.
    assert s["cost_ms"] == {"fusion": 0.1, "localizer": 40.0, "odometry": 2.6667, "planner": 8.0}


def test_summary_without_the_no_oracle_row_names_its_headline():
    s = summarize_astra([e for e in _episodes() if e["ablation"] != "none"])
    assert s["headline_row"] == "goal"
    assert s["office"]["end_to_end_sr"] == 1.0
    assert "no result" in format_astra_summary(s)
    with pytest.raises(ValueError, match="no episodes"):
        summarize_astra([])


def test_markdown_sets_the_paper_beside_ours():
    text = format_astra_summary(summarize_astra(_episodes()), title="# eval astra")
    assert text.startswith("# eval astra")
    office = next(line for line in text.splitlines() if line.startswith("| office |"))
    assert office.split(" | ")[1:3] == ["0.991", "0.667"]  # paper end-to-end, ours
    warehouse = next(line for line in text.splitlines() if line.startswith("| warehouse |"))
    assert "0.842" in warehouse and "0.983" in warehouse  # the paper's row, even unplayed
    assert PAPER_TABLE1["warehouse"]["fallback_rate"] == 0.083
    assert "home" not in PAPER_TABLE1
    assert "not results" in text  # the ladder's caption
    assert "| `goal+start` | home | 2 | 0 | 1 |" in text  # failures: row, kind, episodes ...
    assert "localization fix" in text and "control step" in text


def test_write_report_writes_every_file_and_refuses_another_recipe(tmp_path):
    out = tmp_path / "report"
    pictures = {"episode_0003.png": b"png", "episode_0003.gif": b"gif"}
    summary = write_astra_report(out, _episodes(), {"agent": "astra"}, "t", pictures)
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert names == {
        "episodes.jsonl", "summary.json", "summary.md", "recipe.json", "ladder.png",
        "pictures/episode_0003.png", "pictures/episode_0003.gif",
    }  # fmt: skip
    lines = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert [(e["ablation"], e["episode_index"]) for e in lines] == [
        ("none", 0), ("none", 1), ("none", 2), ("goal", 0), ("goal", 1), ("goal", 2),
        ("goal+start", 0), ("goal+start", 1),
    ]  # fmt: skip
    assert json.loads((out / "summary.json").read_text()) == summary
    assert Image.open(out / "ladder.png").size[0] > 400
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ReportExistsError):
        write_astra_report(out, _episodes()[:2], {"agent": "other"}, pictures={"x.png": b"x"})
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    write_astra_report(out, _episodes(), {"agent": "astra"})  # the same recipe: rewritten
    with pytest.raises(ValueError, match="plain file name"):
        write_astra_report(tmp_path / "b", _episodes(), {}, pictures={"../x.png": b"x"})
    assert not (tmp_path / "b").exists()


@pytest.fixture(scope="module")
def grid():
    from astra_sim.scenes import generate_scene

    return generate_scene("home", 0).navgrid()


def _trace(grid, steps: int = 300) -> dict:
    """A hand-made episode: a straight drive between two navigable points, drifting."""
    rng = np.random.default_rng(0)
    a, b = grid.sample_navigable(rng, 2)
    true = a + np.linspace(0, 1, steps)[:, None] * (b - a)
    est = true + np.cumsum(rng.normal(0, 0.01, true.shape), axis=0)
    nodes = np.stack([a, (a + b) / 2, b])
    return {
        "true_xy": true.tolist(),
        "est_pose": [None] * 3 + [[x, y, 0.1] for x, y in est[3:].tolist()],
        "map_nodes": nodes.tolist(),
        "map_edges": [[0, 1], [1, 2]],
        "route": [0, 1, 2],
        "subgoals": nodes[1:].tolist(),
        "fixes": [
            {"t": 2, "pose": None, "accepted": False},
            {"t": 3, "pose": [*true[3].tolist(), 0.1], "accepted": True},
            {"t": 150, "pose": [*(true[150] + 0.7).tolist(), 0.0], "accepted": False},
        ],
        "goal_positions": (b + rng.normal(0, 0.2, (5, 2))).tolist(),
        "goal_estimate": [*b.tolist(), 1.0],
        "start_true": [*a.tolist(), 0.0],
        "outcome": "stopped_short",
        "title": "home 0: go to the sink",
    }


def test_episode_picture_is_a_png_of_the_map(grid):
    image = Image.open(io.BytesIO(episode_picture(grid, _trace(grid))))
    assert image.format == "PNG"
    width, height = image.size
    assert grid.shape[1] <= width <= 4000 and grid.shape[0] < height <= 4000
    bare = {"true_xy": _trace(grid)["true_xy"][:1], "est_pose": [None], "route": [],
            "goal_estimate": None, "outcome": "goal_not_found", "title": ""}  # fmt: skip
    assert Image.open(io.BytesIO(episode_picture(grid, bare))).size == image.size


def test_episode_animation_has_the_requested_frames(grid):
    data = episode_animation(grid, _trace(grid), frames=12)
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.n_frames == 12
    assert len(episode_animation(grid, _trace(grid))) < 2_000_000  # 40 frames, 300 steps
    with pytest.raises(ValueError, match="frames"):
        episode_animation(grid, _trace(grid), frames=0)
