"""MLLMLocalizer: the stages chain as in the paper; bad answers are failures, not crashes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from llm_helpers import queries, small_world, tiny_model

from astra_sim.agents.astra_global.base import Localizer
from astra_sim.agents.astra_global.mllm.localizer import (
    MLLMConfig,
    MLLMLocalizer,
    load_mllm_localizer,
)


class Scripted(MLLMLocalizer):
    """Answers from a table by task instead of generating (the model is never called)."""

    def __init__(self, answers: dict, config: MLLMConfig | None = None) -> None:
        super().__init__(
            model=None, processor=None, config=config or MLLMConfig(max_prompt_tokens=None)
        )
        self.answers = answers
        self.seen: list[str] = []

    def generate(self, prompt) -> str:
        self.seen.append(prompt.task)
        a = self.answers[prompt.task]
        return a(prompt) if callable(a) else a


def test_stages_chain_to_the_fine_pose() -> None:
    _, topo = small_world()
    q = queries()[0]
    k = 4  # the orange sofa
    best = topo.landmarks[k].nodes[2]
    sofa = {"category": "sofa", "colour": "orange"}
    loc = Scripted(
        {
            "coarse": json.dumps({"landmarks": [sofa], "map_ids": [k, 999]}),
            "covis": lambda p: f'{{"score": {0.9 if p.images[1] == _img(topo, best) else 0.1}}}',
            "fine": '{"x": 1.5, "y": 2.5, "yaw": 0.25}',
        }
    )
    assert isinstance(loc, Localizer)
    r = loc.localize(q, topo)
    assert r.ok and r.matched == [k]  # 999 is on no map
    assert r.detected[0].category == "sofa" and r.detected[0].attributes == {"colour": "orange"}
    assert r.candidates == [best]  # the filter kept the co-visible one only
    assert np.allclose(r.pose, [1.5, 2.5, 0.25]) and r.node == best
    assert loc.seen.count("covis") == min(8, len(topo.landmarks[k].nodes))


def _img(topo, node):
    from astra_sim.agents.astra_global.mllm.prompts import views_image

    return views_image(topo.nodes[node].rgb)


def test_bad_answers_are_counted_failures() -> None:
    _, topo = small_world()
    q = queries()[0]
    loc = Scripted({"coarse": '{"landmarks": [{"category": "so'})
    r = loc.localize(q, topo)
    assert not r.ok and "unparsable" in r.failure
    assert loc.stats["coarse_parse_failures"] == 1
    loc = Scripted({"coarse": '{"landmarks": [], "map_ids": []}'})
    assert loc.localize(q, topo).failure == "no map landmark matched"
    # the filter and fine stages fall back instead of failing
    loc = Scripted({"coarse": '{"landmarks": [], "map_ids": [4]}', "covis": "??", "fine": "!!"})
    r = loc.localize(q, topo)
    assert r.ok and "fine_failure" in r.extras and r.node == r.candidates[0]
    assert np.allclose(r.pose, topo.nodes[r.node].pose2d)
    assert loc.stats["covis_parse_failures"] >= 1 and loc.stats["fine_parse_failures"] == 1


def test_goal_from_language_picks_the_nearest_match() -> None:
    _, topo = small_world()
    sofa, armchair = 4, 5
    loc = Scripted({"goal": json.dumps({"map_ids": [sofa, armchair]})})
    start = topo.landmarks[armchair].nodes[0]
    g = loc.localize_goal("Find somewhere to rest.", topo, start)
    assert g.ok and g.landmark in (sofa, armchair) and g.matched == [sofa, armchair]
    assert g.node in topo.landmarks[g.landmark].nodes
    x, y = topo.nodes[g.node].xy
    lx, ly = topo.landmarks[g.landmark].position[:2]
    assert g.pose[2] == pytest.approx(math.atan2(ly - y, lx - x))
    assert not Scripted({"goal": "I think the sofa"}).localize_goal("sofa", topo).ok
    with pytest.raises(ValueError):
        loc.localize_goal("  ", topo)


def test_real_tiny_model_runs_in_the_evaluation_harness() -> None:
    from astra_sim.eval.localization import QueryConfig, evaluate, summarize
    from astra_sim.render.rig import Rig

    scene, topo = small_world()
    loc = load_mllm_localizer(tiny_model(), MLLMConfig(max_prompt_tokens=400, max_new_tokens=8))
    res = evaluate(
        [loc],
        {"home": [(scene, topo)]},
        QueryConfig(1, query_scale=2),
        Rig.from_name("default"),
        progress=False,
    )
    s = summarize(res)["mllm"]
    assert s["queries"] == 1 and 0.0 <= s["answered"] <= 1.0
    assert loc.stats["coarse_answers"] == 1


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="top_k"):
        MLLMConfig(top_k=0)
    with pytest.raises(ValueError, match="min_covis"):
        MLLMConfig(min_covis=2.0)
