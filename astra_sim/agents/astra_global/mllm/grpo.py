"""``astra-sim train global-grpo``: GRPO on the coarse stage and the co-visibility filter.

The paper follows SFT with GRPO on the coarse stage, rewarded by the sum of four rewards
(format, landmark recall, map-id IoU, extra landmarks weighted by pose error), and trains
the filter stage with format + lambda * (1 - |S_true - S_pred|) (`rewards`). Both stages
can run in one GRPO run on a mixture of their rows: every reward function answers None
for rows of the other stage, which TRL leaves out of that reward's mean. TRL logs
``rewards/<name>/mean`` per reward; the report keeps them per logging step and overall.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astra_sim.agents.astra_global.mllm import rewards as R
from astra_sim.agents.astra_global.mllm.recipes import (
    LoraSection,
    TrainSection,
    load_for_training,
    mix,
    prepare_dataset,
    save_final,
)
from astra_sim.core.errors import UnknownNameError

STAGES = {"coarse": "coarse", "filter": "covis"}
"""GRPO stage -> the data task whose rows it trains on."""

COLUMNS = {
    "coarse": ("true_landmarks", "true_map_ids", "true_pose", "landmark_poses"),
    "filter": ("covis_true",),
}
_FILLERS = {
    "true_landmarks": "[]", "true_map_ids": [], "true_pose": [0.0, 0.0, 0.0],
    "landmark_poses": "{}", "covis_true": 0.0,
}  # fmt: skip


@dataclass
class RewardSection:
    """Reward settings: lambda and the pose weights of the extra reward, the filter's
    lambda, and the weight of each reward in the sum (format, landmark, map, extra)."""

    lam: float = 1.0
    w_d: float = 0.5
    w_theta: float = 0.5
    filter_lambda: float = 1.0
    weights: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        R.check_weights(self.lam, self.w_d, self.w_theta)
        if not (math.isfinite(self.filter_lambda) and self.filter_lambda >= 0):
            raise ValueError(f"rewards.filter_lambda must be >= 0, got {self.filter_lambda!r}")
        valid = ("format", "landmark", "map", "extra")
        for k in self.weights:
            if k not in valid:
                raise UnknownNameError("reward", k, valid)


@dataclass
class GenerationSection:
    """Sampling of the GRPO group."""

    num_generations: int = 8
    max_completion_length: int = 256
    temperature: float = 1.0
    beta: float = 0.0


@dataclass
class GRPORecipe:
    """``train global-grpo`` settings.

    Attributes:
        model: checkpoint path (usually the SFT ``final/``), or ``tiny`` for smoke runs.
        dataset / data_recipe: as in `SFTRecipe`; ``coarse`` and/or ``covis`` tasks needed.
        stages: ``coarse`` and/or ``filter``.
        weights: stage -> mixture weight of its rows.
        output_dir: checkpoints, ``final/`` and ``report.json``.
        rewards, generation, train, lora: see the sections.
    """

    model: str = "tiny"
    dataset: str = "outputs/global_data"
    data_recipe: str | None = None
    stages: list[str] = field(default_factory=lambda: ["coarse"])
    weights: dict[str, float] = field(default_factory=dict)
    output_dir: str = "outputs/global_grpo"
    rewards: RewardSection = field(default_factory=RewardSection)
    generation: GenerationSection = field(default_factory=GenerationSection)
    train: TrainSection = field(default_factory=TrainSection)
    lora: LoraSection = field(default_factory=LoraSection)

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("stages must name at least one stage")
        for s in [*self.stages, *self.weights]:
            if s not in STAGES:
                raise UnknownNameError("stage", s, STAGES)


def _only(task: str, func: R.RewardFunc) -> R.RewardFunc:
    """``func`` on rows of ``task``; None (left out of the mean) on other rows."""

    def wrapped(completions, **kwargs):
        tasks = kwargs.pop("task", None) or [task] * len(completions)
        rows = [i for i, t in enumerate(tasks) if t == task]
        out: list[float | None] = [None] * len(completions)
        if rows:
            sub = {k: [v[i] for i in rows] for k, v in kwargs.items() if _per_row(v, completions)}
            sub["task"] = [tasks[i] for i in rows]
            for i, r in zip(rows, func([completions[i] for i in rows], **sub), strict=True):
                out[i] = r
        return out

    return R.named_reward(wrapped, f"{task}_{func.__name__}")


def _per_row(value: Any, completions: Any) -> bool:
    return isinstance(value, list) and len(value) == len(completions)


def grpo_rewards(recipe: GRPORecipe) -> tuple[list[R.RewardFunc], list[float]]:
    """Reward functions of the chosen stages and their weights, in TRL's order."""
    rw, funcs, weights = recipe.rewards, [], []
    if "coarse" in recipe.stages:
        names = ("format", "landmark", "map", "extra")
        for name, f in zip(
            names, R.reward_funcs("coarse", rw.lam, rw.w_d, rw.w_theta), strict=True
        ):
            funcs.append(_only("coarse", f))
            weights.append(float(rw.weights.get(name, 1.0)))
    if "filter" in recipe.stages:
        fmt, covis = R.reward_funcs("filter")
        funcs += [_only("covis", fmt), _only("covis", covis)]
        weights += [float(rw.weights.get("format", 1.0)), rw.filter_lambda]
    return funcs, weights


def reward_means(log_history: list[dict[str, Any]]) -> dict[str, float]:
    """Mean over the logged steps of each ``rewards/<name>/mean``."""
    sums: dict[str, list[float]] = {}
    for h in log_history:
        for k, v in h.items():
            mean = k.startswith("rewards/") and k.endswith("/mean")
            if mean and v is not None and not math.isnan(float(v)):
                sums.setdefault(k.split("/")[1], []).append(float(v))
    return {k: round(sum(v) / len(v), 4) for k, v in sums.items()}


def run_grpo(recipe: GRPORecipe) -> dict[str, Any]:
    """Train with GRPO, save ``output_dir/final`` and return the report (per-reward means)."""
    from trl import GRPOConfig, GRPOTrainer

    from astra_sim.agents.astra_global.mllm.data import load_task
    from astra_sim.core.recipe import to_dict

    out = Path(recipe.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = prepare_dataset(recipe.dataset, recipe.data_recipe, out)
    parts = {}
    for stage in recipe.stages:
        ds = load_task(data_dir, STAGES[stage])
        ds = ds.select_columns(["task", "prompt", "images", *COLUMNS[stage]])
        for other in recipe.stages:
            for col in COLUMNS[other] if other != stage else ():
                ds = ds.add_column(col, [_FILLERS[col]] * len(ds))
        parts[stage] = ds
    if len(parts) > 1:  # one schema for the mixture
        first = next(iter(parts.values()))
        parts = {s: d.cast(first.features) for s, d in parts.items()}
    train_set = mix(parts, recipe.weights, recipe.train.seed)
    model, processor, path, peft_config = load_for_training(
        recipe.model, out, recipe.lora, recipe.train.bf16
    )
    funcs, weights = grpo_rewards(recipe)
    g = recipe.generation
    config = GRPOConfig(
        **recipe.train.trl_kwargs(out), num_generations=g.num_generations,
        max_completion_length=g.max_completion_length, temperature=g.temperature, beta=g.beta,
        reward_weights=weights, remove_unused_columns=False,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=model, reward_funcs=funcs, args=config, train_dataset=train_set,
        processing_class=processor, peft_config=peft_config,
    )  # fmt: skip
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    report = {
        "recipe": to_dict(recipe),
        "model_path": str(path),
        "rows": len(train_set),
        "steps": trainer.state.global_step,
        "reward_weights": dict(zip([f.__name__ for f in funcs], weights, strict=True)),
        "reward_means": reward_means(trainer.state.log_history),
        "seconds": round(seconds, 2),
    }
    report["checkpoint"] = str(save_final(trainer, processor, out, report))
    return report
