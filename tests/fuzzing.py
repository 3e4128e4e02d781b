"""Shared strategies of the fuzz tests: mutated JSON documents, damaged text, and the rule
every reader must keep (our named error, or accepted; never a bare exception).

Each fuzz test starts from a file the project wrote itself and damages it the ways files
get damaged: a key dropped, a value of the wrong type or size, NaN and huge numbers,
nesting where a scalar belongs, a truncated or garbled byte stream. Examples are bounded
(``FUZZ``) so the whole fuzz set stays well under a minute in the default run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CHEAP = 300
"""Examples for a reader that takes milliseconds; slower targets pass their own count."""
FUZZ = settings(
    max_examples=CHEAP,
    deadline=None,  # pytest-timeout catches a hang; one slow example is not a bug
    derandomize=True,  # the same examples on every machine: a failure reproduces in CI
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=6,
)


def paths(doc: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path (tuple of keys and indices) into a JSON tree, the root included."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:8]):  # long arrays: their first items are enough
            yield from paths(value, (*prefix, i))


def edge_of(value: Any) -> st.SearchStrategy:
    """Values of the same JSON type at its edges: what a near-miss writer produces."""
    if isinstance(value, bool):
        return st.sampled_from((not value, 0, 1, "true"))
    if isinstance(value, int):
        return st.sampled_from((-1, -value - 1, 0, 2**31, 2**63, 10**30, float(value)))
    if isinstance(value, float):
        return st.sampled_from((float("nan"), float("inf"), -float("inf"), -value, 0.0, 1e308))
    if isinstance(value, str):
        return st.sampled_from(("", " ", value * 50, "\u00e9\u2603", "null", value[:-1]))
    if isinstance(value, list):
        return st.sampled_from(([], value[:1], value * 3, [value]))
    if isinstance(value, dict):
        return st.sampled_from(({}, [value], list(value)))
    return JSON_VALUES


@st.composite
def mutated(draw: Callable, doc: Any, max_edits: int = 3) -> Any:
    """``doc`` with 1..max_edits edits: a value replaced, a key or item removed, a key added."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, max_edits))):
        where = draw(st.sampled_from(sorted(paths(doc), key=repr)))
        if not where:
            doc = draw(JSON_VALUES)
            continue
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        key = where[-1]
        action = draw(st.sampled_from(("edge", "edge", "replace", "remove", "add")))
        if action == "edge":
            parent[key] = draw(edge_of(parent[key]))
        elif action == "replace":
            parent[key] = draw(JSON_VALUES)
        elif action == "remove":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=5))] = draw(JSON_VALUES)
        else:
            parent.insert(key, draw(JSON_VALUES))
    return doc


@st.composite
def damaged_bytes(draw: Callable, good: bytes) -> bytes:
    """A truncated, garbled or spliced version of ``good`` (or random bytes)."""
    kind = draw(st.sampled_from(("truncate", "flip", "splice", "random")))
    if kind == "random":
        return draw(st.binary(max_size=64))
    at = draw(st.integers(0, max(len(good) - 1, 0)))
    if kind == "truncate":
        return good[:at]
    if kind == "flip":
        return good[:at] + bytes([good[at] ^ draw(st.integers(1, 255))]) + good[at + 1 :]
    return good[:at] + draw(st.binary(min_size=1, max_size=8)) + good[at:]


@st.composite
def damaged_json(draw: Callable, doc: Any) -> bytes:
    """Mostly a structurally mutated document (NaN written as JSON's NaN token), sometimes
    damaged bytes of the valid one."""
    if draw(st.integers(0, 3)) == 0:
        return draw(damaged_bytes(json.dumps(doc).encode()))
    return json.dumps(draw(mutated(doc)), allow_nan=True).encode()


class Tally:
    """Per fuzz target: examples run, accepted and refused (the figures the docs quote)."""

    counts: ClassVar[dict[str, dict[str, int]]] = {}

    @classmethod
    def record(cls, target: str, outcome: str) -> None:
        entry = cls.counts.setdefault(target, {"examples": 0, "accepted": 0, "refused": 0})
        entry["examples"] += 1
        entry[outcome] += 1

    @classmethod
    def assert_both_outcomes(cls, target: str, *others: str) -> None:
        """The fuzz test of ``target`` (run earlier in the session) hit both an accepted and a
        refused case: a strategy that only ever breaks, or never does, tests one path only.
        Prints the tallies of ``target`` and ``others`` (``pytest -s``) for the docs."""
        import pytest

        counts = cls.counts.get(target)
        if counts is None:
            pytest.skip(f"run with the {target} fuzz test")
        print(target, counts, *(f"{o} {cls.counts.get(o)}" for o in others))
        assert counts["accepted"] > 0 and counts["refused"] > 0, counts


def expect_named(
    target: str,
    fn: Callable[[], Any],
    named: type | tuple,
    check: Callable[[Exception], None] | None = None,
) -> Any:
    """Run ``fn``: accepted (its result) or refused with ``named`` (which ``check`` may
    inspect further); anything else escapes and fails the test with hypothesis's minimal
    example."""
    try:
        result = fn()
    except named as e:
        assert str(e), f"{target}: {type(e).__name__} with an empty message"
        if check is not None:
            check(e)
        Tally.record(target, "refused")
        return None
    Tally.record(target, "accepted")
    return result


def tiny_scene() -> Any:
    """A 4 m x 3 m room (floor slab and four walls) with one sofa and one room polygon: a
    scene.json with every section filled, whose GLB loads in milliseconds."""
    import numpy as np

    from astra_sim.scenes.model import Instance, Material, Room, Scene

    boxes = [((-0.2, -0.2, -0.1), (4.2, 3.2, 0.0)), ((-0.1, -0.1, 0), (0.0, 3.1, 1)),
             ((4.0, -0.1, 0), (4.1, 3.1, 1)), ((0, -0.1, 0), (4, 0, 1)), ((0, 3, 0), (4, 3.1, 1)),
             ((1.5, 1.0, 0), (2.5, 1.6, 0.5))]  # fmt: skip
    faces_one = np.array(
        [
            [4, 5, 7],
            [4, 7, 6],
            [0, 2, 3],
            [0, 3, 1],
            [0, 1, 5],
            [0, 5, 4],
            [2, 6, 7],
            [2, 7, 3],
            [0, 4, 6],
            [0, 6, 2],
            [1, 3, 7],
            [1, 7, 5],
        ]
    )
    vertices, faces = [], []
    for i, (lo, hi) in enumerate(boxes):
        c = (lo, hi)
        vertices.append([[c[j & 1][0], c[(j >> 1) & 1][1], c[j >> 2][2]] for j in range(8)])
        faces.append(faces_one + 8 * i)
    v, f = np.array(vertices, float).reshape(-1, 3), np.concatenate(faces)
    sofa = np.arange(len(f)) >= 12 * 5
    return Scene(
        vertices=v,
        faces=f,
        uv=np.zeros((len(v), 2)),
        face_instance=np.where(sofa, 1, 0).astype(np.int32),
        face_material=np.where(sofa, 1, 0).astype(np.int32),
        instances=[
            Instance(0, "void"),
            Instance(
                1,
                "sofa",
                room=0,
                name="red sofa",
                attributes={"colour": "red"},
                description="somewhere to rest",
                landmark=True,
                position=(2.0, 1.3, 0.0),
                size=(1.0, 0.6, 0.5),
            ),
        ],
        rooms=[Room(0, "living_room", "living room", [(0, 0), (4, 0), (4, 3), (0, 3)])],
        materials=[
            Material(0, "plain", "plain", "grey", 1.0, np.full((2, 2, 3), 128, np.uint8)),
            Material(1, "red", "fabric", "red", 0.5, np.full((2, 2, 3), (200, 0, 0), np.uint8)),
        ],
        metadata={"kind": "tiny_room", "seed": 0},
    )
