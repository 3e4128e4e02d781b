"""The planning results table from eval nav report folders."""

import json

import pytest

from astra_sim.agents.astra_local.plan_table import format_table, planner_rows


def test_rows_per_kind_and_overall(tmp_path):
    episodes = [
        {"scene_kind": "home", "collisions": 0, "success": 1.0, "path_length": 4.0, "time": 8.0},
        {"scene_kind": "home", "collisions": 3, "success": 0.0, "path_length": 2.0, "time": 8.0},
        {"scene_kind": "office", "collisions": 0, "success": 1.0, "path_length": 6.0, "time": 10.0},
    ]
    (tmp_path / "episodes.jsonl").write_text("\n".join(json.dumps(e) for e in episodes) + "\n")
    rows = planner_rows("flow", tmp_path)
    by_kind = {r["scenes"]: r for r in rows}
    assert by_kind["home"]["collision_rate"] == 0.5 and by_kind["home"]["success"] == 0.5
    assert by_kind["home"]["mean_speed"] == pytest.approx(0.375)
    assert by_kind["all"]["episodes"] == 3
    assert by_kind["all"]["collision_rate"] == pytest.approx(1 / 3)
    assert planner_rows("flow", tmp_path, tmp_path)[-1]["episodes"] == 6  # folders pool
    table = format_table(rows)
    assert table.count("\n") == 2 + 2  # header, rule, home, office, all


def test_paired_comparison_counts_discordant_episodes():
    from astra_sim.agents.astra_local.plan_table import paired

    a = [{"episode_id": f"e{i}", "collisions": int(i < 12)} for i in range(20)]
    b = [{"episode_id": f"e{i}", "collisions": int(i < 2)} for i in range(20)]
    b.append({"episode_id": "only-b", "collisions": 1})  # not common: ignored
    r = paired(a, b)
    assert r["episodes"] == 20
    assert r["collision_rate_a"] == 0.6 and r["collision_rate_b"] == 0.1
    assert (r["only_a_collided"], r["only_b_collided"]) == (10, 0)
    assert r["mcnemar_p"] == pytest.approx(2 * 0.5**10)  # exact two-sided binomial
    assert paired(a, a)["mcnemar_p"] == 1.0
    with pytest.raises(ValueError, match="no episode"):
        paired(a, [{"episode_id": "x", "collisions": 0}])
