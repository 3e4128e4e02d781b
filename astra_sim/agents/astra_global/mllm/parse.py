"""Parse the model's JSON answers; never raise, whatever the model wrote.

A generated answer can be truncated (the token limit hit mid-object), wrapped in prose or
code fences, or garbage (an untrained model). `parse_answer` takes the first JSON object in
the text that checks against the task's schema (see `prompts`) and otherwise returns a
failure with a reason, which the localizer reports and the measures count as no answer;
the format reward of GRPO is 1 exactly when this succeeds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

MAX_SCAN = 64
"""At most this many '{' positions are tried, so a long garbage answer stays cheap."""


@dataclass
class Parsed:
    """``ok`` with the checked ``value``, or not ok with ``error`` saying why."""

    ok: bool
    value: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or chat messages (TRL's conversational form)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    parts = []
    if isinstance(completion, (list, tuple)):
        for msg in completion:
            content = msg.get("content", "") if isinstance(msg, dict) else msg
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, (list, tuple)):
                parts += [p.get("text") or "" for p in content if isinstance(p, dict)]
    return "".join(str(p) for p in parts)


def extract_json(text: Any) -> list[dict[str, Any]]:
    """Every JSON object found in ``text``, in order (at most ``MAX_SCAN`` tried)."""
    if not isinstance(text, str):
        return []
    decoder = json.JSONDecoder()
    out = []
    start = text.find("{")
    tries = 0
    while start != -1 and tries < MAX_SCAN:
        tries += 1
        try:
            obj, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            start = text.find("{", start + 1)
            continue
        if isinstance(obj, dict):
            out.append(obj)
        start = text.find("{", end)
    return out


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _ids(v: Any) -> list[int] | None:
    if not isinstance(v, list):
        return None
    out = []
    for x in v:
        if isinstance(x, bool) or not isinstance(x, int) or x < 0:
            return None
        if x not in out:
            out.append(x)
    return out


def _check(task: str, obj: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The schema check of one object; (value, "") or (None, reason)."""
    if task == "coarse":
        marks, ids = obj.get("landmarks"), _ids(obj.get("map_ids"))
        if not isinstance(marks, list) or ids is None:
            return None, "needs a 'landmarks' list and a 'map_ids' list of ids"
        clean = []
        for m in marks:
            if not isinstance(m, dict) or not isinstance(m.get("category"), str):
                return None, "each landmark needs a 'category' string"
            extra = {k: m.get(k, "") for k in ("colour", "text")}
            if not all(isinstance(v, str) for v in extra.values()):
                return None, "landmark 'colour' and 'text' must be strings"
            clean.append({"category": m["category"], **extra})
        return {"landmarks": clean, "map_ids": ids}, ""
    if task == "goal":
        ids = _ids(obj.get("map_ids"))
        return ({"map_ids": ids}, "") if ids is not None else (None, "needs a 'map_ids' list")
    if task == "covis":
        s = obj.get("score")
        if not _finite(s) or not 0.0 <= s <= 1.0:
            return None, "needs a 'score' number in [0, 1]"
        return {"score": float(s)}, ""
    if task == "select":
        i = obj.get("index")
        if isinstance(i, bool) or not isinstance(i, int) or i < 0:
            return None, "needs a non-negative integer 'index'"
        return {"index": i}, ""
    keys = {"fine": ("x", "y", "yaw"), "motion": ("dx", "dy", "dyaw")}.get(task)
    if keys is None:
        return None, f"unknown task {task!r}"
    if not all(_finite(obj.get(k)) for k in keys):
        return None, f"needs finite numbers {', '.join(keys)}"
    return {k: float(obj[k]) for k in keys}, ""


def parse_answer(task: str, completion: Any) -> Parsed:
    """The first JSON object in ``completion`` that fits ``task``'s schema; never raises."""
    try:
        text = completion_text(completion)
        objs = extract_json(text)
        if not objs:
            what = "empty output" if not text.strip() else "no complete JSON object"
            return Parsed(False, error=what)
        reason = ""
        for obj in objs:
            value, reason = _check(task, obj)
            if value is not None:
                return Parsed(True, value)
        return Parsed(False, error=f"JSON does not fit the {task} schema: {reason}")
    except Exception as e:  # a parser that crashes would crash training and evaluation
        return Parsed(False, error=f"parser error: {type(e).__name__}: {e}")
