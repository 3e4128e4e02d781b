"""The keyframe rule: a new keyframe every 0.5 m of travel or 30 degrees of turn from the last."""

from __future__ import annotations

import numpy as np
import pytest

from astra_sim.mapping import KeyframeSelector, select_keyframes

# x, y, yaw; comments say why each pose is or is not a keyframe under the default rule.
POSES = np.array(
    [
        (0.0, 0.0, 0.0),  # 0: the first pose always is
        (0.2, 0.0, 0.0),
        (0.4, 0.0, 0.0),
        (0.5, 0.0, 0.0),  # 3: exactly 0.5 m from 0
        (0.7, 0.0, 0.0),
        (0.7, 0.0, 0.4),  # 23 degrees from 3: no
        (0.7, 0.0, 0.6),  # 6: 34 degrees from 3
        (0.8, 0.0, 0.6),
        (0.8, 0.0, 0.05),  # 8: 31.5 degrees from 6 (turning back counts too)
        (0.5, 0.0, 0.05),  # backing up 0.3 m from 8: no
        (1.2, 0.0, 0.05),  # 0.4 m from 8, though 1.0 m was driven: no
        (1.35, 0.0, 0.05),  # 11: 0.55 m from 8
        (1.35, 0.0, 3.1),  # 12: 175 degrees from 11
        (1.35, 0.0, -3.1),  # 4.8 degrees from 12 across the +-pi wrap: no
    ]
)


def test_default_rule_gives_exact_indices():
    assert select_keyframes(POSES).tolist() == [0, 3, 6, 8, 11, 12]


def test_thresholds_are_configurable():
    assert select_keyframes(POSES, travel=1.0, turn_deg=90.0).tolist() == [0, 10, 12]


def test_online_selector_agrees_and_resets():
    selector = KeyframeSelector()
    online = [i for i, p in enumerate(POSES) if selector(p)]
    assert online == select_keyframes(POSES).tolist()
    assert not selector(POSES[-1])
    selector.reset()
    assert selector(POSES[-1])


def test_empty_and_bad_input():
    assert select_keyframes(np.zeros((0, 3))).tolist() == []
    with pytest.raises(ValueError, match="poses"):
        select_keyframes(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="travel"):
        KeyframeSelector(travel=0.0)
    with pytest.raises(ValueError, match="turn_deg"):
        KeyframeSelector(turn_deg=float("nan"))
    with pytest.raises(ValueError, match="pose"):
        KeyframeSelector()(np.array([0.0, np.nan, 0.0]))
