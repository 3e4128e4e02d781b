"""Prompts of Astra-Global's tasks and the JSON answers they ask for.

Every task is one user turn (images and text interleaved) and one JSON answer, so training
data, GRPO rollouts and inference share the exact same text. A rig's camera images are
tiled side by side into ONE image per viewpoint: the model sees the whole panorama at the
cost of one image's tokens.

Answer schemas (the model must answer JSON only; `parse.parse_answer` checks them):

- ``coarse``: ``{"landmarks": [{"category": str, "colour": str, "text": str}, ...],
  "map_ids": [int, ...]}``: what the query shows and which map landmarks (``L<id>``) it is.
- ``covis``: ``{"score": float in [0, 1]}``: how much of the query a node's views share.
- ``select``: ``{"index": int}``: which candidate image is co-visible with the query.
- ``fine``: ``{"x": float, "y": float, "yaw": float}``: the query pose in the map frame
  (metres, radians), given reference nodes with their poses.
- ``motion``: ``{"dx": float, "dy": float, "dyaw": float}``: the motion from view 1 to
  view 2 in view 1's frame (metres forward and left, radians turned left).
- ``goal``: ``{"map_ids": [int, ...]}``: the map landmarks an instruction names.

The landmark map goes into the ``coarse`` and ``goal`` prompts as text, cut by
`astra_sim.mapping.text.render_map_text` so that the whole prompt (instruction, map and
image tokens, chat template included) fits the token budget counted with the model's own
processor; without a processor the budget applies to the map text alone, in words.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from astra_sim.mapping.graph import Node, TopoSemanticMap
from astra_sim.mapping.text import render_map_text

TASKS: tuple[str, ...] = ("coarse", "covis", "select", "fine", "motion", "goal")
"""Every task a prompt exists for (``goal`` has no images)."""

INSTRUCTIONS: dict[str, str] = {
    "coarse": (
        "The image shows the robot's camera views side by side. List the landmarks you see "
        "and the ids of the map landmarks they are. Answer JSON only: "
        '{"landmarks": [{"category": "...", "colour": "...", "text": "..."}], "map_ids": [0]}'
    ),
    "covis": (
        "Image 1 is the robot's view, image 2 the view of a map node. How much of the scene "
        'do they share? Answer JSON only: {"score": 0.5} with a score from 0 to 1.'
    ),
    "select": (
        "Image 1 is the robot's view; the next images are candidates 0, 1, 2, ... Which "
        'candidate shares the most of the scene with it? Answer JSON only: {"index": 0}'
    ),
    "fine": (
        "Image 1 is the robot's view; the next images are map nodes at known poses (x m, y m, "
        "yaw rad). Estimate the robot's pose in the map frame. Answer JSON only: "
        '{"x": 0.0, "y": 0.0, "yaw": 0.0}'
    ),
    "motion": (
        "The robot saw image 1, then moved and saw image 2. How did it move, in the frame of "
        "image 1 (metres forward, metres left, radians turned left)? Answer JSON only: "
        '{"dx": 0.0, "dy": 0.0, "dyaw": 0.0}'
    ),
    "goal": (
        "Which map landmarks does the instruction ask the robot to go to? "
        'Answer JSON only: {"map_ids": [0]}'
    ),
}


@dataclass
class Prompt:
    """One user turn: chat messages with image placeholders, and the images in order."""

    task: str
    messages: list[dict[str, Any]]
    images: list[Any] = field(default_factory=list)  # PIL images

    @property
    def text(self) -> str:
        """The text parts joined (what token budgets and tests look at)."""
        return "".join(p["text"] for p in self.messages[0]["content"] if p["type"] == "text")


def views_image(rgb: np.ndarray) -> Any:
    """A rig's (C, H, W, 3) uint8 images tiled left to right as one PIL image."""
    from PIL import Image

    rgb = np.asarray(rgb)
    if rgb.ndim == 3:
        rgb = rgb[None]
    if rgb.ndim != 4 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"views must be (C, H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    return Image.fromarray(np.concatenate(list(rgb), axis=1))


def token_counter(processor: Any) -> Callable[[str], int]:
    """Counts a text's tokens with the model's own tokenizer (no special tokens added)."""
    tok = getattr(processor, "tokenizer", processor)
    return lambda s: len(tok(s, add_special_tokens=False)["input_ids"])


def prompt_tokens(processor: Any, prompt: Prompt) -> int:
    """Tokens the model reads for ``prompt``: chat template applied, images expanded."""
    text = processor.apply_chat_template(
        prompt.messages, tokenize=False, add_generation_prompt=True
    )
    out = processor(text=[text], images=prompt.images or None, return_tensors="pt")
    return int(out["input_ids"].shape[1])


def _user(parts: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    content = []
    for kind, value in parts:
        content.append({"type": "image"} if kind == "image" else {"type": "text", "text": value})
    return [{"role": "user", "content": content}]


def _pose_text(pose: Sequence[float]) -> str:
    return f"({float(pose[0]):.2f}, {float(pose[1]):.2f}, {float(pose[2]):.2f})"


def _with_map(
    task: str,
    head: list[tuple[str, Any]],
    images: list[Any],
    topo_map: TopoSemanticMap,
    processor: Any,
    max_tokens: int | None,
    tail: str = "",
) -> Prompt:
    """A prompt ending with the map text, cut so the whole prompt fits ``max_tokens``."""
    from astra_sim.agents.astra_global.mllm.model import MLLMError

    def make(map_text: str) -> Prompt:
        return Prompt(task, _user([*head, ("text", f"\n{map_text}{tail}")]), images)

    if max_tokens is None:
        return make(render_map_text(topo_map))
    if processor is None:  # no tokenizer: the map text alone gets the budget, in words
        return make(render_map_text(topo_map, max_tokens))
    fixed = prompt_tokens(processor, make(""))
    budget = max_tokens - fixed - 2  # 2: a merge across the joins may differ
    if budget < 1:
        raise MLLMError(
            f"prompt max_tokens={max_tokens} leaves no room for the map: the {task} prompt "
            f"without it already counts {fixed} tokens"
        )
    try:
        text = render_map_text(topo_map, budget, count_tokens=token_counter(processor))
    except ValueError as e:
        raise MLLMError(f"prompt max_tokens={max_tokens} is too small for the map: {e}") from e
    prompt = make(text)
    while prompt_tokens(processor, prompt) > max_tokens and budget > 1:  # never in practice
        budget -= 4
        prompt = make(render_map_text(topo_map, budget, count_tokens=token_counter(processor)))
    return prompt


def coarse_prompt(
    rgb: np.ndarray, topo_map: TopoSemanticMap, processor: Any = None, max_tokens: int | None = None
) -> Prompt:
    """Query views + the landmark map as text -> landmarks and map ids."""
    image = views_image(rgb)
    head = [("image", None), ("text", INSTRUCTIONS["coarse"])]
    return _with_map("coarse", head, [image], topo_map, processor, max_tokens)


def goal_prompt(
    instruction: str,
    topo_map: TopoSemanticMap,
    processor: Any = None,
    max_tokens: int | None = None,
) -> Prompt:
    """Instruction + the landmark map (with functional descriptions) -> landmark ids."""
    head = [("text", f"{INSTRUCTIONS['goal']}\nInstruction: {instruction}")]
    return _with_map("goal", head, [], topo_map, processor, max_tokens)


def covis_prompt(rgb: np.ndarray, node_rgb: np.ndarray) -> Prompt:
    """Query views + one node's views -> co-visibility score."""
    parts = [("image", None), ("image", None), ("text", INSTRUCTIONS["covis"])]
    return Prompt("covis", _user(parts), [views_image(rgb), views_image(node_rgb)])


def select_prompt(rgb: np.ndarray, candidates: Sequence[np.ndarray]) -> Prompt:
    """Query views + candidate views -> the index of the co-visible candidate."""
    parts: list[tuple[str, Any]] = [("image", None)]
    for i in range(len(candidates)):
        parts += [("text", f"Candidate {i}:"), ("image", None)]
    parts.append(("text", INSTRUCTIONS["select"]))
    images = [views_image(rgb)] + [views_image(c) for c in candidates]
    return Prompt("select", _user(parts), images)


def fine_prompt(rgb: np.ndarray, nodes: Sequence[Node]) -> Prompt:
    """Query views + reference nodes (views and poses) -> the query pose."""
    parts: list[tuple[str, Any]] = [("image", None)]
    for node in nodes:
        parts += [("text", f"Node {node.id} at {_pose_text(node.pose2d)}:"), ("image", None)]
    parts.append(("text", INSTRUCTIONS["fine"]))
    images = [views_image(rgb)] + [views_image(n.rgb) for n in nodes]
    return Prompt("fine", _user(parts), images)


def motion_prompt(rgb1: np.ndarray, rgb2: np.ndarray) -> Prompt:
    """Two views -> the motion between them."""
    parts = [("image", None), ("image", None), ("text", INSTRUCTIONS["motion"])]
    return Prompt("motion", _user(parts), [views_image(rgb1), views_image(rgb2)])


# ---------------------------------------------------------------------- answers
def _num(v: float) -> float:
    return round(float(v), 2)


def coarse_answer(landmarks: Sequence[dict[str, str]], map_ids: Sequence[int]) -> str:
    """The coarse JSON answer; landmark dicts keep only non-empty fields."""
    marks = [{k: v for k, v in m.items() if v} for m in landmarks]
    return json.dumps({"landmarks": marks, "map_ids": [int(i) for i in map_ids]})


def covis_answer(score: float) -> str:
    return json.dumps({"score": _num(score)})


def select_answer(index: int) -> str:
    return json.dumps({"index": int(index)})


def fine_answer(pose: Sequence[float]) -> str:
    return json.dumps({"x": _num(pose[0]), "y": _num(pose[1]), "yaw": _num(pose[2])})


def motion_answer(delta: Sequence[float]) -> str:
    return json.dumps({"dx": _num(delta[0]), "dy": _num(delta[1]), "dyaw": _num(delta[2])})


def goal_answer(map_ids: Sequence[int]) -> str:
    return json.dumps({"map_ids": [int(i) for i in map_ids]})
