"""Rig recipes in envs/rigs/ describe the same rigs as the built-in names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from astra_sim.core.errors import UnknownNameError
from astra_sim.render.rig import RIG_NAMES, Rig
from astra_sim.render.rig_recipe import load_rig, rig_from_dict

RIGS = Path(__file__).resolve().parents[2] / "envs" / "rigs"


@pytest.mark.parametrize("name", RIG_NAMES)
def test_yaml_recipe_equals_the_built_in_rig(name):
    from_yaml = load_rig(RIGS / f"{name}.yaml")
    built_in = Rig.from_name(name)
    assert [m.name for m in from_yaml.mounts] == [m.name for m in built_in.mounts]
    assert [m.camera for m in from_yaml.mounts] == [m.camera for m in built_in.mounts]
    pose = np.array([1.0, 2.0, 0.3])
    for a, b in zip(from_yaml.rays(pose), built_in.rays(pose), strict=True):
        assert np.allclose(a, b, atol=1e-6)


def test_bad_recipes_are_named(tmp_path):
    with pytest.raises(UnknownNameError, match="camera model"):
        rig_from_dict({"cameras": [{"model": "orthographic", "width": 8, "height": 8}]})
    with pytest.raises(ValueError, match=r"unknown key.*fov"):
        rig_from_dict({"cameras": [{"model": "pinhole", "width": 8, "height": 8, "fov": 90}]})
    with pytest.raises(FileNotFoundError):
        load_rig(tmp_path / "missing.yaml")
    with pytest.raises(UnknownNameError, match="default"):
        load_rig("panorama")
