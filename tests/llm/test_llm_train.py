"""Two SFT and two GRPO steps on the tiny model, with images; the checkpoints localize."""

from __future__ import annotations

import json

import pytest
from llm_helpers import queries, small_dataset, small_world, tiny_model, train_section

from astra_sim.agents.astra_global.mllm.grpo import GenerationSection, GRPORecipe, run_grpo
from astra_sim.agents.astra_global.mllm.localizer import MLLMConfig, load_mllm_localizer
from astra_sim.agents.astra_global.mllm.recipes import LoraSection
from astra_sim.agents.astra_global.mllm.sft import SFTRecipe, run_sft
from astra_sim.core.errors import UnknownNameError
from astra_sim.core.recipe import RecipeError, load_recipe


def localizes(checkpoint) -> None:
    """The checkpoint loads back and answers a query (its answer may be poor)."""
    _, topo = small_world()
    loc = load_mllm_localizer(checkpoint, MLLMConfig(max_prompt_tokens=400, max_new_tokens=8))
    r = loc.localize(queries()[0], topo)
    assert r.ok or r.failure
    assert loc.stats["coarse_answers"] == 1


def test_two_sft_steps_write_a_checkpoint_that_localizes(tmp_path) -> None:
    recipe = SFTRecipe(
        model=str(tiny_model()), dataset=str(small_dataset()), output_dir=str(tmp_path),
        weights={"coarse": 2.0}, train=train_section(),
    )  # fmt: skip
    report = run_sft(recipe)
    assert report["steps"] == 2 and len(report["losses"]) == 2
    assert report["rows_per_task"]["coarse"] == 2 and report["rows"] == 14
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["checkpoint"] == str(tmp_path / "final")
    localizes(tmp_path / "final")


def test_two_lora_sft_steps_merge_into_a_plain_checkpoint(tmp_path) -> None:
    recipe = SFTRecipe(
        model=str(tiny_model()), dataset=str(small_dataset()), output_dir=str(tmp_path),
        tasks=["coarse", "fine"], train=train_section(),
        lora=LoraSection(enabled=True, r=4, alpha=8),
    )  # fmt: skip
    report = run_sft(recipe)
    assert report["steps"] == 2
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    assert not (tmp_path / "final" / "adapter_config.json").exists()
    localizes(tmp_path / "final")


def test_two_grpo_steps_log_every_reward_and_localize(tmp_path) -> None:
    recipe = GRPORecipe(
        model=str(tiny_model()), dataset=str(small_dataset()), output_dir=str(tmp_path),
        stages=["coarse", "filter"], weights={"coarse": 2.0},
        generation=GenerationSection(num_generations=2, max_completion_length=8),
        train=train_section(batch_size=4),
    )  # fmt: skip
    report = run_grpo(recipe)
    assert report["steps"] == 2
    history = json.loads((tmp_path / "report.json").read_text())["log_history"]
    logged = {k for h in history for k in h}
    for name in ("format", "landmark", "map", "extra"):
        assert f"rewards/coarse_{name}_reward/mean" in logged
    assert "rewards/covis_covis_reward/mean" in logged
    for mean in report["reward_means"].values():
        assert 0.0 <= mean <= 1.0
    localizes(tmp_path / "final")


def test_bad_training_recipes_are_clear_errors(tmp_path) -> None:
    with pytest.raises(UnknownNameError, match="unknown task 'odometry'"):
        SFTRecipe(tasks=["coarse", "odometry"])
    with pytest.raises(UnknownNameError, match="unknown stage 'fine'"):
        GRPORecipe(stages=["fine"])
    path = tmp_path / "r.yaml"
    path.write_text("tasks: [coarse, teleport]\n")
    with pytest.raises(RecipeError, match="teleport"):
        load_recipe(SFTRecipe, path)
    with pytest.raises(RecipeError, match="unknown reward 'speed'"):
        load_recipe(GRPORecipe, None, ["rewards.weights={speed: 1}"])
    with pytest.raises(RecipeError, match="w_d"):
        load_recipe(GRPORecipe, None, ["rewards.w_d=0.9"])
    missing = SFTRecipe(
        model=str(tiny_model()), dataset=str(tmp_path / "none"), output_dir=str(tmp_path)
    )
    with pytest.raises(FileNotFoundError, match="astra-sim data global"):
        run_sft(missing)
    bad_model = SFTRecipe(
        model=str(tmp_path / "nope"), dataset=str(small_dataset()), output_dir=str(tmp_path)
    )
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run_sft(bad_model)


def test_grpo_with_lora_and_a_reference_model(tmp_path) -> None:
    recipe = GRPORecipe(
        model=str(tiny_model()), dataset=str(small_dataset()), output_dir=str(tmp_path),
        generation=GenerationSection(num_generations=2, max_completion_length=8, beta=0.04),
        train=train_section(), lora=LoraSection(enabled=True, r=4, alpha=8),
    )  # fmt: skip
    report = run_grpo(recipe)
    assert report["steps"] == 2 and set(report["reward_means"]) == {
        f"coarse_{n}_reward" for n in ("format", "landmark", "map", "extra")
    }
    localizes(tmp_path / "final")


def test_sft_teaches_the_answer_format_that_inference_parses(tmp_path) -> None:
    """End to end: what SFT trains on is what generation is prompted with. After 120 steps
    on co-visibility rows the tiny model answers parsable JSON for held-out rows, and GRPO
    from there sees non-zero format and co-visibility rewards."""
    from astra_sim.agents.astra_global.mllm import prompts
    from astra_sim.agents.astra_global.mllm.data import load_task

    sft = SFTRecipe(
        model=str(tiny_model()), dataset=str(small_dataset()), output_dir=str(tmp_path / "sft"),
        tasks=["covis"], train=train_section(max_steps=120, batch_size=4, learning_rate=3e-3,
                                             logging_steps=20),
    )  # fmt: skip
    report = run_sft(sft)
    assert report["losses"][-1] < 0.5 * report["losses"][0]
    loc = load_mllm_localizer(report["checkpoint"], MLLMConfig(max_new_tokens=16))
    for row in load_task(small_dataset(), "covis", "test"):
        parsed, raw = loc.ask(prompts.Prompt("covis", row["prompt"], row["images"]))
        assert parsed.ok, raw
    grpo = GRPORecipe(
        model=report["checkpoint"], dataset=str(small_dataset()), output_dir=str(tmp_path / "g"),
        stages=["filter"],
        generation=GenerationSection(num_generations=4, max_completion_length=16),
        train=train_section(max_steps=2, batch_size=8, learning_rate=1e-4),
    )  # fmt: skip
    means = run_grpo(grpo)["reward_means"]
    assert means["covis_format_reward"] > 0 and means["covis_covis_reward"] > 0
