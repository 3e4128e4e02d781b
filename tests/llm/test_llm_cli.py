"""The smoke recipes run from the command line and print every reward's mean.

``data global`` and ``train global-*`` are added to a parser here the way
``astra_sim.cli.main`` adds them, so these tests do not depend on the wiring.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from llm_helpers import tiny_model

from astra_sim.cli import data, train_global
from astra_sim.core.recipe import RecipeError

ROOT = Path(__file__).resolve().parents[2]


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="astra-sim")
    sub = parser.add_subparsers(dest="command", required=True)
    data.add_parser(sub)
    train = sub.add_parser("train")
    train_global.add_parsers(train.add_subparsers(dest="train_command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


@pytest.fixture(scope="module")
def smoke_data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("smoke") / "data"
    recipe = str(ROOT / "train" / "global_data_smoke.yaml")
    assert cli("data", "global", "--recipe", recipe, f"out={out}", f"tokenizer={tiny_model()}") == 0
    return out


def test_data_smoke_recipe(smoke_data: Path, capsys) -> None:
    meta = json.loads((smoke_data / "recipe.json").read_text())
    assert meta["rows"]["coarse"] == {"train": 4, "test": 4}
    assert meta["rows"]["covis"] == {"train": 8, "test": 8}


def test_sft_smoke_recipe(smoke_data: Path, tmp_path: Path, capsys) -> None:
    recipe = str(ROOT / "train" / "global_sft_smoke.yaml")
    rc = cli("train", "global-sft", "--recipe", recipe, f"dataset={smoke_data}",
             f"output_dir={tmp_path}", f"model={tiny_model()}")  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0 and "losses per logging step" in out
    assert (tmp_path / "final" / "model.safetensors").is_file()


def test_grpo_smoke_recipe_prints_per_reward_means(
    smoke_data: Path, tmp_path: Path, capsys
) -> None:
    recipe = str(ROOT / "train" / "global_grpo_smoke.yaml")
    rc = cli("train", "global-grpo", "--recipe", recipe, f"dataset={smoke_data}",
             f"output_dir={tmp_path}", f"model={tiny_model()}", "train.max_steps=2")  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0 and "per-reward means over the run:" in out
    for name in ("format", "landmark", "map", "extra"):
        assert f"coarse_{name}_reward" in out
    assert "covis_covis_reward" in out
    assert "rewards/coarse_map_reward/mean" in out  # TRL's per-step log


def test_bad_input_is_a_clear_error(smoke_data: Path, tmp_path: Path) -> None:
    sft = str(ROOT / "train" / "global_sft_smoke.yaml")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cli("train", "global-sft", "--recipe", sft, f"dataset={smoke_data}",
            f"output_dir={tmp_path}", f"model={tmp_path / 'missing'}")  # fmt: skip
    with pytest.raises(RecipeError, match="unknown task 'teleport'"):
        cli("train", "global-sft", "--recipe", sft, "tasks=[coarse, teleport]")
    with pytest.raises(RecipeError, match="unknown stage"):
        cli("train", "global-grpo", "--recipe", sft.replace("sft", "grpo"), "stages=[fine]")
    with pytest.raises(RecipeError, match="unknown task"):
        cli("data", "global", "--recipe", sft.replace("sft", "data"), "tasks=[depth]")
    with pytest.raises(FileNotFoundError, match="recipe"):
        cli("data", "global", "--recipe", str(tmp_path / "none.yaml"))


@pytest.mark.parametrize("name", ["global_sft_3b", "global_grpo_3b"])
def test_real_recipes_load(name: str) -> None:
    from astra_sim.agents.astra_global.mllm.grpo import GRPORecipe
    from astra_sim.agents.astra_global.mllm.sft import SFTRecipe
    from astra_sim.core.recipe import load_recipe

    schema = SFTRecipe if "sft" in name else GRPORecipe
    cfg = load_recipe(schema, ROOT / "train" / f"{name}.yaml")
    assert cfg.train.bf16 and not cfg.train.use_cpu
