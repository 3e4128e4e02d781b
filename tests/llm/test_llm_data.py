"""Training data from the simulator: one dataset per task, labels from ground truth."""

from __future__ import annotations

import json

import numpy as np
import pytest
from llm_helpers import data_recipe, small_dataset, work_dir

from astra_sim.agents.astra_global.mllm.data import DATA_TASKS, DataRecipe, load_task, scene_rows
from astra_sim.agents.astra_global.mllm.parse import parse_answer
from astra_sim.core.errors import UnknownNameError
from astra_sim.core.recipe import RecipeError, load_recipe


def answer(row) -> dict:
    p = parse_answer(row["task"], row["completion"])
    assert p.ok, p.error
    return p.value


def test_every_task_has_train_and_test_splits() -> None:
    root = small_dataset()
    meta = json.loads((root / "recipe.json").read_text())
    assert meta["recipe"]["train_seeds"] == [1] and meta["recipe"]["test_seeds"] == [0]
    for task in DATA_TASKS:
        for split in ("train", "test"):
            ds = load_task(root, task, split)
            assert len(ds) == meta["rows"][task][split] > 0
            row = ds[0]
            holes = sum(p["type"] == "image" for p in row["prompt"][0]["content"])
            assert holes == len(row["images"]) >= 1
            assert row["task"] == {"covis": "covis"}.get(task, task)
            answer(row)


def test_labels_agree_with_the_ground_truth_columns() -> None:
    root = small_dataset()
    for row in load_task(root, "coarse"):
        a = answer(row)
        assert a["map_ids"] == row["true_map_ids"]
        marks = json.loads(row["true_landmarks"])
        assert [m["category"] for m in a["landmarks"]] == [m["category"] for m in marks]
        poses = json.loads(row["landmark_poses"])
        assert all(str(k) in poses for k in row["true_map_ids"])
    for row in load_task(root, "covis"):
        assert answer(row)["score"] == pytest.approx(row["covis_true"])
    for row in load_task(root, "fine"):
        a = answer(row)
        assert [a["x"], a["y"], a["yaw"]] == pytest.approx(row["true_pose"], abs=0.006)
    for row in load_task(root, "select"):
        assert answer(row)["index"] < len(row["images"]) - 1


def test_rows_are_deterministic() -> None:
    r = data_recipe(work_dir() / "unused", tasks=["select", "motion"], tokenizer=None)
    a, b = scene_rows(r, "home", 0), scene_rows(r, "home", 0)
    for task in ("select", "motion"):
        assert [x["completion"] for x in a[task]] == [x["completion"] for x in b[task]]
        assert np.array_equal(
            np.asarray(a[task][0]["images"][1]), np.asarray(b[task][0]["images"][1])
        )


def test_bad_recipes_are_clear_errors(tmp_path) -> None:
    with pytest.raises(UnknownNameError, match="unknown task 'depth'"):
        DataRecipe(tasks=["coarse", "depth"])
    with pytest.raises(ValueError, match="overlap"):
        DataRecipe(train_seeds=[0, 1], test_seeds=[1])
    path = tmp_path / "r.yaml"
    path.write_text("tasks: [coarse, flying]\n")
    with pytest.raises(RecipeError, match="flying"):
        load_recipe(DataRecipe, path)
    with pytest.raises(RecipeError, match="quries"):
        load_recipe(DataRecipe, None, ["quries_per_scene=3"])
    with pytest.raises(FileNotFoundError, match="no 'fine' task"):
        load_task(tmp_path, "fine")
