"""The landmark map as text, for an LLM prompt, cut to a token budget.

Astra-Global reads the map as text: one line per landmark (what it is, what it looks like,
what it is for, which nodes see it) and one per node (where it is, what it sees). When the
map does not fit the prompt's budget, lines are dropped in a fixed priority order:

1. Node lines first, because they repeat the co-visibility that landmark lines already give
   (a landmark line names its nodes) and add only the node positions, which the fine stage
   gets from the reference images anyway. Nodes that see fewer landmarks go first.
2. Then landmark lines: landmarks without text (a sign, a shelf code) before those with it,
   since readable text is the strongest cue; among those, the ones fewer nodes see first.

Ties go by id, higher ids first, so the result is deterministic. Kept lines stay in map
order, and a last line says how many lines were dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from astra_sim.mapping.graph import Landmark, Node, TopoSemanticMap

LANDMARK_HEADER = "Landmarks (id: category, colour, material, function, seen from nodes):"
NODE_HEADER = "Nodes (id: (x m, y m, yaw rad) landmarks seen):"


def len_words(text: str) -> int:
    """Whitespace-separated words: a rough, tokenizer-free token count."""
    return len(text.split())


def landmark_line(mark: Landmark, max_nodes: int | None = None) -> str:
    """``L12: sofa, orange, fabric, "a place to sit and rest", seen from nodes 3,4,7``."""
    what = f'{mark.category} "{mark.text}"' if mark.text else mark.category
    parts = [what] + [mark.attributes[a] for a in ("colour", "material") if a in mark.attributes]
    if mark.description:
        parts.append(f'"{mark.description}"')
    nodes = list(mark.nodes)
    if not nodes:
        seen = "seen from no node"
    else:
        shown = nodes if max_nodes is None else nodes[:max_nodes]
        more = len(nodes) - len(shown)
        seen = "seen from nodes " + ",".join(str(v) for v in shown)
        seen += f" and {more} more" if more else ""
    return f"L{mark.id}: {', '.join(parts)}, {seen}"


def node_line(node: Node) -> str:
    """``N3: (1.20, 3.40, 1.57) sees L12, L15``."""
    x, y, yaw = (float(v) for v in node.pose2d)
    seen = ", ".join(f"L{k}" for k in node.landmarks) if node.landmarks else "nothing"
    return f"N{node.id}: ({x:.2f}, {y:.2f}, {yaw:.2f}) sees {seen}"


def render_map_text(
    tmap: TopoSemanticMap,
    max_tokens: int | None = None,
    count_tokens: Callable[[str], int] = len_words,
    max_nodes_per_landmark: int | None = None,
) -> str:
    """The map as prompt text, at most ``max_tokens`` by ``count_tokens`` when given.

    Args:
        tmap: the map.
        max_tokens: token budget for the whole text (None: no limit).
        count_tokens: counts the tokens of a text, e.g. ``lambda s: len(tok(s).input_ids)``.
        max_nodes_per_landmark: list at most this many node ids per landmark line.

    Raises:
        ValueError: if ``max_tokens`` is too small for even the headers and the drop note.
    """
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0
    ):
        raise ValueError(f"max_tokens must be None or a non-negative integer, got {max_tokens!r}")
    marks = [landmark_line(m, max_nodes_per_landmark) for m in tmap.landmarks]
    nodes = [node_line(n) for n in tmap.nodes]
    text = _compose(marks, nodes, set(), set())
    if max_tokens is None or count_tokens(text) <= max_tokens:
        return text

    # Lowest priority first: (is landmark, has text, how many see it / it sees, -id).
    order = sorted(
        [(0, 0, len(n.landmarks), -n.id, "N", n.id) for n in tmap.nodes]
        + [(1, int(bool(m.text)), len(m.nodes), -m.id, "L", m.id) for m in tmap.landmarks]
    )
    cost = {("L", i): count_tokens(line) for i, line in enumerate(marks)}
    cost |= {("N", i): count_tokens(line) for i, line in enumerate(nodes)}
    dropped_l: set[int] = set()
    dropped_n: set[int] = set()
    # Estimate with per-line costs first (cheap), then check the whole text and go on dropping
    # while a tokenizer that does not add up line by line still counts too many.
    estimate = sum(cost.values()) + count_tokens(LANDMARK_HEADER) + count_tokens(NODE_HEADER)
    note_cost = count_tokens(_note(len(order), len(order), len(order)))  # the longest note
    k = 0
    while k < len(order) and estimate + note_cost > max_tokens:
        kind, i = order[k][4:]
        (dropped_l if kind == "L" else dropped_n).add(i)
        estimate -= cost[(kind, i)]
        k += 1
    while True:
        text = _compose(marks, nodes, dropped_l, dropped_n)
        if count_tokens(text) <= max_tokens:
            return text
        if k == len(order):
            raise ValueError(
                f"max_tokens={max_tokens} is too small: the headers and the drop note alone "
                f"count {count_tokens(text)} tokens"
            )
        kind, i = order[k][4:]
        (dropped_l if kind == "L" else dropped_n).add(i)
        k += 1


def _note(dropped_nodes: int, dropped_landmarks: int, total: int) -> str:
    n = dropped_nodes + dropped_landmarks
    return f"(dropped {n} of {total} lines: {dropped_nodes} nodes, {dropped_landmarks} landmarks)"


def _compose(marks: list[str], nodes: list[str], dropped_l: set[int], dropped_n: set[int]) -> str:
    lines = [LANDMARK_HEADER]
    lines += [line for i, line in enumerate(marks) if i not in dropped_l]
    lines.append(NODE_HEADER)
    lines += [line for i, line in enumerate(nodes) if i not in dropped_n]
    if dropped_l or dropped_n:
        lines.append(_note(len(dropped_n), len(dropped_l), len(marks) + len(nodes)))
    return "\n".join(lines)


__all__ = ["landmark_line", "len_words", "node_line", "render_map_text"]
