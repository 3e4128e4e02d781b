"""The GRPO rewards of Astra-Global (ASTRA.md), each in [0, 1].

Coarse stage, summed with the recipe's weights:

- ``format``: 1 if the answer parses against the task's schema, else 0.
- ``landmark``: |predicted ∩ true landmarks| / |true landmarks|. A landmark is compared by
  (category, colour, sign text), case-insensitively, as a multiset (two white doors seen
  count twice). No true landmark: 1 if none is predicted, else 0.
- ``map``: IoU of the predicted and true matched map landmark ids (both empty: 1).
- ``extra``: for each predicted map id beyond the ground truth that is a real map landmark,
  exp(-lambda (w_d * d + w_theta * |dyaw|)), where (d, dyaw) is the error of the pose that
  landmark places the robot at (the pose of the node that sees it best, from the dataset's
  ``landmark_poses``) against the true query pose; an id not on the map scores 0. The mean
  over the extras; no extras: 1 (nothing to weigh). So a landmark the annotation missed but
  which really is in view from near the robot costs little, a far-away one costs all.

Filter stage: ``format`` + lambda * ``covis`` with ``covis`` = 1 - |S_true - S_pred|.

An answer that does not parse scores 0 on every reward. The functions follow TRL's reward
interface: ``f(completions, **columns) -> list[float]``, columns being the dataset's
``true_landmarks``, ``true_map_ids``, ``true_pose``, ``landmark_poses``, ``covis_true``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from astra_sim.agents.astra_global.mllm.parse import parse_answer

RewardFunc = Callable[..., list[float]]


def landmark_key(mark: dict[str, Any]) -> tuple[str, str, str]:
    """(category, colour, text) normalised: how two landmark descriptions are compared."""
    return (
        str(mark.get("category", "")).strip().lower().replace(" ", "_"),
        str(mark.get("colour", "")).strip().lower(),
        str(mark.get("text", "")).strip().upper(),
    )


def landmark_recall(pred: Sequence[dict[str, Any]], true: Sequence[dict[str, Any]]) -> float:
    """|pred ∩ true| / |true| as multisets of `landmark_key`; no true: 1 iff no pred."""
    if not true:
        return 1.0 if not pred else 0.0
    hit = Counter(map(landmark_key, pred)) & Counter(map(landmark_key, true))
    return sum(hit.values()) / len(true)


def id_iou(pred: Sequence[int], true: Sequence[int]) -> float:
    """IoU of two id sets; both empty: 1."""
    a, b = set(pred), set(true)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def extra_score(
    pred: Sequence[int],
    true: Sequence[int],
    landmark_poses: dict[int, Sequence[float]],
    true_pose: Sequence[float],
    lam: float = 1.0,
    w_d: float = 0.5,
    w_theta: float = 0.5,
) -> float:
    """Mean of exp(-lam (w_d d + w_theta |dyaw|)) over predicted ids beyond ``true``."""
    extras = [k for k in dict.fromkeys(pred) if k not in set(true)]
    if not extras:
        return 1.0
    total = 0.0
    for k in extras:
        pose = landmark_poses.get(int(k))
        if pose is None:
            continue
        d = math.hypot(pose[0] - true_pose[0], pose[1] - true_pose[1])
        dyaw = abs((pose[2] - true_pose[2] + math.pi) % (2 * math.pi) - math.pi)
        total += math.exp(-lam * (w_d * d + w_theta * dyaw))
    return total / len(extras)


def _column(kwargs: dict[str, Any], name: str, n: int) -> list[Any]:
    value = kwargs.get(name)
    if value is None or len(value) != n:
        raise ValueError(f"reward needs the dataset column {name!r} (one value per completion)")
    return list(value)


def _poses(value: Any) -> dict[int, Sequence[float]]:
    data = json.loads(value) if isinstance(value, str) else dict(value or {})
    return {int(k): v for k, v in data.items()}


def _marks(value: Any) -> list[dict[str, Any]]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def named_reward(func: RewardFunc, name: str) -> RewardFunc:
    func.__name__ = name  # TRL logs rewards/<name>/mean
    func.__qualname__ = name
    return func


def format_reward(
    completions: Sequence[Any], task: Sequence[str] | None = None, **kw
) -> list[float]:
    """1 where the completion parses against its row's task schema (default ``coarse``)."""
    tasks = list(task) if task is not None else ["coarse"] * len(completions)
    return [float(parse_answer(t, c).ok) for c, t in zip(completions, tasks, strict=True)]


def landmark_reward(completions: Sequence[Any], **kwargs) -> list[float]:
    """`landmark_recall` of each parsed coarse answer against ``true_landmarks``."""
    truth = _column(kwargs, "true_landmarks", len(completions))
    out = []
    for c, t in zip(completions, truth, strict=True):
        p = parse_answer("coarse", c)
        out.append(landmark_recall(p.value["landmarks"], _marks(t)) if p.ok else 0.0)
    return out


def map_reward(completions: Sequence[Any], **kwargs) -> list[float]:
    """`id_iou` of each parsed coarse answer's map ids against ``true_map_ids``."""
    truth = _column(kwargs, "true_map_ids", len(completions))
    out = []
    for c, t in zip(completions, truth, strict=True):
        p = parse_answer("coarse", c)
        out.append(id_iou(p.value["map_ids"], list(t)) if p.ok else 0.0)
    return out


def make_extra_reward(lam: float = 1.0, w_d: float = 0.5, w_theta: float = 0.5) -> RewardFunc:
    """The extra-landmark reward with its lambda and weights (w_d + w_theta must be 1)."""
    check_weights(lam, w_d, w_theta)

    def extra_reward(completions: Sequence[Any], **kwargs) -> list[float]:
        n = len(completions)
        ids, poses = _column(kwargs, "true_map_ids", n), _column(kwargs, "landmark_poses", n)
        truth = _column(kwargs, "true_pose", n)
        out = []
        for c, t, lp, tp in zip(completions, ids, poses, truth, strict=True):
            p = parse_answer("coarse", c)
            if not p.ok:
                out.append(0.0)
                continue
            out.append(extra_score(p.value["map_ids"], list(t), _poses(lp), tp, lam, w_d, w_theta))
        return out

    return named_reward(extra_reward, "extra_reward")


def covis_reward(completions: Sequence[Any], **kwargs) -> list[float]:
    """1 - |S_true - S_pred| on parsed co-visibility answers, against ``covis_true``."""
    truth = _column(kwargs, "covis_true", len(completions))
    out = []
    for c, t in zip(completions, truth, strict=True):
        p = parse_answer("covis", c)
        out.append(1.0 - abs(float(t) - p.value["score"]) if p.ok else 0.0)
    return out


def check_weights(lam: float, w_d: float, w_theta: float) -> None:
    """Raise ValueError unless lambda >= 0, w_d, w_theta >= 0 and w_d + w_theta = 1."""
    vals = {"lambda": lam, "w_d": w_d, "w_theta": w_theta}
    for name, v in vals.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"reward {name} must be a non-negative number, got {v!r}")
    if abs(w_d + w_theta - 1.0) > 1e-6:
        raise ValueError(f"reward weights w_d + w_theta must be 1, got {w_d} + {w_theta}")


def reward_funcs(
    stage: str, lam: float = 1.0, w_d: float = 0.5, w_theta: float = 0.5
) -> list[RewardFunc]:
    """The reward functions of a GRPO stage: ``coarse`` (four) or ``filter`` (two)."""
    if stage == "coarse":
        return [format_reward, landmark_reward, map_reward, make_extra_reward(lam, w_d, w_theta)]
    if stage == "filter":
        return [format_reward, covis_reward]
    raise ValueError(f"unknown GRPO stage {stage!r}; valid stages are: coarse, filter")
