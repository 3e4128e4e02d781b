"""Checks of the env's keyword arguments, so a bad one is refused at ``gym.make`` with its
name, not deep inside the simulator or at the first reset.

Fuzzing ``gym.make`` (tests/envs/test_envs_fuzz.py) found ``float(None)`` TypeErrors, a
``sim`` dict with a typo reaching ``SimConfig(**sim)``, and a ``reward`` typo surfacing only
at reset; each rule here answers one of those.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
from typing import Any

import numpy as np

from astra_sim.core.recipe import from_dict
from astra_sim.sim import SimConfig


def number(value: Any, name: str, minimum: float = 0.0, strict: bool = False,
           infinite: bool = False) -> float:  # fmt: skip
    """``value`` as a float >= minimum (> with ``strict``), finite unless ``infinite``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        value = float(value)
        ok = (math.isfinite(value) or (infinite and value == math.inf)) and (
            value > minimum if strict else value >= minimum
        )
    if not ok:
        bound = f"{'>' if strict else '>='} {minimum:g}"
        kind = "a number" if infinite else "a finite number"
        raise ValueError(f"{name} must be {kind} {bound}, got {value!r}")
    return value


def seeds(value: Any) -> list[Any]:
    """``scene_seeds`` as a list (an int is one seed); the seeds are checked by the caller."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return [int(value)]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"scene_seeds must be an integer or a list of them, got {value!r}")
    return list(value)


def sim_config(sim: SimConfig | dict[str, Any] | None, overrides: dict[str, Any]) -> SimConfig:
    """A SimConfig from one or a dict of its fields (checked by name and type, as a recipe
    is: a RecipeError names the field), with the ``rig`` and ``body`` arguments applied."""
    for name, value in overrides.items():
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a name or a recipe path, got {value!r}")
    if isinstance(sim, SimConfig):
        return dataclasses.replace(sim, **overrides)
    if sim is not None and not isinstance(sim, dict):
        raise ValueError(f"sim must be a SimConfig or a dict of its fields, got {sim!r}")
    return from_dict(SimConfig, {**(sim or {}), **overrides}, where="env sim")


def reward(value: Any) -> dict[str, Any]:
    """The ``reward`` dict, checked by building the NavReward it configures."""
    from astra_sim.tasks import NavReward

    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"reward must be a dict of NavReward arguments, got {value!r}")
    valid = tuple(inspect.signature(NavReward).parameters)  # the keys it takes, in order
    unknown = sorted(set(value) - set(valid))
    if unknown:
        raise ValueError(f"reward has unknown key(s) {unknown}; valid keys are: {valid}")
    NavReward(**value)  # raises ValueError naming the bad value
    return dict(value)
