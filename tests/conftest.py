"""Shared fixtures: scenes are generated once per test session, they are pure functions of
(kind, seed, params)."""

from __future__ import annotations

import functools
import os
import tempfile

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Maps the tests build go to a fresh folder, not the user's ~/.cache/astra-sim.
os.environ.setdefault("ASTRA_SIM_CACHE", tempfile.mkdtemp(prefix="astra-sim-test-cache-"))

# Small but complete layouts keep the default test run fast.
SMALL = {
    "home": {},
    "office": {"rooms_per_side": 4, "meeting_rooms": 1},
    "warehouse": {"racks": 2, "bays": 4, "docks": 2, "workstations": 2},
}


@functools.cache
def cached_scene(kind: str, seed: int, **params):
    from astra_sim.scenes import generate_scene

    return generate_scene(kind, seed, **params)


@pytest.fixture(params=["home", "office", "warehouse"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def scene(kind):
    return cached_scene(kind, 0, **SMALL[kind])


def write_panorama_rig(path, size: int) -> str:
    """A rig recipe of four size x size pinhole cameras at 90-degree steps (a full panorama
    that renders fast); returns the path as a string for the envs' ``rig`` argument."""
    cams = [
        f"  - {{name: c{i}, model: pinhole, width: {size}, height: {size}, hfov_deg: 90, "
        f"xyz: [0, 0, 0.5], yaw_deg: {90 * i}}}"
        for i in range(4)
    ]
    path.write_text("cameras:\n" + "\n".join(cams) + "\n")
    return str(path)
