"""A scene of a real scan's size (~290k triangles) loads, navigates and renders.

Slow (about 15 s on a 2-core machine); prints the figures docs/habitat.md quotes:
``python -m pytest -m slow tests/scenes/test_habitat_big_scan.py -s``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from astra_sim.agents.expert import ExpertAgent
from astra_sim.render import EmbreeRenderer, Rig
from astra_sim.scenes.habitat import load_habitat_scene
from tests.conftest import cached_scene
from tests.scenes.habitat_files import write_dense_scan

pytestmark = pytest.mark.slow


def test_dense_scan_loads_navigates_and_renders(tmp_path):
    original = cached_scene("home", 0)
    path, face_instance = write_dense_scan(tmp_path, original, semantic_edge=0.2)
    t0 = time.perf_counter()
    scene = load_habitat_scene(path, up="y")
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    grid = scene.navgrid()
    t_grid = time.perf_counter() - t0
    assert len(scene.faces) > 250_000
    # semantics came from a differently triangulated mesh: nearest-triangle transfer
    agree = float((scene.face_instance == face_instance).mean())
    assert agree > 0.97
    assert grid.navigable_area == pytest.approx(original.navgrid().navigable_area, rel=0.03)
    rng = np.random.default_rng(0)
    a, b = original.navgrid().sample_navigable(rng, 2)
    assert grid.geodesic_distance(a, b) == pytest.approx(
        original.navgrid().geodesic_distance(a, b), rel=0.03
    )
    expert = ExpertAgent(scene)
    expert.reset(np.array([*a, 0.0]), b[None])
    assert len(expert.path) >= 2
    t0 = time.perf_counter()
    renderer = EmbreeRenderer(scene)
    t_bvh = time.perf_counter() - t0
    rig = Rig.from_name("default")
    renderer.render(rig, (a[0], a[1], 0.0))
    n, t0 = 20, time.perf_counter()
    for i in range(n):
        frame = renderer.render(rig, (a[0], a[1], 0.3 * i))
    fps = n / (time.perf_counter() - t0)
    renderer.close()
    assert (frame.depth > 0).mean() > 0.9 and frame.semantic.max() > 0
    cams = len(rig.mounts)
    size = rig.mounts[0].camera.shape
    print(
        f"\n{len(scene.faces)} triangles: load {t_load:.2f} s, navgrid {t_grid:.2f} s, "
        f"BVH {t_bvh:.2f} s, {fps:.1f} rig frames/s ({cams} x {size[1]}x{size[0]} RGB+depth"
        f"+semantic), semantic transfer agreement {agree:.3f}"
    )
