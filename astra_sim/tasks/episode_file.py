"""The episode file format: versioned JSON with every float rounded to 1e-4, so a file
read back equals what was written, and a parser that names the first malformed field and
where it is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from astra_sim.core.errors import AstraSimError
from astra_sim.tasks.episode import TASKS, Episode
from astra_sim.tasks.goals import Goal

FORMAT = "astra-sim-episodes"
VERSION = 1


class EpisodeFormatError(AstraSimError, ValueError):
    """An episode file is unreadable, truncated, or holds a malformed episode."""


def rounded(obj: Any, digits: int | None = 4) -> Any:
    """obj with every float rounded to `digits` decimals (None: kept) and numpy scalars and
    arrays made plain, ready for JSON."""
    if isinstance(obj, dict):
        return {str(k): rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [rounded(v, digits) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        if not math.isfinite(obj):
            raise ValueError(f"cannot save the non-finite number {obj!r} in an episode file")
        return float(obj) if digits is None else round(float(obj), digits) + 0.0
    return obj


_NUMBER = (int, float)
_EPISODE_FIELDS = {
    "episode_id": str, "task": str, "scene_kind": str, "scene_seed": (int, type(None)),
    "scene_params": dict, "start": list, "goal": dict, "geodesic_distance": _NUMBER,
    "info": dict,
}  # fmt: skip
_GOAL_FIELDS = {
    "kind": str, "positions": list, "instruction": str, "instance_ids": list,
    "room_id": (int, type(None)),
}  # fmt: skip


def parse_document(doc: Any) -> list[Episode]:
    """Episodes of a decoded file; ValueError naming the first problem and where it is."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(f"not an episode file: format is {found!r}, expected {FORMAT!r}")
    if doc.get("version") != VERSION:
        raise ValueError(f"unsupported version {doc.get('version')!r}, expected {VERSION}")
    episodes = doc.get("episodes")
    if not isinstance(episodes, list):
        raise ValueError(f"'episodes' must be a list, got {type(episodes).__name__}")
    _check_finite(episodes, "episodes")  # NaN and 1e999 parse, but could never be saved
    return [_parse_episode(e, f"episodes[{i}]") for i, e in enumerate(episodes)]


def _check_finite(value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is {value!r}; episode files hold finite numbers only")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, f"{where}[{i}]")


def _parse_episode(d: Any, where: str) -> Episode:
    _check_fields(d, _EPISODE_FIELDS, where)
    # Held at the file's precision, so what loads is what saves (scene parameters exact).
    d = {**rounded(d), "scene_params": d["scene_params"]}
    if d["task"] not in TASKS:
        raise ValueError(
            f"{where}.task {d['task']!r} is unknown; valid tasks are: {', '.join(TASKS)}"
        )
    if d["scene_seed"] is not None and d["scene_seed"] < 0:
        raise ValueError(f"{where}.scene_seed must be >= 0, got {d['scene_seed']}")
    _check_numbers(d["start"], f"{where}.start", 3)
    g = d["goal"]
    _check_fields(g, _GOAL_FIELDS, f"{where}.goal")
    if not g["positions"]:
        raise ValueError(f"{where}.goal.positions is empty")
    for i, p in enumerate(g["positions"]):
        _check_numbers(p, f"{where}.goal.positions[{i}]", 2)
    for i, v in enumerate(g["instance_ids"]):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{where}.goal.instance_ids[{i}] must be an integer, got {v!r}")
    try:
        goal = Goal.from_json(g)
        return Episode(**{**{k: d[k] for k in _EPISODE_FIELDS}, "goal": goal})
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from e


def _check_fields(d: Any, spec: dict[str, Any], where: str) -> None:
    if not isinstance(d, dict):
        raise ValueError(f"{where} must be an object, got {type(d).__name__}")
    for key, types in spec.items():
        if key not in d:
            raise ValueError(f"{where} is missing key {key!r}")
        value = d[key]
        if isinstance(value, bool) or not isinstance(value, types):
            names = " or ".join(
                t.__name__ for t in (types if isinstance(types, tuple) else (types,))
            )
            raise ValueError(f"{where}.{key} must be {names}, got {type(value).__name__}")


def _check_numbers(value: Any, where: str, n: int) -> None:
    ok = isinstance(value, list) and len(value) == n
    if not ok or any(isinstance(v, bool) or not isinstance(v, _NUMBER) for v in value):
        raise ValueError(f"{where} must be a list of {n} numbers, got {value!r}")


__all__ = ["FORMAT", "VERSION", "EpisodeFormatError", "parse_document", "rounded"]
