"""Procedural scene generators: ``generate_scene(kind, seed, **params)``.

Each kind has a parameter dataclass (size and density knobs) and a function that lays
out rooms, furnishes them and checks that every room is reachable for the robot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from astra_sim.core.errors import UnknownNameError
from astra_sim.core.seeding import check_seed
from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavConfig


def _registry() -> dict[str, tuple[type, Callable[..., Scene]]]:
    from astra_sim.scenes.generators.home import HomeParams, generate_home
    from astra_sim.scenes.generators.office import OfficeParams, generate_office
    from astra_sim.scenes.generators.warehouse import WarehouseParams, generate_warehouse

    return {
        "home": (HomeParams, generate_home),
        "office": (OfficeParams, generate_office),
        "warehouse": (WarehouseParams, generate_warehouse),
    }


SCENE_KINDS = ("home", "office", "warehouse")


def parse_kinds(text: str) -> list[str]:
    """``"home,warehouse"`` -> ``["home", "warehouse"]``: kind lists as the CLI takes them.

    Raises:
        UnknownNameError: naming a kind that is not one of ``SCENE_KINDS``.
    """
    kinds = [k.strip() for k in str(text).split(",") if k.strip()]
    for k in kinds:
        if k not in SCENE_KINDS:
            raise UnknownNameError("scene kind", k, SCENE_KINDS)
    return kinds


def make_params(kind: str, params: dict[str, Any] | None = None) -> Any:
    """The parameter dataclass of ``kind`` with ``params`` applied, checked by name."""
    registry = _registry()
    if kind not in registry:
        raise UnknownNameError("scene kind", kind, registry)
    cls = registry[kind][0]
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(params or {}) - names)
    if unknown:
        raise ValueError(
            f"unknown {kind} parameter(s) {', '.join(unknown)}; valid ones are: "
            f"{', '.join(sorted(names))}"
        )
    return cls(**(params or {}))


def generate_scene(
    kind: str, seed: int, nav_config: NavConfig | None = None, **params: Any
) -> Scene:
    """Generate a scene of ``kind`` (home, office, warehouse); same seed, same scene.

    Args:
        kind: one of ``SCENE_KINDS``.
        seed: non-negative integer; every random draw of the layout derives from it.
        nav_config: robot size and grid resolution for navigability and its checks.
        **params: fields of the kind's parameter dataclass, e.g. ``width=14.0``.
    """
    seed = check_seed(seed)
    p = make_params(kind, params)
    return _registry()[kind][1](p, seed, nav_config or NavConfig())


__all__ = ["SCENE_KINDS", "generate_scene", "make_params"]
