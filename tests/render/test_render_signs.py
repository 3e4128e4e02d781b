"""Sign text comes out of the renderer readable: upright and not mirrored."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SMALL, cached_scene
from PIL import Image

from astra_sim.render import CameraMount, EmbreeRenderer, PinholeCamera, Rig, Shading
from astra_sim.scenes.textures import render_text_plate


def _grey(image: np.ndarray) -> np.ndarray:
    g = image.astype(np.float64).mean(axis=-1)
    return (g - g.mean()) / (g.std() + 1e-9)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float((_grey(a) * _grey(b)).mean())


@pytest.mark.parametrize("filtering", ["nearest", "bilinear"])
def test_rendered_door_sign_reads_like_its_plate_not_its_mirror_image(filtering):
    scene = cached_scene("office", 0, **SMALL["office"])
    signs = [s for s in scene.find(category="sign") if s.text.startswith("Room ")]
    assert signs, "the small office should have numbered door signs"
    sign = signs[0]
    x, y, z = sign.position
    # Stand 1 m in front of the sign, at its height, facing it.
    pose = (x + math.cos(sign.yaw), y + math.sin(sign.yaw), sign.yaw + math.pi)
    rig = Rig([CameraMount(PinholeCamera(256, 128, hfov_deg=40.0), xyz=(0.0, 0.0, z))])
    with EmbreeRenderer(scene, shading=Shading(filtering=filtering)) as renderer:
        frame = renderer.render(rig, pose)
    mask = frame.semantic[0] == sign.id
    assert mask.sum() > 5000, "the sign should fill a good part of the view"
    (r0, c0), (r1, c1) = np.argwhere(mask).min(axis=0), np.argwhere(mask).max(axis=0)
    crop = frame.rgb[0, r0 : r1 + 1, c0 : c1 + 1]
    plate = render_text_plate(sign.text, 256, 64)
    crop = np.asarray(Image.fromarray(crop).resize((256, 64), Image.BILINEAR))
    straight = _corr(crop, plate)
    mirrored = _corr(crop, plate[:, ::-1])
    upside_down = _corr(crop, plate[::-1])
    assert straight > 0.8
    # Measured: straight ~0.97, mirrored ~0.45, upside down ~0.6 (symmetric border helps it).
    assert straight > mirrored + 0.3 and straight > upside_down + 0.2
