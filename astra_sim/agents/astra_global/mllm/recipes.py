"""Recipe sections and plumbing shared by ``train global-sft`` and ``train global-grpo``.

Recipes are YAML files read by `astra_sim.core.recipe.load_recipe` into the dataclasses
here (unknown keys are errors). The model is a checkpoint path, or ``tiny`` for smoke runs
(a random tiny Qwen2.5-VL built into the output folder). The dataset is a folder written by
``astra-sim data global``; with ``data_recipe`` set it is written first when missing.
The finished model (LoRA merged in) and its processor are saved to ``<output_dir>/final``,
a checkpoint `load_mllm_localizer` and ``--model`` accept like any other.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.seeding import make_rng


@dataclass
class LoraSection:
    """LoRA (peft) instead of full fine-tuning when ``enabled``."""

    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )


@dataclass
class TrainSection:
    """Optimiser and run settings passed to TRL's config (a subset of TrainingArguments)."""

    max_steps: int = 1000
    learning_rate: float = 1e-5
    batch_size: int = 1
    grad_accum: int = 1
    logging_steps: int = 10
    save_steps: int = 0  # 0: only the final checkpoint
    seed: int = 0
    use_cpu: bool = False
    bf16: bool = True
    gradient_checkpointing: bool = False
    max_length: int | None = None

    def __post_init__(self) -> None:
        for key in ("max_steps", "batch_size", "grad_accum", "logging_steps"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"train.{key} must be a positive integer, got {v!r}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"train.learning_rate must be > 0, got {self.learning_rate!r}")

    def trl_kwargs(self, output_dir: Path) -> dict[str, Any]:
        """Keyword arguments common to ``SFTConfig`` and ``GRPOConfig``."""
        return dict(
            output_dir=str(output_dir), max_steps=self.max_steps,
            learning_rate=self.learning_rate, per_device_train_batch_size=self.batch_size,
            gradient_accumulation_steps=self.grad_accum, logging_steps=self.logging_steps,
            save_strategy="steps" if self.save_steps else "no", save_steps=self.save_steps or 500,
            seed=self.seed, data_seed=self.seed, use_cpu=self.use_cpu, bf16=self.bf16,
            gradient_checkpointing=self.gradient_checkpointing, report_to="none",
            dataloader_num_workers=0, disable_tqdm=True,
        )  # fmt: skip


def prepare_dataset(dataset: str, data_recipe: str | None, work_dir: Path) -> Path:
    """The dataset folder, written from ``data_recipe`` first if it does not exist."""
    path = Path(dataset)
    if (path / "recipe.json").is_file():
        return path
    if data_recipe is None:
        raise FileNotFoundError(
            f"dataset {path} does not exist; write it with `astra-sim data global --recipe ...` "
            "or set data_recipe in the training recipe"
        )
    from astra_sim.agents.astra_global.mllm.data import DataRecipe, write_global_datasets
    from astra_sim.core.recipe import load_recipe

    data = load_recipe(DataRecipe, data_recipe, [f"out={path}"])
    write_global_datasets(data)
    return path


def mix(parts: dict[str, Any], weights: dict[str, float], seed: int) -> Any:
    """Concatenate per-task datasets, each resampled to ``weight`` x its rows, shuffled.

    Weight 1 keeps a task's rows once; 2 repeats them; 0.5 keeps a seeded half.
    """
    import datasets

    out = []
    for task, ds in parts.items():
        w = float(weights.get(task, 1.0))
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"weight of task {task!r} must be >= 0, got {w!r}")
        n = round(w * len(ds))
        if n == 0:
            continue
        rng = make_rng(seed, "mixture", task)
        idx = np.concatenate([rng.permutation(len(ds)) for _ in range(-(-n // len(ds)))])[:n]
        out.append(ds.select([int(i) for i in idx]))
    if not out:
        raise ValueError("the task mixture is empty: every weight is 0 or every task has no rows")
    return datasets.concatenate_datasets(out).shuffle(seed=seed)


def load_for_training(model_spec: str, output_dir: Path, lora: LoraSection, bf16: bool) -> tuple:
    """(model, processor, model path, peft config or None) for a trainer."""
    import torch

    from astra_sim.agents.astra_global.mllm.model import load_model, resolve_model

    path = resolve_model(model_spec, output_dir)
    model, processor = load_model(path, dtype="float32", train=True)
    if bf16 and torch.cuda.is_available():
        model = model.to(torch.bfloat16)
    peft_config = None
    if lora.enabled:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
            target_modules=list(lora.target_modules), task_type="CAUSAL_LM",
        )  # fmt: skip
    return model, processor, path, peft_config


def save_final(trainer: Any, processor: Any, output_dir: Path, report: dict[str, Any]) -> Path:
    """Save the trained model (LoRA merged) + processor to ``output_dir/final``, and the
    report (recipe, log history, per-reward means) to ``output_dir/report.json``."""
    from astra_sim.agents.astra_global.mllm.model import save_processor
    from astra_sim.core.fileio import atomic_write

    model = trainer.model
    if hasattr(model, "merge_and_unload"):  # peft: adapters folded in, a plain checkpoint
        model.save_pretrained(output_dir / "adapter")
        model = model.merge_and_unload()
    final = output_dir / "final"
    model.save_pretrained(final)
    save_processor(processor, final)
    report = {**report, "log_history": trainer.state.log_history, "checkpoint": str(final)}
    atomic_write(
        output_dir / "report.json", (json.dumps(report, indent=1, default=str) + "\n").encode()
    )
    return final
