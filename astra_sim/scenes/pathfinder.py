"""The pathfinder protocol: geodesics between floor points, whatever computes them.

``NavGrid`` (our occupancy grid, the default) and habitat-sim's navmesh
(``render.habitat_backend.HabitatPathfinder``) both answer it, so an episode's geodesic
distance can be checked against either.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from astra_sim.core.errors import UnknownNameError

PATHFINDERS = ("grid", "habitat")
"""Names ``make_pathfinder`` accepts."""


@runtime_checkable
class Pathfinder(Protocol):
    """Shortest paths on the floor of one scene, in our frame (x, y metres)."""

    def is_navigable(self, xy: np.ndarray) -> np.ndarray:
        """Whether each (..., 2) point is a place the robot may stand."""
        ...

    def geodesic_distance(self, a_xy: np.ndarray, b_xy: np.ndarray) -> float:
        """Shortest-path metres from a to b; inf where b cannot be reached."""
        ...

    def shortest_path(self, a_xy: np.ndarray, b_xy: np.ndarray) -> np.ndarray:
        """(N, 2) waypoints from a to b; (0, 2) where b cannot be reached."""
        ...

    def snap(self, xy: np.ndarray) -> np.ndarray:
        """The nearest navigable point to each (..., 2) point."""
        ...


def make_pathfinder(scene: Any, backend: str = "grid", **kwargs: Any) -> Pathfinder:
    """The pathfinder ``backend`` for ``scene`` (``grid``: ``scene.navgrid(**kwargs)``).

    Raises:
        UnknownNameError: ``backend`` is not one of PATHFINDERS.
        ImportError: ``habitat`` without habitat-sim installed.
    """
    if backend == "grid":
        return scene.navgrid(**kwargs)
    if backend == "habitat":
        from astra_sim.render.habitat_backend import HabitatPathfinder

        return HabitatPathfinder(scene, **kwargs)
    raise UnknownNameError("pathfinder", backend, PATHFINDERS)
