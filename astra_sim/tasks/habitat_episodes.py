"""habitat-lab episode datasets (PointNav, ObjectNav, ImageNav v1 ``*.json.gz``) both ways.

Read: every episode's ``scene_id`` must name a scene of the given scene dataset; positions
convert to our frame at the habitat height of the episode's floor, so a multi-storey scan
becomes one of our single-floor scenes per storey. Floors are the episodes' own start
heights, clustered per scene (starts within 0.5 m of each other share a floor). Goals and
ObjectNav view points on another floor are dropped, and an episode left without one is
skipped (counted in a warning). ObjectNav episodes become ``languagenav`` episodes whose
goal is the object's view points ("Find a chair."), as in habitat's success rule.

Write: a PointNav-v1 file with exactly the keys habitat-lab's ``NavigationEpisode`` and
``NavigationGoal`` accept (they are attrs classes, so any other key is a TypeError).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.errors import AstraSimError
from astra_sim.core.fileio import atomic_write
from astra_sim.scenes.habitat import frames
from astra_sim.scenes.habitat.dataset import HabitatDataset, SceneSpec
from astra_sim.tasks.episode import Episode, quantize
from astra_sim.tasks.episode_file import EpisodeFormatError
from astra_sim.tasks.episodes import EpisodeSet
from astra_sim.tasks.goals import Goal, subsample

SCENE_KIND = "habitat"
FLOOR_GAP = 0.5
"""Metres: starts further apart in height than this are on different floors."""
HABITAT_TASKS = ("pointnav", "imagenav", "objectnav")


class HabitatEpisodeWarning(UserWarning):
    """Some episodes of a habitat file could not be used (their goal is on another floor)."""


def read_documents(path: str | Path) -> list[tuple[Path, dict[str, Any]]]:
    """The decoded split file and, if it shards per scene, every ``content/*.json.gz``.

    habitat-lab's loaders read ``{data_path}/content/{scene}.json.gz`` beside the split file
    (or the file's own ``content_scenes_path`` pattern) whenever that folder exists.
    """
    path = Path(path)
    docs = [(path, _read_json_gz(path))]
    pattern = docs[0][1].get("content_scenes_path", "{data_path}/content/{scene}.json.gz")
    head, _, tail = pattern.partition("{scene}")
    folder = Path(head.format(data_path=str(path.parent)))
    if folder.is_dir():
        docs += [(f, _read_json_gz(f)) for f in sorted(folder.glob(f"*{tail}"))]
    return docs


def _read_json_gz(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        doc = json.loads(text)
    except FileNotFoundError:
        raise EpisodeFormatError(f"episode file {path} does not exist") from None
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise EpisodeFormatError(f"cannot read episode file {path}: {e}") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EpisodeFormatError(f"episode file {path} is not valid JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("episodes"), list):
        raise EpisodeFormatError(f"episode file {path}: expected an object with an 'episodes' list")
    return doc


def load_habitat_episodes(
    path: str | Path, dataset: HabitatDataset, task: str | None = None
) -> EpisodeSet:
    """Episodes of a habitat-lab file in our frame.

    Args:
        path: the ``*.json.gz`` (or plain ``.json``) split file.
        dataset: the scene dataset the episodes' ``scene_id`` refer to.
        task: ``pointnav``, ``imagenav`` (PointNav-style episodes whose goal image is taken at
            the goal) or ``objectnav``; by default ``objectnav`` when the file has object
            goals, else ``pointnav``.

    Raises:
        EpisodeFormatError: naming the file, the episode and what is wrong, e.g. a scene
            that is not in the dataset or a start that is not 3 numbers.
    """
    docs = read_documents(path)
    is_object = any("goals_by_category" in d or _has_object_goal(d) for _, d in docs)
    task = task or ("objectnav" if is_object else "pointnav")
    if task not in HABITAT_TASKS:
        raise ValueError(f"task must be one of {', '.join(HABITAT_TASKS)}, got {task!r}")
    raw: list[tuple[Path, int, dict[str, Any], SceneSpec, list[dict[str, Any]]]] = []
    for file, doc in docs:
        by_category = doc.get("goals_by_category", {})
        for i, ep in enumerate(doc["episodes"]):
            where = f"episode file {file}: episodes[{i}]"
            _check(ep, where)
            try:
                spec = dataset.resolve(str(ep["scene_id"]))
            except AstraSimError as e:
                raise EpisodeFormatError(f"{where} (episode_id {ep['episode_id']!r}): {e}") from e
            goals = ep.get("goals") or []
            if not goals and "object_category" in ep:
                key = f"{Path(str(ep['scene_id'])).name}_{ep['object_category']}"
                goals = by_category.get(key, [])
            if not goals:
                raise EpisodeFormatError(f"{where}: has no goals")
            raw.append((file, i, ep, spec, goals))
    floors = _floors([(spec.name, float(ep["start_position"][1])) for _, _, ep, spec, _ in raw])
    episodes, skipped = [], 0
    for (file, i, ep, spec, goals), floor in zip(raw, floors, strict=True):
        episode = _episode(ep, spec, goals, floor, task, f"episode file {file}: episodes[{i}]")
        if episode is None:
            skipped += 1
        else:
            episodes.append(episode)
    if skipped:
        warnings.warn(
            f"{path}: skipped {skipped} of {len(raw)} episodes whose goals all lie on another "
            "floor than the start (our scenes are one floor each)",
            HabitatEpisodeWarning,
            stacklevel=2,
        )
    return EpisodeSet(episodes)


def _has_object_goal(doc: dict[str, Any]) -> bool:
    return any("object_category" in ep for ep in doc["episodes"][:1])


def _check(ep: Any, where: str) -> None:
    if not isinstance(ep, dict):
        raise EpisodeFormatError(f"{where} must be an object, got {type(ep).__name__}")
    for key in ("episode_id", "scene_id", "start_position", "start_rotation"):
        if key not in ep:
            raise EpisodeFormatError(f"{where} is missing key {key!r}")
    for key, n in (("start_position", 3), ("start_rotation", 4)):
        v = ep[key]
        ok = isinstance(v, list) and len(v) == n
        if not ok or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in v):
            raise EpisodeFormatError(f"{where}.{key} must be {n} finite numbers, got {v!r}")


def _floors(starts: list[tuple[str, float]]) -> list[float]:
    """The floor height of each start: the median of its scene's cluster of start heights."""
    out = [0.0] * len(starts)
    by_scene: dict[str, list[int]] = {}
    for k, (name, _) in enumerate(starts):
        by_scene.setdefault(name, []).append(k)
    for rows in by_scene.values():
        rows = sorted(rows, key=lambda k: starts[k][1])
        cluster = [rows[0]]
        for k in [*rows[1:], None]:
            if k is not None and starts[k][1] - starts[cluster[-1]][1] <= FLOOR_GAP:
                cluster.append(k)
                continue
            floor = quantize(float(np.median([starts[c][1] for c in cluster])))
            for c in cluster:
                out[c] = floor
            cluster = [k]
    return out


def _episode(
    ep: dict[str, Any], spec: SceneSpec, goals: list[dict[str, Any]], floor: float, task: str,
    where: str,
) -> Episode | None:  # fmt: skip
    start = frames.habitat_to_ours(ep["start_position"], floor)
    try:
        yaw = frames.habitat_yaw(ep["start_rotation"])
    except ValueError as e:
        raise EpisodeFormatError(f"{where}.start_rotation: {e}") from e
    points, object_ids, category = [], [], ""
    for g, goal in enumerate(goals):
        if not isinstance(goal, dict) or "position" not in goal:
            raise EpisodeFormatError(f"{where}.goals[{g}] has no position")
        views = goal.get("view_points") or []
        spots = [v["agent_state"]["position"] for v in views if "agent_state" in v]
        points += spots or [goal["position"]]
        if "object_id" in goal:
            object_ids.append(int(goal["object_id"]))
        category = category or str(goal.get("object_category") or ep.get("object_category", ""))
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    pts = pts[np.abs(pts[:, 1] - floor) <= FLOOR_GAP]
    if len(pts) == 0:
        return None
    xy = np.round(subsample(frames.habitat_to_ours(pts, floor)[:, :2]), 4) + 0.0
    info = ep.get("info") or {}
    geodesic = info.get("geodesic_distance")
    source = "habitat"
    if not isinstance(geodesic, (int, float)) or not math.isfinite(geodesic) or geodesic < 0:
        geodesic, source = float(np.linalg.norm(xy - start[:2], axis=1).min()), "euclidean"
    extra: dict[str, Any] = {
        "habitat_scene_id": str(ep["scene_id"]),
        "habitat_start_position": [float(v) for v in ep["start_position"]],
        "habitat_start_rotation": [float(v) for v in ep["start_rotation"]],
        "geodesic_source": source,
    }
    if task == "objectnav":
        name = category.replace("_", " ") or "object"
        goal = Goal("object", xy, f"Find a {name}.", object_ids)
        extra["object_category"] = category
        kind = "languagenav"
    elif task == "imagenav":
        goal, kind = Goal("image", xy[:1]), "imagenav"
        rotation = goals[0].get("rotation")
        goal_yaw = frames.habitat_yaw(rotation) if rotation else _stable_yaw(ep["episode_id"])
        extra["goal_pose"] = [float(xy[0, 0]), float(xy[0, 1]), quantize(goal_yaw)]
    else:
        goal, kind = Goal("point", xy[:1]), "pointnav"
    return Episode(
        episode_id=str(ep["episode_id"]),
        task=kind,
        scene_kind=SCENE_KIND,
        scene_seed=None,
        scene_params={"scene_id": spec.name, "floor_height": floor},
        start=(quantize(start[0]), quantize(start[1]), quantize(yaw)),
        goal=goal,
        geodesic_distance=quantize(geodesic),
        info=extra,
    )


def _stable_yaw(episode_id: object) -> float:
    """A goal-image heading fixed by the episode id alone. habitat-lab's ImageGoalSensor
    seeds with Python's ``hash``, which is salted per process, so no file can reproduce it."""
    digest = hashlib.sha256(str(episode_id).encode("utf-8")).digest()
    return (int.from_bytes(digest[:8], "little") / 2**64) * 2 * math.pi - math.pi


def pointnav_document(
    episodes: Iterable[Episode], scene_id: str, scene_dataset_config: str = "default"
) -> dict[str, Any]:
    """A PointNav-v1 document for our point-goal episodes in one scene (floor at y = 0)."""
    out = []
    for ep in episodes:
        if ep.goal.kind not in ("point", "image"):
            raise ValueError(f"episode {ep.episode_id}: only point goals export to PointNav")
        start = frames.ours_to_habitat(np.asarray(ep.start[:2]))
        goal = frames.ours_to_habitat(ep.goal.positions[0])
        euclid = float(np.linalg.norm(np.asarray(ep.start[:2]) - ep.goal.positions[0]))
        out.append(
            {
                "episode_id": str(ep.episode_id),
                "scene_id": scene_id,
                "scene_dataset_config": scene_dataset_config,
                "start_position": [round(float(v), 4) + 0.0 for v in start],
                "start_rotation": [round(v, 6) + 0.0 for v in frames.yaw_to_habitat(ep.start[2])],
                "info": {
                    "geodesic_distance": float(ep.geodesic_distance),
                    "euclidean_distance": round(euclid, 4),
                },
                "goals": [{"position": [round(float(v), 4) + 0.0 for v in goal], "radius": None}],
                "start_room": None,
                "shortest_paths": None,
            }
        )
    return {"episodes": out}


def write_pointnav(
    path: str | Path,
    episodes: Iterable[Episode],
    scene_id: str,
    scene_dataset_config: str = "default",
) -> Path:
    """Write a habitat-lab PointNav-v1 ``.json.gz`` atomically; returns the path."""
    doc = pointnav_document(episodes, scene_id, scene_dataset_config)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return atomic_write(path, gzip.compress(text, mtime=0))


__all__ = [
    "HABITAT_TASKS",
    "SCENE_KIND",
    "HabitatEpisodeWarning",
    "load_habitat_episodes",
    "pointnav_document",
    "read_documents",
    "write_pointnav",
]
