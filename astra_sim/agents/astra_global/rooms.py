"""Room goals on the map: which room an instruction names, and which nodes stand in it.

"Go to room 208" matches the sign beside the door best, and the sign hangs in the
corridor: a robot that stops beside it has not entered the room. The map knows no room
outlines (the tour keeps keyframes and the landmarks they see), but a keyframe inside a
room sees mostly that room's furniture, while one in the corridor sees doors, signs and
the corridor's own things. Measured on the held-out offices and homes (seeds 8 and 9), the
nodes whose landmark pixels are at least half a room's own things stand inside it: all of
them for closed rooms (offices, meeting rooms, bedrooms, kitchens), 94-98 % for open offices,
lobbies and living rooms, but only 28 % for a corridor (office 8), which sees other rooms' things
through their doors. So the agent redirects a goal into a room only when the landmark the
goal localizer chose is a door, a sign or another room's thing.
"""

from __future__ import annotations

import re

import numpy as np

from astra_sim.agents.astra_global.goal_localization import _spelled
from astra_sim.mapping.graph import TopoSemanticMap

ROOM_SHARE = 0.5
"""A node is inside a room when at least this share of its landmark pixels is the room's
own things (doors and signs, which stand between rooms, do not count)."""
BETWEEN_ROOMS = ("door", "sign")


def named_room(instruction: str, topo_map: TopoSemanticMap) -> str | None:
    """The room an instruction names ("bedroom 2", "the kitchen"; "room 208" names
    "meeting room 208" by its number), the longest such name; None when it names none."""
    rooms = {m.room for m in topo_map.landmarks if m.room}
    hits = []
    for room in rooms:
        number = re.search(r"(\d+)$", room)
        if _spelled(room, instruction) or (number and _spelled(f"room {number[1]}", instruction)):
            hits.append(room)
    return max(hits, key=lambda r: (len(r), r)) if hits else None


def room_shares(topo_map: TopoSemanticMap, room: str) -> np.ndarray:
    """(V,) share of each node's landmark pixels that are ``room``'s own things."""
    marks = topo_map.landmarks
    shares = np.zeros(len(topo_map.nodes))
    for v, node in enumerate(topo_map.nodes):
        total = sum(node.landmark_pixels)
        if total <= 0:
            continue
        own = sum(
            px
            for k, px in zip(node.landmarks, node.landmark_pixels, strict=True)
            if marks[k].room == room and marks[k].category not in BETWEEN_ROOMS
        )
        shares[v] = own / total
    return shares


def room_nodes(topo_map: TopoSemanticMap, room: str, share: float = ROOM_SHARE) -> list[int]:
    """Ids of the nodes that stand inside ``room`` (see ``ROOM_SHARE``), increasing."""
    return [int(v) for v in np.flatnonzero(room_shares(topo_map, room) >= share)]
