"""Each GRPO reward gives the hand-computed value on hand-made completions."""

from __future__ import annotations

import json
import math

import pytest

from astra_sim.agents.astra_global.mllm import rewards as R
from astra_sim.agents.astra_global.mllm.grpo import GRPORecipe, grpo_rewards

TRUE_MARKS = [
    {"category": "sofa", "colour": "orange", "text": ""},
    {"category": "door", "colour": "white", "text": ""},
    {"category": "door", "colour": "white", "text": ""},
    {"category": "sign", "colour": "", "text": "ROOM 202"},
]
POSES = {1: [0.0, 0.0, 0.0], 2: [0.5, 0.0, 0.0], 5: [3.0, 4.0, math.pi / 2], 6: [1.0, 0.0, 0.0]}
TRUE_POSE = [0.0, 0.0, 0.0]


def coarse(marks, ids) -> str:
    return json.dumps({"landmarks": marks, "map_ids": ids})


def columns(n: int, ids=(1, 2)) -> dict:
    return {
        "task": ["coarse"] * n,
        "true_landmarks": [json.dumps(TRUE_MARKS)] * n,
        "true_map_ids": [list(ids)] * n,
        "true_pose": [TRUE_POSE] * n,
        "landmark_poses": [json.dumps(POSES)] * n,
    }


def test_format_reward() -> None:
    comps = [coarse([], []), '{"landmarks": [', "garbage", '{"score": 0.3}']
    assert R.format_reward(comps) == [1.0, 0.0, 0.0, 0.0]
    assert R.format_reward(comps, task=["coarse", "coarse", "covis", "covis"]) == [1, 0, 0, 1]


def test_landmark_reward_hand_computed() -> None:
    one_door_sofa = [
        {"category": "Sofa", "colour": "Orange"},
        {"category": "door", "colour": "white"},
    ]
    two_doors = [{"category": "door", "colour": "white"}] * 3  # only two are true
    sign = [{"category": "sign", "text": "room 202"}, {"category": "sofa", "colour": "red"}]
    comps = [coarse(one_door_sofa, []), coarse(two_doors, []), coarse(sign, []), "oops"]
    got = R.landmark_reward(comps, **columns(4))
    assert got == pytest.approx([2 / 4, 2 / 4, 1 / 4, 0.0])
    assert R.landmark_recall([], []) == 1.0 and R.landmark_recall([{"category": "x"}], []) == 0.0


def test_map_reward_hand_computed() -> None:
    comps = [coarse([], [1, 2]), coarse([], [1]), coarse([], [1, 7, 8]), coarse([], []), "{"]
    got = R.map_reward(comps, **columns(5))
    assert got == pytest.approx([1.0, 1 / 2, 1 / 4, 0.0, 0.0])
    assert R.id_iou([], []) == 1.0


def test_extra_reward_hand_computed() -> None:
    f = R.make_extra_reward(lam=1.0, w_d=0.5, w_theta=0.5)
    assert f.__name__ == "extra_reward"
    comps = [
        coarse([], [1, 2]),  # no extras: nothing to weigh
        coarse([], [1, 6]),  # extra 6 places the robot 1 m off, same heading
        coarse([], [1, 5]),  # extra 5: 5 m and 90 degrees off
        coarse([], [5, 6, 99]),  # 99 is on no map: scores 0
        "not json",
    ]
    e1 = math.exp(-0.5 * 1.0)
    e5 = math.exp(-(0.5 * 5.0 + 0.5 * math.pi / 2))
    got = f(comps, **columns(5))
    assert got == pytest.approx([1.0, e1, e5, (e5 + e1 + 0.0) / 3, 0.0])
    g = R.make_extra_reward(lam=2.0, w_d=1.0, w_theta=0.0)
    assert g([coarse([], [5])], **columns(1))[0] == pytest.approx(math.exp(-2.0 * 5.0))


def test_covis_reward_and_filter_sum() -> None:
    comps = ['{"score": 0.5}', '{"score": 0.7}', '{"score": 2}', "x"]
    cols = {"covis_true": [0.7, 0.7, 0.7, 0.7], "task": ["covis"] * 4}
    assert R.covis_reward(comps, **cols) == pytest.approx([0.8, 1.0, 0.0, 0.0])
    fmt = R.format_reward(comps, **cols)
    lam = 0.5
    total = [a + lam * b for a, b in zip(fmt, R.covis_reward(comps, **cols), strict=True)]
    assert total == pytest.approx([1.4, 1.5, 0.0, 0.0])


def test_conversational_completions() -> None:
    comps = [[{"role": "assistant", "content": coarse([], [1, 2])}]]
    assert R.map_reward(comps, **columns(1)) == [1.0]


def test_missing_column_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="true_map_ids"):
        R.map_reward([coarse([], [])])


@pytest.mark.parametrize(("lam", "w_d", "w_theta"), [(-1, 0.5, 0.5), (1, 0.7, 0.7), (1, -0.5, 1.5)])
def test_bad_weights(lam, w_d, w_theta) -> None:
    with pytest.raises(ValueError):
        R.make_extra_reward(lam, w_d, w_theta)


def test_grpo_mixture_rewards_skip_other_stage_rows() -> None:
    funcs, weights = grpo_rewards(GRPORecipe(stages=["coarse", "filter"]))
    names = [f.__name__ for f in funcs]
    assert names == [
        "coarse_format_reward", "coarse_landmark_reward", "coarse_map_reward",
        "coarse_extra_reward", "covis_format_reward", "covis_covis_reward",
    ]  # fmt: skip
    assert weights == [1.0] * 6
    cols = columns(2) | {"task": ["coarse", "covis"], "covis_true": [0.0, 0.5]}
    comps = [coarse([], [1, 2]), '{"score": 0.5}']
    by_name = {f.__name__: f(comps, **cols) for f in funcs}
    assert by_name["coarse_map_reward"] == [1.0, None]
    assert by_name["covis_covis_reward"] == [None, 1.0]
    assert by_name["covis_format_reward"] == [None, 1.0]
