"""Backend selection by name and the Renderer protocol."""

from __future__ import annotations

import importlib.util

import pytest

from astra_sim.core.errors import UnknownNameError
from astra_sim.render import BACKENDS, EmbreeRenderer, Frame, Renderer, Rig, make_renderer
from astra_sim.scenes import Instance, Material, Scene


def _tiny_scene() -> Scene:
    import numpy as np

    return Scene(
        vertices=np.array([[2, -1, 0], [2, 1, 0], [2, 0, 2]], dtype=np.float32),
        faces=np.array([[0, 1, 2]]),
        uv=np.zeros((3, 2), dtype=np.float32),
        face_instance=np.array([1]),
        face_material=np.array([0]),
        instances=[Instance(0, "void"), Instance(1, "panel")],
        rooms=[],
        materials=[Material(0, "m", "paint", "grey", 1.0, np.full((4, 4, 3), 90, np.uint8))],
    )


def test_default_backend_is_embree_and_follows_the_protocol():
    renderer = make_renderer(_tiny_scene(), threads=1)
    assert isinstance(renderer, EmbreeRenderer) and isinstance(renderer, Renderer)
    frame = renderer.render(Rig.from_name("default"), (0.0, 0.0, 0.0))
    assert isinstance(frame, Frame)
    assert frame.semantic[0].max() == 1 and frame.semantic[2].max() == 0  # panel ahead only
    renderer.close()


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="auto, embree, gl, habitat") as err:
        make_renderer(_tiny_scene(), backend="optix")
    assert isinstance(err.value, ValueError)
    assert set(BACKENDS) == {"embree", "gl", "auto", "habitat"}


@pytest.mark.skipif(importlib.util.find_spec("habitat_sim") is not None, reason="habitat here")
def test_habitat_backend_without_habitat_sim_explains_how_to_install():
    with pytest.raises(ImportError, match=r"conda env create -f environment\.yml"):
        make_renderer(_tiny_scene(), backend="habitat")


def test_empty_scene_renders_as_all_misses():
    import numpy as np

    empty = Scene(
        vertices=np.zeros((0, 3)),
        faces=np.zeros((0, 3)),
        uv=np.zeros((0, 2)),
        face_instance=np.zeros(0),
        face_material=np.zeros(0),
        instances=[Instance(0, "void")],
        rooms=[],
        materials=[],
    )
    frame = make_renderer(empty).render(Rig.from_name("equirect"), (0, 0, 0))
    assert frame.depth.max() == 0 and frame.semantic.max() == 0 and frame.rgb.max() == 0
