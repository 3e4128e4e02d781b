"""The map as prompt text: the line format, and cutting to a token budget deterministically."""

from __future__ import annotations

import re

import pytest
from test_mapping_graph import tiny_map

from astra_sim.mapping import len_words, render_map_text
from astra_sim.mapping.text import LANDMARK_HEADER, NODE_HEADER


def test_full_text_lists_every_landmark_and_node():
    text = render_map_text(tiny_map())
    lines = text.splitlines()
    assert lines[0] == LANDMARK_HEADER
    assert lines[1] == 'L0: sofa, red, fabric, "a place to sit and rest", seen from nodes 0,1'
    assert lines[2].startswith('L1: sign "Room 201", white, plastic, "a door sign')
    assert lines[3] == "L2: plant, green, seen from nodes 4"
    assert lines[4] == NODE_HEADER
    assert lines[5] == "N0: (0.00, 0.00, 0.00) sees L0"
    assert lines[6] == "N1: (1.00, 0.00, 0.10) sees L0, L1"
    assert lines[8] == "N3: (3.00, 0.00, 0.30) sees nothing"
    assert len(lines) == 10 and "(dropped" not in text


def test_node_list_per_landmark_can_be_capped():
    text = render_map_text(tiny_map(), max_nodes_per_landmark=1)
    assert "seen from nodes 0 and 1 more" in text


@pytest.mark.parametrize("budget", [80, 70, 60, 50, 40])
def test_budget_is_respected_and_nodes_go_first(budget):
    m = tiny_map()
    full = render_map_text(m)
    assert len_words(full) > 80
    text = render_map_text(m, max_tokens=budget)
    assert len_words(text) <= budget
    assert text == render_map_text(m, max_tokens=budget)  # deterministic
    kept = text.splitlines()
    note = kept[-1]
    assert note.startswith("(dropped ")
    n_dropped = int(note.split()[1])
    assert n_dropped == len(full.splitlines()) - (len(kept) - 1)
    kept_nodes = [line for line in kept if re.match(r"N\d+:", line)]
    kept_marks = [line for line in kept if re.match(r"L\d+:", line)]
    if len(kept_marks) < 3:
        assert kept_nodes == []  # every node line goes before any landmark line
    # kept lines keep their order in the full text
    positions = [full.splitlines().index(line) for line in kept[:-1]]
    assert positions == sorted(positions)


def test_drop_order_is_by_priority():
    m = tiny_map()
    # Lowest priority first: node 3 (sees nothing), then the nodes that see one landmark,
    # highest id first (4, 2, 0), then node 1 (sees two), then landmarks.
    full = render_map_text(m)
    text = render_map_text(m, max_tokens=len_words(full) - 1)
    assert "N3:" not in text and "N1:" in text and "L2:" in text
    order = []
    for budget in range(len_words(full) - 1, 0, -1):
        try:
            text = render_map_text(m, max_tokens=budget)
        except ValueError:
            break
        for line in full.splitlines()[1:]:
            tag = line.split(":")[0]
            if line not in text and tag not in order and tag[0] in "LN" and tag[1].isdigit():
                order.append(tag)
    # landmarks: the one without text that fewest nodes see first, the sign last
    assert order == ["N3", "N4", "N2", "N0", "N1", "L2", "L0", "L1"]


def test_custom_counter_and_too_small_budget():
    m = tiny_map()
    text = render_map_text(m, max_tokens=400, count_tokens=len)  # characters
    assert len(text) <= 400 and "(dropped" in text
    with pytest.raises(ValueError, match="max_tokens=5"):
        render_map_text(m, max_tokens=5)
    with pytest.raises(ValueError, match="max_tokens"):
        render_map_text(m, max_tokens=-1)
