"""Each env id replays its reference rollout (tests/golden/rollouts.json): same episode,
same observation hashes, the very same measures. See golden.py for what is hashed and how
to acknowledge an intended change."""

from __future__ import annotations

import json
import os

import golden  # tests/golden/golden.py (pytest puts this folder on the path)
import pytest


@pytest.fixture(scope="module")
def expected():
    if os.environ.get(golden.UPDATE_ENV):
        pytest.skip("regenerating (see test_regenerate)")
    if not golden.FIXTURE.is_file():
        pytest.fail(f"{golden.FIXTURE} is missing; create it with {golden.UPDATE_ENV}=1 "
                    "python -m pytest tests/golden")  # fmt: skip
    return json.loads(golden.FIXTURE.read_text())


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    return golden.rig_file(tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("env_id", sorted(golden.CASES))
def test_rollout_matches_the_golden_one(expected, rig, env_id):
    assert expected["version"] == golden.VERSION and expected["steps"] == golden.STEPS
    want, got = expected["rollouts"][env_id], golden.rollout(env_id, rig)
    changes = golden.differences(want, got)
    assert not changes, (
        f"the golden rollout of {env_id} changed:\n  " + "\n  ".join(changes) + "\nIf this "
        "is intended (a dependency bump, a fix that changes results), acknowledge it: "
        f"{golden.UPDATE_ENV}=1 python -m pytest tests/golden, then commit "
        "tests/golden/rollouts.json and say in the message what changed and why."
    )


@pytest.mark.skipif(not os.environ.get(golden.UPDATE_ENV), reason=f"set {golden.UPDATE_ENV}=1")
def test_regenerate(tmp_path):
    golden.write(golden.all_rollouts(tmp_path))
    assert golden.FIXTURE.is_file()


def test_hashes_ignore_last_bits_but_not_content():
    import numpy as np

    depth = np.full((1, 4, 4), 2.0, np.float32)
    assert golden.obs_hash("depth", depth) == golden.obs_hash("depth", depth + 1e-6)
    assert golden.obs_hash("depth", depth) != golden.obs_hash("depth", depth + 0.05)
    rgb = np.zeros((1, 4, 4, 3), np.uint8)
    assert golden.obs_hash("rgb", rgb) != golden.obs_hash("rgb", rgb + 100)
