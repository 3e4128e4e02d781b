"""habitat-lab episode files (PointNav, ObjectNav, ImageNav v1) into our episodes and back."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest

from astra_sim.scenes.habitat import HabitatDataset
from astra_sim.tasks import EpisodeFormatError, EpisodeSampler
from astra_sim.tasks.habitat_episodes import (
    HabitatEpisodeWarning,
    load_habitat_episodes,
    write_pointnav,
)
from tests.conftest import cached_scene
from tests.scenes.habitat_files import pointnav_episode, write_episodes, write_room_dataset

# What habitat-lab's attrs classes accept (NavigationEpisode(**ep), NavigationGoal(**goal)):
# habitat-lab/habitat/core/dataset.py Episode and tasks/nav/nav.py.
EPISODE_KEYS = {
    "episode_id", "scene_id", "scene_dataset_config", "additional_obj_config_paths",
    "start_position", "start_rotation", "info", "goals", "start_room", "shortest_paths",
}  # fmt: skip
GOAL_KEYS = {"position", "radius"}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return HabitatDataset(write_room_dataset(tmp_path_factory.mktemp("room")))


def test_pointnav_positions_rotation_and_geodesic_convert(dataset, tmp_path):
    ep = pointnav_episode("7", (1.0, 3.0), (4.0, 2.0), yaw_t=0.5, height=0.02)
    ep["info"]["geodesic_distance"] = 3.5
    path = write_episodes(tmp_path / "val.json.gz", [ep])
    (episode,) = load_habitat_episodes(path, dataset)
    assert episode.task == "pointnav" and episode.episode_id == "7"
    assert episode.start == pytest.approx((1.0, 3.0, 0.5 + math.pi / 2), abs=1e-4)  # 1e-4 file
    assert episode.goal.positions.tolist() == [[4.0, 2.0]]
    assert episode.geodesic_distance == 3.5
    assert episode.scene_params == {"scene_id": "room", "floor_height": 0.02}
    assert episode.info["habitat_start_position"] == [1.0, 0.02, -3.0]


def test_floors_cluster_per_scene_and_other_floor_goals_are_skipped(dataset, tmp_path):
    eps = [
        pointnav_episode("a", (1, 1), (2, 2), height=0.0),
        pointnav_episode("b", (1, 1), (2, 2), height=0.04),
        pointnav_episode("c", (1, 1), (2, 2), height=3.0),
    ]
    eps.append(pointnav_episode("d", (1, 1), (2, 2), height=0.0))
    eps[-1]["goals"][0]["position"][1] = 3.0  # goal upstairs
    path = write_episodes(tmp_path / "val.json.gz", eps)
    with pytest.warns(HabitatEpisodeWarning, match="skipped 1 of 4"):
        loaded = load_habitat_episodes(path, dataset)
    floors = {e.episode_id: e.scene_params["floor_height"] for e in loaded}
    assert floors == {"a": 0.0, "b": 0.0, "c": 3.0}


def test_objectnav_goals_by_category_become_view_point_goals(dataset, tmp_path):
    views = [
        {"agent_state": {"position": p, "rotation": [0, 0, 0, 1]}, "iou": 0.5}
        for p in ([4.2, 0.0, -3.0], [5.0, 0.0, -2.2])
    ]
    goal = {"position": [5.0, 0.9, -3.0], "radius": None, "object_id": 4,
            "object_category": "refrigerator", "view_points": views}  # fmt: skip
    ep = pointnav_episode("0", (1.0, 3.0), (5.0, 3.0))
    ep.update(goals=[], object_category="refrigerator")
    path = write_episodes(
        tmp_path / "objnav.json.gz",
        [ep],
        goals_by_category={"room.glb_refrigerator": [goal]},
        category_to_task_category_id={"refrigerator": 0},
        category_to_scene_annotation_category_id={"refrigerator": 0},
    )
    (episode,) = load_habitat_episodes(path, dataset)
    assert episode.task == "languagenav"
    assert episode.goal.kind == "object" and episode.goal.instruction == "Find a refrigerator."
    assert episode.goal.positions.tolist() == [[4.2, 3.0], [5.0, 2.2]]
    assert episode.goal.instance_ids == [4]


def test_imagenav_goal_pose_is_fixed_by_the_episode(dataset, tmp_path):
    path = write_episodes(tmp_path / "v.json.gz", [pointnav_episode("x", (1, 1), (3, 3))])
    first = load_habitat_episodes(path, dataset, task="imagenav")[0]
    again = load_habitat_episodes(path, dataset, task="imagenav")[0]
    assert first.task == "imagenav" and first.info["goal_pose"][:2] == [3.0, 3.0]
    assert first.info["goal_pose"] == again.info["goal_pose"]


def test_per_scene_content_files_are_read(dataset, tmp_path):
    write_episodes(tmp_path / "val" / "val.json.gz", [])
    write_episodes(
        tmp_path / "val" / "content" / "room.json.gz", [pointnav_episode("1", (1, 1), (2, 3))]
    )
    (episode,) = load_habitat_episodes(tmp_path / "val" / "val.json.gz", dataset)
    assert episode.episode_id == "1"


def test_episode_whose_scene_is_not_in_the_dataset_names_file_and_scene(dataset, tmp_path):
    ep = pointnav_episode(
        "42", (1, 1), (2, 2), scene="hm3d/val/00800-TEEsavR23oF/TEEsavR23oF.basis.glb"
    )
    path = write_episodes(tmp_path / "val.json.gz", [ep])
    with pytest.raises(
        EpisodeFormatError,
        match=r"val\.json\.gz: episodes\[0\] \(episode_id '42'\).*TEEsavR23oF.*not in the scene",
    ):
        load_habitat_episodes(path, dataset)


def test_malformed_episode_fields_are_named(dataset, tmp_path):
    ep = pointnav_episode("1", (1, 1), (2, 2))
    ep["start_rotation"] = [0, 0, 1]
    path = write_episodes(tmp_path / "val.json.gz", [ep])
    with pytest.raises(
        EpisodeFormatError, match=r"episodes\[0\]\.start_rotation must be 4 finite numbers"
    ):
        load_habitat_episodes(path, dataset)
    (tmp_path / "broken.json.gz").write_bytes(b"\x1f\x8b nope")
    with pytest.raises(EpisodeFormatError, match=r"broken\.json\.gz"):
        load_habitat_episodes(tmp_path / "broken.json.gz", dataset)


def test_written_pointnav_has_only_habitat_lab_keys_and_reads_back(tmp_path):
    scene = cached_scene("home", 0)
    sampler = EpisodeSampler(scene, scene.navgrid(), np.random.default_rng(0))
    episodes = [sampler.sample() for _ in range(3)]
    path = write_pointnav(tmp_path / "ep.json.gz", episodes, "home-0/home-0.glb", "cfg.json")
    doc = json.loads(gzip.decompress(path.read_bytes()))
    for ep in doc["episodes"]:
        assert set(ep) <= EPISODE_KEYS and {"episode_id", "scene_id", "goals"} <= set(ep)
        assert all(set(g) <= GOAL_KEYS for g in ep["goals"])
        assert isinstance(ep["episode_id"], str) and len(ep["start_rotation"]) == 4
    assert (
        path.read_bytes()
        == write_pointnav(
            tmp_path / "again.json.gz", episodes, "home-0/home-0.glb", "cfg.json"
        ).read_bytes()
    )
    from astra_sim.scenes.habitat import export_habitat

    export_habitat(scene, tmp_path / "ds")
    back = load_habitat_episodes(path, HabitatDataset(tmp_path / "ds"))
    for a, b in zip(episodes, back, strict=True):
        assert np.allclose(a.start, b.start, atol=2e-4) and np.allclose(
            a.goal.positions, b.goal.positions
        )
        assert b.geodesic_distance == a.geodesic_distance
