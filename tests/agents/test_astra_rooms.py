"""Room goals: the room an instruction names, the nodes inside it, and the agent's goal
target inside the room rather than beside its door sign."""

from __future__ import annotations

import numpy as np

from astra_sim.agents.astra.global_stage import room_goal_node
from astra_sim.agents.astra_global.rooms import named_room, room_nodes, room_shares
from astra_sim.mapping.graph import Landmark, Node, TopoSemanticMap


def _node(i, x, y, marks, pixels):
    rgb = np.zeros((1, 2, 2, 3), np.uint8)
    depth = np.ones((1, 2, 2), np.float32)
    pose = np.array([x, y, 0.0, 0.0, 0.0, 0.0])
    return Node(i, pose, rgb, depth, tuple(marks), tuple(pixels))


def office() -> TopoSemanticMap:
    """A corridor (nodes 0, 1) with the sign of meeting room 208 beside its door, and the
    room (nodes 2, 3) holding a table and a chair; node 4 is in bedroom 2 of nowhere."""
    marks = [
        Landmark(0, 10, "sign", "sign 'Room 208'", text="Room 208", position=(2.0, 0.4, 0.0),
                 nodes=(0, 1), room="corridor"),
        Landmark(1, 11, "door", "grey door", position=(2.5, 0.5, 0.0), nodes=(1, 2),
                 room="meeting room 208"),
        Landmark(2, 12, "table", "white table", position=(3.0, 3.0, 0.0), nodes=(1, 2, 3),
                 room="meeting room 208"),
        Landmark(3, 13, "chair", "black chair", position=(3.5, 3.5, 0.0), nodes=(2, 3),
                 room="meeting room 208"),
        Landmark(4, 14, "plant", "green plant", position=(0.0, 0.3, 0.0), nodes=(0, 1),
                 room="corridor"),
        Landmark(5, 15, "bed", "white bed", position=(9.0, 9.0, 0.0), nodes=(4,),
                 room="bedroom 2"),
    ]  # fmt: skip
    nodes = [
        _node(0, 0.0, 0.0, [0, 4], [50, 200]),
        _node(1, 2.0, 0.0, [0, 1, 2, 4], [80, 60, 40, 100]),  # sees the table through the door
        _node(2, 2.5, 2.0, [1, 2, 3], [50, 300, 200]),
        _node(3, 3.0, 4.0, [2, 3], [300, 300]),
        _node(4, 9.0, 8.0, [5], [500]),
    ]
    edges = np.array([(0, 1), (1, 2), (2, 3)])
    return TopoSemanticMap(nodes, edges, marks, {})


def test_named_room_reads_numbers_and_names():
    topo = office()
    assert named_room("Go to room 208.", topo) == "meeting room 208"
    assert named_room("Take me to the meeting room 208", topo) == "meeting room 208"
    assert named_room("Go to bedroom 2.", topo) == "bedroom 2"
    assert named_room("Go to the white table.", topo) is None
    assert named_room("Go to room 209.", topo) is None


def test_room_nodes_are_those_seeing_mostly_the_rooms_own_things():
    topo = office()
    shares = room_shares(topo, "meeting room 208")
    assert shares[0] == 0 and shares[1] == 40 / 280  # doors and signs do not count
    assert room_nodes(topo, "meeting room 208") == [2, 3]
    assert room_nodes(topo, "corridor") == [0]


def test_a_room_goal_by_its_sign_goes_into_the_room():
    topo = office()
    # The goal localizer chose the sign (landmark 0); the target is inside: node 2 is the
    # room's node nearest the start along G.
    assert room_goal_node("Go to room 208.", topo, 0, np.array([0.0, 0.0])) == 2
    # No start yet: the room's node nearest the sign.
    assert room_goal_node("Go to room 208.", topo, 0, None) == 2
    # The room's own thing chosen, or no room named: the landmark goal stands.
    assert room_goal_node("Go to the white table in room 208.", topo, 2, None) is None
    assert room_goal_node("Go to the green plant.", topo, 4, None) is None


def test_a_shelf_seen_from_both_aisles_is_reached_from_the_robots_side():
    from astra_sim.agents.astra_global.goal_localization import GoalLocalizer
    from tests.agents.test_agents_goal import Letters

    # Shelf D-007 at (0, 0) between aisle y = +1.2 (node 0) and aisle y = -1.5 (node 1),
    # which meet only round the row's end far to the left (nodes 2, 3).
    shelf = Landmark(0, 7, "shelf", "shelf D-007", text="D-007", position=(0.0, 0.0, 0.0),
                     nodes=(0, 1))  # fmt: skip
    nodes = [
        _node(0, 0.0, 1.2, [0], [300]),
        _node(1, 0.0, -1.5, [0], [250]),
        _node(2, -9.0, 1.2, [], []),
        _node(3, -9.0, -1.5, [], []),
        _node(4, 4.0, -1.5, [], []),
    ]
    topo = TopoSemanticMap(nodes, np.array([(0, 2), (2, 3), (3, 1), (1, 4)]), [shelf], {})
    loc = GoalLocalizer(encoder=Letters())
    assert loc.localize_goal("Go to shelf D-007.", topo, start=4).node == 1  # its own aisle
    assert loc.localize_goal("Go to shelf D-007.", topo, start=2).node == 0
    assert loc.localize_goal("Go to shelf D-007.", topo).node == 0  # no start: the nearer view
