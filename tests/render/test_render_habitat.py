"""The habitat-sim backend against the Embree renderer and our grid planner.

Marked ``habitat``: these run where habitat-sim is installed (the conda environment,
``environment.yml``) and skip elsewhere; the default run leaves them out.
"""

from __future__ import annotations

import numpy as np
import pytest

from astra_sim.render import EmbreeRenderer, Rig, make_renderer
from astra_sim.scenes.pathfinder import Pathfinder, make_pathfinder
from tests.conftest import cached_scene

pytestmark = pytest.mark.habitat
habitat_sim = pytest.importorskip("habitat_sim")


@pytest.fixture(scope="module")
def scene():
    return cached_scene("home", 0)


@pytest.mark.parametrize("rig_name", ["default", "equirect"])
def test_habitat_frames_match_embree(scene, rig_name):
    rig = Rig.from_name(rig_name)
    pose = [*scene.navgrid().sample_navigable(np.random.default_rng(0), 1)[0].tolist(), 0.3]
    reference = EmbreeRenderer(scene).render(rig, pose)
    renderer = make_renderer(scene, backend="habitat")
    try:
        frame = renderer.render(rig, pose)
    finally:
        renderer.close()
    assert frame.rgb.shape == reference.rgb.shape and frame.rgb.dtype == np.uint8
    hit = reference.depth > 0
    same_id = (frame.semantic == reference.semantic)[hit].mean()
    assert same_id > 0.95  # instance ids are our rows in habitat's semantic sensor too
    assert np.median(np.abs(frame.depth - reference.depth)[hit]) < 0.02


def test_navmesh_geodesics_agree_with_our_grid(scene):
    grid = scene.navgrid()
    finder = make_pathfinder(scene, backend="habitat")
    try:
        assert isinstance(finder, Pathfinder)
        rng = np.random.default_rng(1)
        for _ in range(5):
            a, b = grid.sample_navigable(rng, 2)
            ours = grid.geodesic_distance(a, b)
            theirs = finder.geodesic_distance(a, b)
            assert theirs == pytest.approx(ours, rel=0.05)
            path = finder.shortest_path(a, b)
            assert np.allclose(path[0], a, atol=0.1) and np.allclose(path[-1], b, atol=0.1)
    finally:
        finder.close()
