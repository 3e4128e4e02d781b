"""`MLLMLocalizer`: Astra-Global's coarse-to-fine localization with a multimodal LLM.

The stages are those of the paper (ASTRA.md) and of `LandmarkLocalizer`, each one prompt:

1. coarse: query views + landmark map text -> landmarks seen and the matched map ids; the
   nodes that see the matched landmarks, most matches first, are the candidates;
2. filter: query + each candidate's views -> a co-visibility score; candidates under
   ``min_covis`` are dropped (the best one is kept if all are);
3. fine: query + the best ``references`` candidates with their poses -> (x, y, yaw).

A stage whose answer does not parse never raises: the coarse stage then fails the query
(``ok`` False, the reason in ``failure``), a filter answer scores 0, and a fine answer
falls back to the best candidate's pose (``extras["fine_failure"]``). ``stats`` counts the
parse failures of every stage, for reports.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csgraph

from astra_sim.agents.astra_global.base import (
    DetectedLandmark,
    LocalizationResult,
    Query,
    check_query,
)
from astra_sim.agents.astra_global.goal_localization import GoalResult
from astra_sim.agents.astra_global.landmarks import downsample
from astra_sim.agents.astra_global.mllm import prompts
from astra_sim.agents.astra_global.mllm.model import MLLMError, load_model
from astra_sim.agents.astra_global.mllm.parse import Parsed, parse_answer
from astra_sim.mapping.graph import TopoSemanticMap


@dataclass(frozen=True)
class MLLMConfig:
    """Knobs of the MLLM localizer.

    Attributes:
        name: name in result tables.
        max_prompt_tokens: token budget of the map prompts (image tokens included); the map
            text is cut to fit. None: no limit.
        max_new_tokens: generation limit per answer.
        top_k: candidate nodes the filter scores.
        min_covis: candidates scoring below this are dropped by the filter.
        references: reference nodes shown to the fine stage.
        use_filter: run the co-visibility filter (False: rank by landmark matches only).
    """

    name: str = "mllm"
    max_prompt_tokens: int | None = 4096
    max_new_tokens: int = 256
    top_k: int = 8
    min_covis: float = 0.2
    references: int = 4
    use_filter: bool = True

    def __post_init__(self) -> None:
        for key in ("max_new_tokens", "top_k", "references"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"MLLMConfig.{key} must be a positive integer, got {v!r}")
        if self.max_prompt_tokens is not None and self.max_prompt_tokens < 1:
            raise ValueError(
                f"MLLMConfig.max_prompt_tokens must be >= 1, got {self.max_prompt_tokens}"
            )
        if not (math.isfinite(self.min_covis) and 0 <= self.min_covis <= 1):
            raise ValueError(f"MLLMConfig.min_covis must be in [0, 1], got {self.min_covis!r}")


class MLLMLocalizer:
    """The Localizer protocol (and ``localize_goal``) answered by an image-text model.

    Args:
        model: a transformers image-text model (e.g. Qwen2.5-VL).
        processor: its processor (tokenizer + image processor).
        config: see `MLLMConfig`.
    """

    def __init__(self, model: Any, processor: Any, config: MLLMConfig | None = None) -> None:
        self.model = model
        self.processor = processor
        self.config = config or MLLMConfig()
        self.name = self.config.name
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------------ generation
    def generate(self, prompt: prompts.Prompt) -> str:
        """Greedy answer of the model to one prompt (special tokens stripped)."""
        import torch

        text = self.processor.apply_chat_template(
            prompt.messages, tokenize=False, add_generation_prompt=True
        )
        inputs = self.processor(text=[text], images=prompt.images or None, return_tensors="pt")
        inputs = inputs.to(self.model.device)
        pad = getattr(self.processor.tokenizer, "pad_token_id", None)
        with torch.no_grad():
            out = self.model.generate(
                **inputs, max_new_tokens=self.config.max_new_tokens, do_sample=False,
                pad_token_id=pad,
            )  # fmt: skip
        new = out[0, inputs["input_ids"].shape[1] :]
        return self.processor.tokenizer.decode(new, skip_special_tokens=True)

    def ask(self, prompt: prompts.Prompt) -> tuple[Parsed, str]:
        """Generate and parse; a parse failure is counted in ``stats``."""
        raw = self.generate(prompt)
        parsed = parse_answer(prompt.task, raw)
        self.stats[f"{prompt.task}_answers"] += 1
        if not parsed.ok:
            self.stats[f"{prompt.task}_parse_failures"] += 1
        return parsed, raw

    # ------------------------------------------------------------------ stages
    def coarse(self, rgb: np.ndarray, topo_map: TopoSemanticMap) -> tuple[Parsed, str]:
        """Stage 1: landmarks in the query and their map ids."""
        prompt = prompts.coarse_prompt(rgb, topo_map, self.processor, self.config.max_prompt_tokens)
        return self.ask(prompt)

    def covisibility(self, rgb: np.ndarray, node_rgb: np.ndarray) -> float:
        """Stage 2: co-visibility score of the query and one node's views (0 if unparsed)."""
        parsed, _ = self.ask(prompts.covis_prompt(rgb, node_rgb))
        return parsed.value["score"] if parsed.ok else 0.0

    def fine(self, rgb: np.ndarray, topo_map: TopoSemanticMap, refs: list[int]) -> Parsed:
        """Stage 3: the query pose from reference nodes with known poses."""
        parsed, _ = self.ask(prompts.fine_prompt(rgb, [topo_map.nodes[n] for n in refs]))
        return parsed

    # ------------------------------------------------------------------ protocol
    def localize(self, query: Query, topo_map: TopoSemanticMap) -> LocalizationResult:
        """Coarse -> filter -> fine; ``ok`` False with a reason when there is no answer."""
        check_query(query, topo_map.nodes[0].rgb.shape[0])
        rgb = downsample(np.asarray(query.rgb), *topo_map.nodes[0].rgb.shape[1:3])
        parsed, raw = self.coarse(rgb, topo_map)
        if not parsed.ok:
            return LocalizationResult(
                False, failure=f"coarse answer unparsable: {parsed.error}", extras={"raw": raw}
            )
        detected = [
            DetectedLandmark(
                m["category"], {"colour": m["colour"]} if m["colour"] else {}, m["text"]
            )
            for m in parsed.value["landmarks"]
        ]
        matched = [k for k in parsed.value["map_ids"] if k < len(topo_map.landmarks)]
        votes: Counter[int] = Counter()
        for k in matched:
            votes.update(topo_map.landmarks[k].nodes)
        candidates = sorted(votes, key=lambda n: (-votes[n], n))[: self.config.top_k]
        if not candidates:
            return LocalizationResult(
                False, detected=detected, matched=matched, failure="no map landmark matched",
                extras={"raw": raw},
            )  # fmt: skip
        extras: dict[str, Any] = {"raw": raw}
        if self.config.use_filter:
            scores = {n: self.covisibility(rgb, topo_map.nodes[n].rgb) for n in candidates}
            kept = [n for n in candidates if scores[n] >= self.config.min_covis] or candidates[:1]
            kept.sort(key=lambda n: (-scores[n], -votes[n], n))
            extras["covis"] = scores
        else:
            kept = candidates
        refs = kept[: self.config.references]
        fine = self.fine(rgb, topo_map, refs)
        if fine.ok:
            pose = np.array([fine.value["x"], fine.value["y"], fine.value["yaw"]])
            node = min(refs, key=lambda n: float(np.linalg.norm(topo_map.nodes[n].xy - pose[:2])))
        else:
            node = refs[0]
            pose = np.asarray(topo_map.nodes[node].pose2d, dtype=np.float64)
            extras["fine_failure"] = fine.error
        return LocalizationResult(
            True, node=node, pose=pose, detected=detected, matched=matched,
            candidates=kept, extras=extras,
        )  # fmt: skip

    # ------------------------------------------------------------------ language goals
    def localize_goal(
        self, instruction: str, topo_map: TopoSemanticMap, start: Any = None
    ) -> GoalResult:
        """Instruction -> landmark ids (the model) -> the one nearest the start -> goal pose.

        The pose stands at the node seeing the landmark with at least a quarter of its best
        view's pixels that is nearest to it, facing it.
        """
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError(f"instruction must be a non-empty string, got {instruction!r}")
        prompt = prompts.goal_prompt(
            instruction, topo_map, self.processor, self.config.max_prompt_tokens
        )
        parsed, raw = self.ask(prompt)
        if not parsed.ok:
            return GoalResult(False, failure=f"goal answer unparsable: {parsed.error}")
        ids = [k for k in parsed.value["map_ids"] if k < len(topo_map.landmarks)]
        ids = [k for k in ids if topo_map.landmarks[k].nodes]
        if not ids:
            return GoalResult(False, failure="the answer names no map landmark seen from a node")
        if start is None or not len(topo_map.edges):
            dist = np.zeros(len(topo_map.nodes))
        else:
            s = int(start) if np.ndim(start) == 0 else topo_map.nearest_node(np.asarray(start)[:2])
            dist = csgraph.dijkstra(topo_map.adjacency, directed=False, indices=s)
        chosen = min(ids, key=lambda k: (min(dist[v] for v in topo_map.landmarks[k].nodes), k))
        mark = topo_map.landmarks[chosen]
        px = {
            v: topo_map.nodes[v].landmark_pixels[topo_map.nodes[v].landmarks.index(chosen)]
            for v in mark.nodes
        }
        good = [v for v in mark.nodes if px[v] >= 0.25 * max(px.values())]
        target = np.asarray(mark.position[:2])
        node = min(good, key=lambda v: (np.linalg.norm(topo_map.nodes[v].xy - target), dist[v]))
        x, y = topo_map.nodes[node].xy
        pose = np.array([x, y, math.atan2(target[1] - y, target[0] - x)])
        return GoalResult(True, chosen, node, pose, ids, extras={"raw": raw})


def load_mllm_localizer(
    path: str | Path, config: MLLMConfig | None = None, device: str | None = None
) -> MLLMLocalizer:
    """An `MLLMLocalizer` on the checkpoint at ``path`` (what ``--localizer mllm`` loads).

    Raises:
        FileNotFoundError: if ``path`` is not a checkpoint folder.
        MLLMError: if it is not an image-text model.
    """
    model, processor = load_model(path, device=device)
    if not hasattr(model, "generate"):
        raise MLLMError(f"model at {path} cannot generate text")
    return MLLMLocalizer(model, processor, config)
