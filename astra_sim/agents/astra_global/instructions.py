"""Evaluation instructions with paraphrases for language goal localization, and their scoring.

The targets are the goals LanguageNav offers (`astra_sim.tasks.goals.language_goals`: objects
by colour, rooms by sign or type, shelves by code, functions), kept when the map can name
them, i.e. at least one landmark the tour saw belongs to the target. Each target is said
several ways ("Take me to shelf B-014", "I'm tired, take me somewhere to sit down"), so the
score measures matching meaning, not repeating the map's own words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from astra_sim.agents.astra_global.goal_localization import GoalResult
from astra_sim.core.seeding import check_seed, make_rng
from astra_sim.mapping.graph import TopoSemanticMap
from astra_sim.scenes.model import Scene
from astra_sim.tasks.goals import language_goals

SUCCESS_RADIUS = 1.5
"""Metres from a true goal position within which a goal pose counts as right."""

TEMPLATES: dict[str, tuple[str, ...]] = {
    "object": (
        "Go to {p}.", "Take me to {p}.", "Find {p}.", "I'm looking for {p}.",
        "Head over to {p}.", "Where is {p}?", "Navigate to {p}, please.",
    ),
    "room": (
        "Go to {p}.", "Head to {p}.", "Take me to {p}.", "I need to get to {p}.",
        "Navigate to {p}.",
    ),
    "shelf": (
        "Go to {p}.", "Find {p}.", "Take me to {p}.", "I need to pick items from {p}.",
        "Navigate to {p}.",
    ),
    "function": ("Find {p}.", "Take me {p}.", "I am looking for {p}."),
}  # fmt: skip
"""Paraphrases per goal kind; ``{p}`` is the target phrase ("the red sofa", "room 203")."""

FUNCTION_PARAPHRASES: dict[str, tuple[str, ...]] = {
    "somewhere to rest": (
        "Find somewhere to rest.", "I want to sit and rest.",
        "I'm tired, take me somewhere to sit down.", "Where can I relax for a bit?",
    ),
    "somewhere to cook": (
        "Find somewhere to cook.", "I want to cook dinner.",
        "Where can I prepare some food?", "Take me to where meals are made.",
    ),
    "somewhere to sleep": (
        "Find somewhere to sleep.", "I want to lie down and sleep.",
        "Where can I take a nap?", "I'm sleepy, take me to bed.",
    ),
    "somewhere to wash": (
        "Find somewhere to wash.", "Where can I wash my hands?",
        "I need to take a bath.", "Take me somewhere to clean up.",
    ),
    "somewhere to work": (
        "Find somewhere to work.", "I need a place to work.",
        "Where can I do some work?", "Take me somewhere I can get some work done.",
    ),
    "somewhere to get coffee": (
        "Find somewhere to get coffee.", "I could use a cup of coffee.",
        "Where can I get a hot drink?", "Take me to the coffee.",
    ),
    "somewhere to hold a meeting": (
        "Find somewhere to hold a meeting.", "Where can we have a meeting?",
        "I need a place to discuss plans with my team.", "Take me to where meetings happen.",
    ),
}  # fmt: skip
"""Paraphrases of the function phrases of `astra_sim.tasks.goals.FUNCTION_PHRASES`."""


@dataclass
class GoalInstruction:
    """One evaluation instruction and its ground truth.

    Attributes:
        text: the sentence given to the localizer.
        kind: ``object``, ``room``, ``shelf`` or ``function``.
        target: the canonical phrase it paraphrases ("the red sofa", "somewhere to rest").
        landmarks: map landmark ids that are right answers.
        positions: (G, 2) navigable points near the target (the LanguageNav goal positions).
    """

    text: str
    kind: str
    target: str
    landmarks: tuple[int, ...]
    positions: np.ndarray


class GoalLocalizerLike(Protocol):
    def localize_goal(
        self, instruction: str, topo_map: TopoSemanticMap, start: Any = None
    ) -> GoalResult: ...


def generate_instructions(
    scene: Scene,
    topo_map: TopoSemanticMap,
    seed: int = 0,
    per_target: int = 3,
    view_radius: float = 1.0,
) -> list[GoalInstruction]:
    """Instructions for every target the map can name, ``per_target`` paraphrases each.

    Right landmarks: an object's or shelf's own landmark; for a room, the signs that refer
    to it and the landmarks inside it (doors excepted: a door joins two rooms); for a
    function, every landmark whose description offers it. Rooms named by a number no sign
    shows ("bedroom 1", "aisle 2") are left out: no landmark text can tell them apart.

    Args:
        scene: the scene the map was built from.
        topo_map: the map; its landmarks' instance ids tie them to the scene.
        seed: picks the paraphrases (stream ``instructions`` of `make_rng`).
        per_target: paraphrases per target (fewer when a kind has fewer templates).
        view_radius: metres from an instance's footprint that count as reaching it.

    Returns:
        Instructions grouped by target in `language_goals` order.
    """
    rng = make_rng(check_seed(seed), "instructions")
    if isinstance(per_target, bool) or not isinstance(per_target, int) or per_target < 1:
        raise ValueError(f"per_target must be a positive integer, got {per_target!r}")
    of_instance = {m.instance_id: m.id for m in topo_map.landmarks}
    rooms = {r.id: r for r in scene.rooms}
    out: list[GoalInstruction] = []
    for goal in language_goals(scene, scene.navgrid(), view_radius=view_radius):
        phrase = re.sub(r"^(go to|find) ", "", goal.instruction.rstrip(".?!"), flags=re.I)
        ids = [i for i in goal.instance_ids if i in of_instance]
        if goal.kind == "room":
            room = rooms[goal.room_id]
            if phrase == room.name and re.search(r"\d+$", phrase):
                continue
            ids = [
                i.id
                for i in scene.instances
                if i.id in of_instance
                and (
                    (i.room == room.id and i.category != "door")
                    or i.attributes.get("refers_to") == room.name
                )
            ]
        marks = tuple(sorted(of_instance[i] for i in ids))
        if not marks:
            continue
        if goal.kind == "function" and phrase in FUNCTION_PARAPHRASES:
            templates = FUNCTION_PARAPHRASES[phrase]
        else:
            templates = TEMPLATES[goal.kind]
        picks = rng.choice(len(templates), size=min(per_target, len(templates)), replace=False)
        for k in picks:
            text = templates[int(k)].format(p=phrase)
            text = text[0].upper() + text[1:]
            out.append(GoalInstruction(text, goal.kind, phrase, marks, goal.positions.copy()))
    return out


def sample_starts(topo_map: TopoSemanticMap, count: int, seed: int = 0) -> list[int]:
    """``count`` distinct node ids (fewer on a small map) to start the robot from, seeded."""
    rng = make_rng(check_seed(seed), "instruction-starts")
    if not topo_map.nodes:
        raise ValueError("the map has no nodes to start from")
    picks = rng.choice(len(topo_map.nodes), size=min(count, len(topo_map.nodes)), replace=False)
    return sorted(int(v) for v in picks)


def goal_success(
    result: GoalResult, truth: GoalInstruction, radius: float = SUCCESS_RADIUS
) -> bool:
    """Whether a goal localization is right.

    Rule: the result is ok, and either the chosen landmark is one of the right landmarks
    (the robot is sent to the right thing, wherever the node that sees it stands: a door
    sign seen from the corridor names the room), or the goal pose lies within ``radius``
    metres (straight line) of a true goal position (the robot ends up where LanguageNav
    would score it as arrived, e.g. a sink picked for "the bathroom").
    """
    if not result.ok or result.pose is None:
        return False
    if result.landmark is not None and result.landmark in truth.landmarks:
        return True
    d = np.linalg.norm(np.asarray(truth.positions) - np.asarray(result.pose[:2]), axis=1)
    return bool(len(d) and d.min() <= radius)


def evaluate_goal_localization(
    localizer: GoalLocalizerLike,
    topo_map: TopoSemanticMap,
    instructions: Sequence[GoalInstruction],
    start_poses: Sequence[Any],
    radius: float = SUCCESS_RADIUS,
) -> dict[str, Any]:
    """Localize every instruction from every start; success as defined by `goal_success`.

    Args:
        localizer: has ``localize_goal(instruction, topo_map, start)``.
        topo_map: the map.
        instructions: from `generate_instructions`.
        start_poses: node ids or (x, y[, yaw]) poses the robot starts from.
        radius: metres, see `goal_success`.

    Returns:
        ``{"success": fraction, "count": trials, "by_kind": {kind: {"success", "count"}},
        "failures": [up to 10 examples]}``: the value of ``"goal_localization"`` in an
        evaluation report.
    """
    if not instructions or not len(start_poses):
        raise ValueError("need at least one instruction and one start pose")
    hits: dict[str, list[bool]] = {}
    failures: list[dict[str, Any]] = []
    for truth in instructions:
        for start in start_poses:
            result = localizer.localize_goal(truth.text, topo_map, start)
            ok = goal_success(result, truth, radius)
            hits.setdefault(truth.kind, []).append(ok)
            if not ok and len(failures) < 10:
                name = topo_map.landmarks[result.landmark].name if result.ok else None
                failures.append({"text": truth.text, "chosen": name, "failure": result.failure})
    every = [h for group in hits.values() for h in group]
    return {
        "success": float(np.mean(every)),
        "count": len(every),
        "by_kind": {
            k: {"success": float(np.mean(v)), "count": len(v)} for k, v in sorted(hits.items())
        },
        "failures": failures,
    }
