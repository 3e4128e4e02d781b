"""``astra-sim train global-sft``: supervised fine-tuning on the mixture of Astra-Global tasks.

The paper's SFT stage teaches coarse and fine localization, co-visibility detection,
picking the co-visible image and motion-trend estimation together; here each is a task
dataset from ``astra-sim data global`` and the mixture weights say how often each is seen.
TRL's ``SFTTrainer`` trains on the completion only (the JSON answer), full fine-tuning or
LoRA (peft).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astra_sim.agents.astra_global.mllm.data import DATA_TASKS
from astra_sim.agents.astra_global.mllm.recipes import (
    LoraSection,
    TrainSection,
    load_for_training,
    mix,
    prepare_dataset,
    save_final,
)
from astra_sim.core.errors import UnknownNameError

SFT_COLUMNS = ("prompt", "completion", "images")


@dataclass
class SFTRecipe:
    """``train global-sft`` settings.

    Attributes:
        model: checkpoint path, or ``tiny`` (a random tiny Qwen2.5-VL, for smoke runs).
        dataset: folder written by ``astra-sim data global``.
        data_recipe: a data recipe that writes ``dataset`` when it is missing.
        tasks: tasks of the mixture, from `DATA_TASKS`.
        weights: task -> mixture weight (rows resampled to weight x count; default 1).
        output_dir: checkpoints, ``final/`` and ``report.json`` go here.
        train: optimiser and run settings.
        lora: LoRA settings (full fine-tuning unless ``lora.enabled``).
    """

    model: str = "tiny"
    dataset: str = "outputs/global_data"
    data_recipe: str | None = None
    tasks: list[str] = field(default_factory=lambda: list(DATA_TASKS))
    weights: dict[str, float] = field(default_factory=dict)
    output_dir: str = "outputs/global_sft"
    train: TrainSection = field(default_factory=TrainSection)
    lora: LoraSection = field(default_factory=LoraSection)

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError("tasks must name at least one task")
        for t in [*self.tasks, *self.weights]:
            if t not in DATA_TASKS:
                raise UnknownNameError("task", t, DATA_TASKS)


def run_sft(recipe: SFTRecipe) -> dict[str, Any]:
    """Train, save ``output_dir/final`` and return the report (losses, checkpoint path)."""
    from trl import SFTConfig, SFTTrainer

    from astra_sim.agents.astra_global.mllm.data import load_task
    from astra_sim.core.recipe import to_dict

    out = Path(recipe.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = prepare_dataset(recipe.dataset, recipe.data_recipe, out)
    parts = {t: load_task(data_dir, t).select_columns(list(SFT_COLUMNS)) for t in recipe.tasks}
    train_set = mix(parts, recipe.weights, recipe.train.seed)
    model, processor, path, peft_config = load_for_training(
        recipe.model, out, recipe.lora, recipe.train.bf16
    )
    config = SFTConfig(
        **recipe.train.trl_kwargs(out), max_length=recipe.train.max_length,
        completion_only_loss=True,
    )  # fmt: skip
    trainer = SFTTrainer(
        model=model, args=config, train_dataset=train_set, processing_class=processor,
        peft_config=peft_config,
    )  # fmt: skip
    t0 = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - t0
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    report = {
        "recipe": to_dict(recipe),
        "model_path": str(path),
        "rows": len(train_set),
        "rows_per_task": {t: len(d) for t, d in parts.items()},
        "steps": trainer.state.global_step,
        "train_loss": float(result.training_loss),
        "losses": losses,
        "seconds": round(seconds, 2),
    }
    report["checkpoint"] = str(save_final(trainer, processor, out, report))
    return report
