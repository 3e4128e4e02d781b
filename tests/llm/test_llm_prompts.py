"""Prompts: the map text is cut to the token budget counted with the model's tokenizer."""

from __future__ import annotations

import numpy as np
import pytest
from llm_helpers import queries, small_world, tiny_model

from astra_sim.agents.astra_global.mllm import prompts
from astra_sim.agents.astra_global.mllm.model import MLLMError, load_processor


@pytest.fixture(scope="module")
def processor():
    return load_processor(tiny_model())


@pytest.mark.parametrize("budget", [250, 400, 700, 1500])
def test_coarse_prompt_respects_the_budget(processor, budget: int) -> None:
    _, topo = small_world()
    q = queries()[0]
    p = prompts.coarse_prompt(q.rgb, topo, processor, budget)
    used = prompts.prompt_tokens(processor, p)
    assert used <= budget
    assert used >= budget - 120  # the budget is used, not wasted (one map line is < 120)
    assert len(p.images) == 1 and "Landmarks (id:" in p.text


def test_bigger_budget_keeps_more_of_the_map(processor) -> None:
    _, topo = small_world()
    rgb = queries()[0].rgb
    small = prompts.coarse_prompt(rgb, topo, processor, 300).text
    big = prompts.coarse_prompt(rgb, topo, processor, 2000).text
    assert len(big) > len(small)
    unlimited = prompts.coarse_prompt(rgb, topo, processor, None).text
    assert "dropped" not in unlimited and "dropped" in small


def test_goal_prompt_respects_the_budget(processor) -> None:
    _, topo = small_world()
    p = prompts.goal_prompt("Find somewhere to rest.", topo, processor, 500)
    assert prompts.prompt_tokens(processor, p) <= 500
    assert not p.images and "Instruction: Find somewhere to rest." in p.text


def test_too_small_budget_is_a_clear_error(processor) -> None:
    _, topo = small_world()
    with pytest.raises(MLLMError, match="max_tokens=30"):
        prompts.coarse_prompt(queries()[0].rgb, topo, processor, 30)


def test_every_prompt_has_one_placeholder_per_image() -> None:
    _, topo = small_world()
    rgb = queries()[0].rgb
    nodes = topo.nodes[:3]
    built = [
        prompts.coarse_prompt(rgb, topo),
        prompts.covis_prompt(rgb, nodes[0].rgb),
        prompts.select_prompt(rgb, [n.rgb for n in nodes]),
        prompts.fine_prompt(rgb, nodes),
        prompts.motion_prompt(nodes[0].rgb, rgb),
        prompts.goal_prompt("go to the sofa", topo),
    ]
    assert [p.task for p in built] == list(prompts.TASKS)
    for p in built:
        holes = sum(part["type"] == "image" for part in p.messages[0]["content"])
        assert holes == len(p.images)
    assert "Node 2 at (" in built[3].text


def test_views_are_tiled_side_by_side() -> None:
    rgb = np.zeros((4, 8, 6, 3), np.uint8)
    rgb[2] = 255
    im = prompts.views_image(rgb)
    assert im.size == (24, 8)
    assert np.asarray(im)[0, 12:18].min() == 255
    with pytest.raises(ValueError, match="uint8"):
        prompts.views_image(rgb.astype(np.float32))


def test_without_a_tokenizer_the_map_text_gets_the_budget_in_words() -> None:
    from astra_sim.mapping.text import len_words

    _, topo = small_world()
    p = prompts.coarse_prompt(queries()[0].rgb, topo, None, 150)
    map_text = p.text.split("\n", 1)[1]
    assert len_words(map_text) <= 150 and "dropped" in map_text
