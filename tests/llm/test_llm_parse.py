"""The answer parser: valid, wrapped, truncated and garbage outputs; it never raises."""

from __future__ import annotations

import json

import numpy as np
import pytest

from astra_sim.agents.astra_global.mllm import prompts
from astra_sim.agents.astra_global.mllm.parse import completion_text, extract_json, parse_answer

VALID = {
    "coarse": prompts.coarse_answer(
        [{"category": "sofa", "colour": "orange"}, {"category": "sign", "text": "ROOM 2"}], [4, 7]
    ),
    "covis": prompts.covis_answer(0.42),
    "select": prompts.select_answer(2),
    "fine": prompts.fine_answer([1.234, -3.5, 0.79]),
    "motion": prompts.motion_answer([0.5, -0.1, 0.3]),
    "goal": prompts.goal_answer([3, 3, 9]),
}


@pytest.mark.parametrize("task", list(VALID))
def test_valid_answers_parse(task: str) -> None:
    p = parse_answer(task, VALID[task])
    assert p.ok, p.error
    again = parse_answer(task, "Sure! Here it is:\n```json\n" + VALID[task] + "\n```\nDone.")
    assert again.ok and again.value == p.value


def test_values_are_checked_and_normalised() -> None:
    c = parse_answer("coarse", VALID["coarse"]).value
    assert c["map_ids"] == [4, 7]
    assert c["landmarks"][0] == {"category": "sofa", "colour": "orange", "text": ""}
    assert parse_answer("goal", VALID["goal"]).value == {"map_ids": [3, 9]}  # duplicates dropped
    assert parse_answer("fine", VALID["fine"]).value == {"x": 1.23, "y": -3.5, "yaw": 0.79}
    assert parse_answer("covis", VALID["covis"]).value == {"score": 0.42}


@pytest.mark.parametrize("task", list(VALID))
def test_truncated_answers_fail(task: str) -> None:
    text = VALID[task]
    for cut in range(len(text) - 1):
        p = parse_answer(task, text[:cut])
        assert not p.ok and p.error


@pytest.mark.parametrize(
    ("task", "text"),
    [
        ("coarse", '{"landmarks": "sofa", "map_ids": [1]}'),
        ("coarse", '{"landmarks": [{"colour": "red"}], "map_ids": [1]}'),
        ("coarse", '{"landmarks": [], "map_ids": [1.5]}'),
        ("coarse", '{"landmarks": [], "map_ids": [-1]}'),
        ("coarse", '{"landmarks": [], "map_ids": [true]}'),
        ("covis", '{"score": 1.5}'),
        ("covis", '{"score": "high"}'),
        ("covis", '{"score": NaN}'),
        ("select", '{"index": -1}'),
        ("fine", '{"x": 1, "y": 2}'),
        ("fine", '{"x": 1, "y": 2, "yaw": Infinity}'),
        ("motion", '{"dx": 1, "dy": 2, "dyaw": null}'),
        ("goal", '{"ids": [1]}'),
        ("nonsense", '{"x": 1}'),
    ],
)
def test_schema_violations_fail(task: str, text: str) -> None:
    p = parse_answer(task, text)
    assert not p.ok and p.error


def test_first_fitting_object_is_taken() -> None:
    p = parse_answer("covis", '{"note": "thinking"} then {"score": 0.25}')
    assert p.ok and p.value == {"score": 0.25}


@pytest.mark.parametrize(
    "garbage",
    ["", "   ", "\n\n\n", "no json here", "{{{{", "}{", "[1, 2, 3]", '"{"', None, 123, 4.5,
     b"{}", {"role": "assistant"}, [None], "{" * 5000, '{"a": ' * 3000],
)  # fmt: skip
def test_garbage_never_raises(garbage) -> None:
    for task in [*VALID, "unknown"]:
        p = parse_answer(task, garbage)
        assert not p.ok and isinstance(p.error, str)


def test_random_bytes_never_raise() -> None:
    rng = np.random.default_rng(0)
    alphabet = [*'{}[]":,0123456789.-eE abcxyz\\n', "map_ids", "landmarks", "score"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet, size=int(rng.integers(0, 60))))
        for task in VALID:
            parse_answer(task, text)  # must not raise


def test_chat_message_completions() -> None:
    msg = [{"role": "assistant", "content": VALID["select"]}]
    assert parse_answer("select", msg).value == {"index": 2}
    parts = [{"role": "assistant", "content": [{"type": "text", "text": VALID["select"]}]}]
    assert completion_text(parts) == VALID["select"]
    assert parse_answer("select", parts).ok


def test_extract_json_finds_every_object() -> None:
    objs = extract_json('a {"x": 1} b {"y": [2]} {bad} {"z": {"w": 3}}')
    assert objs == [{"x": 1}, {"y": [2]}, {"z": {"w": 3}}]
    assert json.loads(VALID["coarse"]) == extract_json(VALID["coarse"])[0]
