"""Training data for Astra-Global from the simulator: one HF ``datasets`` folder per task.

Each row is a finished prompt-completion pair in TRL's conversational form (``prompt``,
``completion``, ``images``, ``task``) plus the ground truth the GRPO rewards read. Labels
come from the simulator and the map, never from a model:

- ``coarse``: the landmarks the query sees are the map landmarks whose instances cover at
  least the map's ``min_pixels`` of the query (the semantic render, as the map decides what
  a node sees); columns ``true_landmarks`` (JSON), ``true_map_ids``, ``true_pose`` and
  ``landmark_poses`` (JSON: id -> pose of the node that sees it best).
- ``covis``: query + a node's views; the score is the IoU of the two landmark sets. Per
  query the most co-visible node and one random node (``covis_true``).
- ``select``: query + ``candidates`` node views, one of them the most co-visible one.
- ``fine``: query + the ``references`` nearest nodes with their poses -> the true pose.
- ``motion``: the nearest node's views, then the query's -> the query pose in the node's
  frame.

Splits are by scene seed (``train_seeds`` / ``test_seeds``, disjoint), so the test split
is in buildings the model never saw. The map text in prompts is cut to
``max_prompt_tokens`` counted with ``tokenizer``'s own tokenizer (words without one).
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.agents.astra_global.mllm import prompts
from astra_sim.core.errors import UnknownNameError
from astra_sim.core.seeding import make_rng
from astra_sim.mapping.graph import TopoSemanticMap

DATA_TASKS: tuple[str, ...] = ("coarse", "covis", "select", "fine", "motion")
"""The tasks ``astra-sim data global`` writes (SFT mixes them; GRPO uses coarse, covis)."""


@dataclass
class MapSection:
    """How the maps of the data scenes are built (see `astra_sim.mapping.build.MapConfig`)."""

    travel: float = 0.5
    turn_deg: float = 30.0
    spacing: float = 2.5
    rig: str = "default"


@dataclass
class DataRecipe:
    """``astra-sim data global`` settings (YAML recipe + dotted overrides).

    Attributes:
        out: output folder; one dataset folder per task inside, plus ``recipe.json``.
        tasks: tasks to write, from `DATA_TASKS`.
        kinds: scene kinds.
        train_seeds / test_seeds: scene seeds of each split (disjoint).
        scene_params: per kind, keyword arguments of the scene generator.
        map: map build settings.
        queries_per_scene: query poses per scene (each gives one row per task, two for covis).
        near_node: queries lie within this many metres of a map node.
        candidates: images of a ``select`` row.
        references: reference nodes of a ``fine`` row.
        max_prompt_tokens: token budget of a coarse prompt (None: the whole map).
        tokenizer: a model path (or ``tiny``) whose tokenizer counts that budget.
        seed: seeds query poses and every pick.
        cache_dir: map cache (default ``~/.cache/astra-sim``).
    """

    out: str = "outputs/global_data"
    tasks: list[str] = field(default_factory=lambda: list(DATA_TASKS))
    kinds: list[str] = field(default_factory=lambda: ["home", "office", "warehouse"])
    train_seeds: list[int] = field(default_factory=lambda: [100, 101])
    test_seeds: list[int] = field(default_factory=lambda: [0])
    scene_params: dict[str, Any] = field(default_factory=dict)
    map: MapSection = field(default_factory=MapSection)
    queries_per_scene: int = 16
    near_node: float = 1.0
    candidates: int = 4
    references: int = 3
    max_prompt_tokens: int | None = 4096
    tokenizer: str | None = None
    seed: int = 0
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        for t in self.tasks:
            if t not in DATA_TASKS:
                raise UnknownNameError("task", t, DATA_TASKS)
        if not self.tasks:
            raise ValueError("tasks must name at least one task")
        both = set(self.train_seeds) & set(self.test_seeds)
        if both:
            raise ValueError(f"train_seeds and test_seeds overlap: {sorted(both)}")
        for key in ("queries_per_scene", "candidates", "references"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")


def landmark_poses(topo_map: TopoSemanticMap) -> dict[int, list[float]]:
    """Landmark id -> pose (x, y, yaw) of the node seeing it with the most pixels."""
    best: dict[int, tuple[int, list[float]]] = {}
    for node in topo_map.nodes:
        for k, px in zip(node.landmarks, node.landmark_pixels, strict=True):
            if k not in best or px > best[k][0]:
                best[k] = (px, [round(float(v), 3) for v in node.pose2d])
    return {k: v for k, (_, v) in best.items()}


def _iou(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _relative(base: np.ndarray, pose: np.ndarray) -> list[float]:
    """``pose`` in ``base``'s frame: (forward, left, turn) wrapped to (-pi, pi]."""
    c, s = math.cos(base[2]), math.sin(base[2])
    dx, dy = pose[0] - base[0], pose[1] - base[1]
    dyaw = (pose[2] - base[2] + math.pi) % (2 * math.pi) - math.pi
    return [c * dx + s * dy, -s * dx + c * dy, dyaw]


def _row(p: prompts.Prompt, answer: str, **labels: Any) -> dict[str, Any]:
    return {
        "task": p.task,
        "prompt": p.messages,
        "completion": [{"role": "assistant", "content": [{"type": "text", "text": answer}]}],
        "images": p.images,
        **labels,
    }


def scene_rows(
    recipe: DataRecipe, kind: str, seed: int, processor: Any = None
) -> dict[str, list[dict[str, Any]]]:
    """Rows of every task of one scene, from simulator ground truth."""
    from astra_sim.agents.astra_global.landmarks import LandmarkLocalizer
    from astra_sim.eval.localization import QueryConfig, make_queries
    from astra_sim.mapping.build import MapConfig
    from astra_sim.mapping.cache import cached_map
    from astra_sim.render.rig import Rig
    from astra_sim.scenes.generators import generate_scene

    params = dict(recipe.scene_params.get(kind) or {})
    m = recipe.map
    config = MapConfig(travel=m.travel, turn_deg=m.turn_deg, spacing=m.spacing, rig=m.rig)
    scene = generate_scene(kind, seed, **params)
    topo = cached_map(kind, seed, config, params or None, recipe.cache_dir)
    qcfg = QueryConfig(
        per_scene=recipe.queries_per_scene, query_scale=1, near_node=recipe.near_node,
        seed=recipe.seed,
    )  # fmt: skip
    queries = make_queries(scene, topo, Rig.from_name(m.rig), qcfg)
    oracle = LandmarkLocalizer("oracle", min_pixels=config.min_pixels)
    rng = make_rng(recipe.seed, "global-data", kind, str(seed))
    poses_json = json.dumps(landmark_poses(topo))
    node_sets = [set(n.landmarks) for n in topo.nodes]
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in recipe.tasks}
    coarse_prompt = None
    for q in queries:
        dets = oracle.detect(q, topo)
        marks = [
            {"category": d.landmark.category, "colour": d.landmark.attributes.get("colour", ""),
             "text": d.landmark.text}
            for d in dets
        ]  # fmt: skip
        ids = [int(d.map_id) for d in dets if d.map_id is not None]
        seen = set(ids)
        truth = [round(float(v), 3) for v in q.true_pose]
        iou = np.array([_iou(seen, s) for s in node_sets])
        order = np.argsort(-iou, kind="stable")
        dist = np.linalg.norm(topo.positions - np.asarray(q.true_pose[:2]), axis=1)
        if "coarse" in out:
            if coarse_prompt is None:  # the map text depends on the map only
                coarse_prompt = prompts.coarse_prompt(
                    q.rgb, topo, processor, recipe.max_prompt_tokens
                )
            p = prompts.Prompt("coarse", coarse_prompt.messages, [prompts.views_image(q.rgb)])
            out["coarse"].append(_row(
                p, prompts.coarse_answer(marks, ids), true_landmarks=json.dumps(marks),
                true_map_ids=ids, true_pose=truth, landmark_poses=poses_json,
            ))  # fmt: skip
        if "covis" in out:
            for n in (int(order[0]), int(rng.integers(len(topo.nodes)))):
                p = prompts.covis_prompt(q.rgb, topo.nodes[n].rgb)
                score = round(float(iou[n]), 2)
                out["covis"].append(_row(p, prompts.covis_answer(score), covis_true=score))
        if "select" in out:
            best = int(order[0])
            others = [int(n) for n in np.flatnonzero(iou < iou[best])]
            k = min(recipe.candidates - 1, len(others))
            picks = [best, *(int(v) for v in rng.choice(others, size=k, replace=False))]
            rng.shuffle(picks)
            p = prompts.select_prompt(q.rgb, [topo.nodes[n].rgb for n in picks])
            out["select"].append(_row(p, prompts.select_answer(picks.index(best))))
        if "fine" in out:
            refs = [int(n) for n in np.argsort(dist, kind="stable")[: recipe.references]]
            rng.shuffle(refs)
            p = prompts.fine_prompt(q.rgb, [topo.nodes[n] for n in refs])
            out["fine"].append(_row(p, prompts.fine_answer(truth), true_pose=truth))
        if "motion" in out:
            near = topo.nodes[int(np.argmin(dist))]
            delta = _relative(np.asarray(near.pose2d), np.asarray(q.true_pose))
            p = prompts.motion_prompt(near.rgb, q.rgb)
            out["motion"].append(_row(p, prompts.motion_answer(delta)))
    return out


def write_global_datasets(recipe: DataRecipe, progress: bool = True) -> dict[str, dict[str, int]]:
    """Write ``recipe.out/<task>`` (a ``DatasetDict`` with train and test splits) per task.

    Each task folder is written under a temporary name and renamed, so a crash leaves no
    partial dataset. Returns rows per task and split.
    """
    import datasets

    from astra_sim.agents.astra_global.mllm.model import load_processor, resolve_model

    out = Path(recipe.out)
    out.mkdir(parents=True, exist_ok=True)
    processor = None
    if recipe.tokenizer is not None:
        processor = load_processor(resolve_model(recipe.tokenizer, out))
    rows: dict[str, dict[str, list]] = {t: {"train": [], "test": []} for t in recipe.tasks}
    for split, seeds in (("train", recipe.train_seeds), ("test", recipe.test_seeds)):
        for kind in recipe.kinds:
            for seed in seeds:
                if progress:
                    print(f"data global: {split} {kind} seed {seed}", flush=True)
                for task, task_rows in scene_rows(recipe, kind, seed, processor).items():
                    rows[task][split] += task_rows
    counts = {}
    for task, splits in rows.items():
        dd = datasets.DatasetDict(
            {s: datasets.Dataset.from_list(r) for s, r in splits.items() if r}
        )
        tmp, final = out / f".{task}.tmp", out / task
        shutil.rmtree(tmp, ignore_errors=True)
        dd.save_to_disk(str(tmp))
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        counts[task] = {s: len(r) for s, r in splits.items()}
    from astra_sim.core.fileio import atomic_write
    from astra_sim.core.recipe import to_dict

    meta = {"recipe": to_dict(recipe), "rows": counts}
    atomic_write(out / "recipe.json", (json.dumps(meta, indent=1) + "\n").encode())
    return counts


def load_task(root: str | Path, task: str, split: str = "train") -> Any:
    """One task's split of a dataset written by `write_global_datasets`.

    Raises:
        FileNotFoundError: naming the folder when the task was not written.
    """
    import datasets

    folder = Path(root) / task
    if not folder.is_dir():
        raise FileNotFoundError(
            f"dataset {root} has no {task!r} task (no folder {folder}); write it with "
            "`astra-sim data global`"
        )
    dd = datasets.load_from_disk(str(folder))
    if split not in dd:
        raise FileNotFoundError(f"dataset {folder} has no {split!r} split: {list(dd)}")
    return dd[split]
