"""Language goals and the episode sampler on small generated scenes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SMALL, cached_scene

from astra_sim.core.errors import UnknownNameError
from astra_sim.tasks import EpisodeSampler, Goal, GoalDistance, language_goals
from astra_sim.tasks.goals import subsample

EXPECTED_KINDS = {
    "home": {"object", "room", "function"},
    "office": {"object", "room", "function"},
    "warehouse": {"object", "room", "shelf", "function"},
}


def footprint_gap(inst, xy: np.ndarray) -> np.ndarray:
    """Distance from points to an instance's oriented footprint rectangle."""
    d = xy - np.asarray(inst.position[:2])
    c, s = math.cos(inst.yaw), math.sin(inst.yaw)
    along, across = d[:, 0] * c + d[:, 1] * s, -d[:, 0] * s + d[:, 1] * c
    return np.hypot(
        np.maximum(np.abs(along) - inst.size[0] / 2, 0),
        np.maximum(np.abs(across) - inst.size[1] / 2, 0),
    )


def test_language_goals_are_navigable_and_near_what_they_name(scene, kind):
    grid = scene.navgrid()
    goals = language_goals(scene, grid)
    assert {g.kind for g in goals} >= EXPECTED_KINDS[kind]
    instructions = [g.instruction for g in goals]
    assert len(set(instructions)) == len(instructions)  # every sentence names one thing
    assert goals == language_goals(scene, grid)  # deterministic
    for goal in goals:
        assert 1 <= len(goal.positions) <= 64
        assert grid.is_navigable(goal.positions).all(), goal.instruction
        if goal.kind == "room":
            room = scene.rooms[goal.room_id]
            assert room.contains(goal.positions).all(), goal.instruction
            continue
        named = [scene.instances[i] for i in goal.instance_ids]
        gap = np.min([footprint_gap(inst, goal.positions) for inst in named], axis=0)
        assert (gap <= 1.0 + 1e-9).all(), goal.instruction
        if goal.kind == "object":
            (inst,) = named
            colour, category = inst.attributes["colour"], inst.category.replace("_", " ")
            assert goal.instruction == f"Go to the {colour} {category}."
            twins = [
                i for i in scene.find(category=inst.category)
                if i.attributes.get("colour") == colour
            ]  # fmt: skip
            assert twins == [inst]
        if goal.kind == "shelf":
            assert goal.instruction == f"Go to shelf {named[0].text}."


def test_room_and_function_phrases():
    office = cached_scene("office", 0, **SMALL["office"])
    goals = {g.instruction: g for g in language_goals(office, office.navgrid())}
    numbered = [g for text, g in goals.items() if text.startswith("Go to room ")]
    assert numbered
    for goal in numbered:
        number = goal.instruction.removeprefix("Go to room ").rstrip(".")
        assert office.rooms[goal.room_id].name.endswith(f" {number}")
    home = cached_scene("home", 0, **SMALL["home"])
    goals = {g.instruction: g for g in language_goals(home, home.navgrid())}
    assert goals["Go to the kitchen."].room_id == next(
        r.id for r in home.rooms if r.type == "kitchen"
    )
    rest = goals["Find somewhere to rest."]
    assert rest.instance_ids and all(
        "rest" in home.instances[i].description for i in rest.instance_ids
    )
    assert {home.instances[i].category for i in rest.instance_ids} >= {"sofa"}


def test_subsample_is_spread_and_deterministic():
    points = np.stack(np.meshgrid(np.arange(40.0), np.arange(30.0)), -1).reshape(-1, 2)
    kept = subsample(points, 16)
    assert len(kept) == 16 and np.array_equal(kept, subsample(points, 16))
    assert np.ptp(kept[:, 0]) > 30 and np.ptp(kept[:, 1]) > 20  # covers the whole patch


@pytest.mark.parametrize("task", ["pointnav", "imagenav"])
def test_point_episodes_are_solvable_and_reproducible(scene, kind, task):
    grid = scene.navgrid()
    eps = [EpisodeSampler(scene, grid, np.random.default_rng(7), 2.0, task=task) for _ in "ab"]
    first, second = ([s.sample() for _ in range(3)] for s in eps)
    assert first == second
    assert len({e.episode_id for e in first}) == 3
    for ep in first:
        start, goal = np.array(ep.start[:2]), ep.goal.positions[0]
        assert grid.is_navigable(start) and grid.is_navigable(goal)
        assert 2.0 <= ep.geodesic_distance < math.inf
        assert ep.geodesic_distance == pytest.approx(grid.geodesic_distance(start, goal), abs=1e-4)
        assert -math.pi <= ep.start[2] < math.pi
        assert ep.scene_kind == kind and ep.scene_seed == 0
        assert ep.scene_params == scene.metadata["params"]
        if task == "imagenav":
            assert ep.goal.kind == "image" and ep.info["goal_pose"][:2] == goal.tolist()
        else:
            assert ep.goal.kind == "point" and ep.info == {}


def test_languagenav_and_localization_episodes():
    home = cached_scene("home", 0, **SMALL["home"])
    grid = home.navgrid()
    sampler = EpisodeSampler(home, grid, np.random.default_rng(3), 1.5, task="languagenav")
    names = {g.instruction for g in language_goals(home, grid)}
    for _ in range(2):
        ep = sampler.sample()
        assert ep.goal.instruction in names
        assert ep.geodesic_distance >= 1.5
        assert GoalDistance(grid, ep.goal.positions)(ep.start[:2]) >= 1.5 - 0.1
    loc = EpisodeSampler(home, grid, np.random.default_rng(3), task="localization").sample()
    assert loc.geodesic_distance == 0.0 and loc.goal.positions.tolist() == [list(loc.start[:2])]


def test_sampler_names_the_constraint_it_cannot_meet():
    home = cached_scene("home", 0, **SMALL["home"])
    sampler = EpisodeSampler(home, home.navgrid(), np.random.default_rng(0), 50.0, 60.0,
                             max_tries=3)  # fmt: skip
    with pytest.raises(RuntimeError, match=r"after 3 tries: need geodesic distance in \[50.0"):
        sampler.sample()
    with pytest.raises(UnknownNameError, match="unknown task 'objectnav'"):
        EpisodeSampler(home, home.navgrid(), np.random.default_rng(0), task="objectnav")
    with pytest.raises(ValueError, match="max_geodesic"):
        EpisodeSampler(home, home.navgrid(), np.random.default_rng(0), 3.0, 2.0)
    with pytest.raises(ValueError, match=r"rng must be a numpy\.random\.Generator"):
        EpisodeSampler(home, home.navgrid(), 0)
    with pytest.raises(UnknownNameError, match="goal kind"):
        Goal("area", [[0.0, 0.0]])
