"""Global planning on the map G: the shortest path over G's edges, and the local planner's
next target along it.

Edges of G join keyframes that can be driven between in a straight line (the map builder
checks each edge's clearance against the robot radius), so the polyline through the path's
node positions is a drivable route. The local planner was trained to head for the point
``lookahead`` metres along the shortest path (``plan_data.local_goal``); the route hands it
the same kind of target, measured along the polyline from where the robot believes it is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from astra_sim.agents.astra_local.plan_data import to_robot_frame
from astra_sim.mapping.graph import TopoSemanticMap

__all__ = ["LOOKAHEAD_M", "REACH_M", "SHORTCUT_M", "Route", "line_clear", "to_robot_frame"]

LOOKAHEAD_M = 2.5
"""Metres along the route of the planner's target (the training rule's distance)."""
REACH_M = 0.75
"""A route point within this distance of the robot counts as passed."""
SHORTCUT_M = 2.2
"""A route point this close that the robot sees clear on its own occupancy grid (which
spans 2.4 m each way) can be driven to directly, skipping the points before it."""


class Route:
    """Subgoals along G's shortest path from a start node to the goal, then the goal itself.

    Args:
        topo_map: the map.
        start_node: where the path starts (the node nearest the robot's estimate, or the
            node its localizer matched).
        goal_node: the node the goal localizer chose.
        goal_xy: the goal position (the route's last point; may differ from the node's).
        reach: see ``REACH_M``.

    Raises:
        ValueError: if the two nodes are not connected on G.
    """

    def __init__(
        self,
        topo_map: TopoSemanticMap,
        start_node: int,
        goal_node: int,
        goal_xy: np.ndarray,
        reach: float = REACH_M,
    ) -> None:
        self.nodes = topo_map.shortest_path(int(start_node), int(goal_node))
        if not self.nodes:
            raise ValueError(f"map nodes {start_node} and {goal_node} are not connected on G")
        goal = np.asarray(goal_xy, np.float64)[:2]
        self.points = np.vstack([topo_map.positions[self.nodes], goal[None]])
        self.reach = float(reach)
        self.index = 0
        self.length = float(np.linalg.norm(np.diff(self.points, axis=0), axis=1).sum())

    @classmethod
    def from_pose(
        cls,
        topo_map: TopoSemanticMap,
        pose: np.ndarray,
        goal_node: int,
        goal_xy: np.ndarray,
        clear: Callable[[np.ndarray], bool] | None = None,
    ) -> Route:
        """The route from ``pose``: through the node that makes the way shortest (straight
        to it, then along G), among those within ``SHORTCUT_M`` that ``clear`` (the robot's
        own sight line) allows; the nearest node when none is or nothing says what is clear.
        The nearest node alone can lie behind the robot, and the route then doubles back."""
        from scipy.sparse import csgraph

        p = np.asarray(pose, np.float64)[:2]
        start = topo_map.nearest_node(p)
        if clear is None:
            return cls(topo_map, start, goal_node, goal_xy)
        near = np.linalg.norm(topo_map.positions - p, axis=1)
        options = [int(v) for v in np.flatnonzero(near <= SHORTCUT_M)]
        options = [v for v in options if clear(topo_map.positions[v])]
        if options:
            along = csgraph.dijkstra(topo_map.adjacency, directed=False, indices=int(goal_node))
            start = min(options, key=lambda v: (near[v] + along[v], v))
        route = cls(topo_map, start, goal_node, goal_xy)
        route.skip_visible(p, clear)
        return route

    @property
    def goal(self) -> np.ndarray:
        return self.points[-1].copy()

    @property
    def subgoal(self) -> np.ndarray:
        """The next route point not yet passed."""
        return self.points[self.index].copy()

    def advance(self, xy: np.ndarray) -> int:
        """Pass every route point up to the last one within ``reach`` of ``xy``; returns
        the index of the next point (the goal stays the last one, never passed)."""
        p = np.asarray(xy, np.float64)[:2]
        near = np.flatnonzero(np.linalg.norm(self.points[self.index :] - p, axis=1) < self.reach)
        if len(near):
            self.index = min(self.index + int(near.max()) + 1, len(self.points) - 1)
        return self.index

    def skip_visible(self, xy: np.ndarray, clear: Callable[[np.ndarray], bool]) -> int:
        """Pass every point before the furthest remaining one within ``SHORTCUT_M`` that
        ``clear`` allows; returns the index of the next point."""
        p = np.asarray(xy, np.float64)[:2]
        for j in range(len(self.points) - 1, self.index, -1):
            if np.linalg.norm(self.points[j] - p) <= SHORTCUT_M and clear(self.points[j]):
                self.index = j
                break
        return self.index

    def target(self, xy: np.ndarray, lookahead: float = LOOKAHEAD_M) -> np.ndarray:
        """The world (x, y) ``lookahead`` metres along [xy, remaining route points]."""
        p = np.asarray(xy, np.float64)[:2]
        path = np.vstack([p[None], self.points[self.index :]])
        seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        if cum[-1] <= lookahead:
            return path[-1].copy()
        k = int(np.searchsorted(cum, lookahead)) - 1
        f = (lookahead - cum[k]) / max(seg[k], 1e-9)
        return path[k] + f * (path[k + 1] - path[k])

    def remaining(self, xy: np.ndarray) -> float:
        """Metres from ``xy`` along the rest of the route to the goal."""
        p = np.asarray(xy, np.float64)[:2]
        path = np.vstack([p[None], self.points[self.index :]])
        return float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())


def line_clear(
    local_xy: np.ndarray, clearance: np.ndarray, cell_size: float, radius: float
) -> bool:
    """Whether the straight line from the robot to ``local_xy`` (robot frame, metres) keeps
    ``radius`` of clearance on the robot's own occupancy grid (robot at its centre; the
    first 0.3 m is where it already stands). A point off the grid is not seen clear."""
    end = np.asarray(local_xy, np.float64)[:2]
    n = clearance.shape[0]
    length = float(np.linalg.norm(end))
    if np.any(np.abs(end) >= (n / 2 - 0.5) * cell_size):
        return False
    if length <= 0.3:
        return True
    s = np.arange(0.3, length + 1e-9, cell_size / 2) / length
    ij = np.floor(s[:, None] * end / cell_size + n / 2).astype(int)
    return bool(clearance[ij[:, 0], ij[:, 1]].min() >= radius)
