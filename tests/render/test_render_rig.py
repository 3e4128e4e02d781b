"""Mounts and rigs: recipes, world-frame rays per pose, validation."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from astra_sim.core.errors import UnknownNameError
from astra_sim.render import (
    RIG_NAMES,
    CameraMount,
    EquirectangularCamera,
    FisheyeCamera,
    PinholeCamera,
    Rig,
)


def _centre_ray(dirs: np.ndarray, h: int, w: int) -> np.ndarray:
    """Mean of the four pixels around the centre of an even-sized image, normalised."""
    c = dirs.reshape(h, w, 3)[h // 2 - 1 : h // 2 + 1, w // 2 - 1 : w // 2 + 1].mean(axis=(0, 1))
    return c / np.linalg.norm(c)


def test_default_rig_is_a_four_camera_panorama_at_half_a_metre():
    rig = Rig.from_name("default")
    assert rig.shape == (4, 128, 128)
    assert rig.names == ["front", "left", "back", "right"]
    assert rig.num_rays == 4 * 128 * 128
    yaw = 0.4
    origins, dirs = rig.rays((1.0, -2.0, yaw))
    assert origins.dtype == dirs.dtype == np.float32
    assert origins.shape == dirs.shape == (rig.num_rays, 3)
    np.testing.assert_allclose(origins, np.tile([1.0, -2.0, 0.5], (rig.num_rays, 1)), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=1), 1.0, atol=1e-6)
    per_cam = dirs.reshape(4, -1, 3)
    for i in range(4):
        a = yaw + i * math.pi / 2
        np.testing.assert_allclose(
            _centre_ray(per_cam[i], 128, 128), [math.cos(a), math.sin(a), 0.0], atol=1e-6
        )
    # Together the cameras see every azimuth.
    az = np.degrees(np.arctan2(dirs[:, 1], dirs[:, 0]))
    assert np.histogram(az, bins=72, range=(-180, 180))[0].min() > 0


def test_recipes_exist_and_unknown_names_list_them():
    assert set(RIG_NAMES) == {"default", "default_hires", "astra3", "equirect"}
    hires, base = Rig.from_name("default_hires"), Rig.from_name("default")
    assert hires.shape == (4, 384, 384)
    # Each 3x3 block's centre pixel casts the ray of the default rig's pixel.
    pose = np.array([1.0, 2.0, 0.3])
    for a, b in zip(hires.rays(pose), base.rays(pose), strict=True):
        a = np.asarray(a)
        if a.ndim >= 2 and a.shape[0] == 4 * 384 * 384:
            c = a.reshape(4, 384, 384, -1)[:, 1::3, 1::3].reshape(np.asarray(b).shape)
            np.testing.assert_allclose(c, b, atol=1e-6)
    astra3 = Rig.from_name("astra3")
    assert astra3.shape == (3, 160, 160)
    assert 0 < astra3.num_rays < 3 * 160 * 160 == astra3.valid.size
    assert astra3.num_rays == int(astra3.valid.sum())
    assert Rig.from_name("equirect").shape == (1, 128, 256)
    with pytest.raises(UnknownNameError, match="astra3, default, default_hires, equirect"):
        Rig.from_name("hexapod")


def test_mount_offset_and_pitch_move_rays_with_the_base():
    cam = PinholeCamera(64, 64, hfov_deg=60.0)
    mount = CameraMount(cam, xyz=(0.2, 0.1, 1.0), yaw=math.pi / 2, pitch=0.3, name="m")
    rig = Rig([mount])
    origins, dirs = rig.rays((5.0, 6.0, math.pi / 2))
    # Base yaw 90 deg maps base (0.2, 0.1) to world (-0.1, 0.2); camera yaw adds 90 deg more.
    np.testing.assert_allclose(origins[0], [4.9, 6.2, 1.0], atol=1e-6)
    expected = [-math.cos(0.3), 0.0, -math.sin(0.3)]  # looking back (-x) and down
    np.testing.assert_allclose(_centre_ray(dirs, 64, 64), expected, atol=1e-6)


def test_rays_skip_invalid_pixels_in_valid_order():
    cam = FisheyeCamera(40, 40, fov_deg=180.0)
    rig = Rig([CameraMount(cam, xyz=(0, 0, 0.5))])
    _, dirs = rig.rays((0, 0, 0))
    assert len(dirs) == int(cam.valid.sum())
    np.testing.assert_allclose(dirs, cam.ray_directions()[cam.valid], atol=1e-6)
    assert rig.ray_depth_factors.shape == (len(dirs),)


def test_pinhole_depth_factors_turn_range_into_z_depth():
    pin = Rig([CameraMount(PinholeCamera(16, 16, 90.0))])
    np.testing.assert_allclose(pin.ray_depth_factors, pin.rays((0, 0, 0))[1][:, 0], atol=1e-6)
    pano = Rig([CameraMount(EquirectangularCamera(16, 8))])
    assert np.all(pano.ray_depth_factors == 1.0)


def test_rig_pickles_without_its_cache():
    rig = Rig.from_name("default")
    rig.rays((0, 0, 0))
    back = pickle.loads(pickle.dumps(rig))
    assert back.names == rig.names
    np.testing.assert_array_equal(back.rays((1, 2, 3))[1], rig.rays((1, 2, 3))[1])


def test_bad_rigs_and_poses_are_rejected():
    a = CameraMount(PinholeCamera(32, 32, 90.0), name="a")
    b = CameraMount(PinholeCamera(32, 16, 90.0), name="b")
    with pytest.raises(ValueError, match="same"):
        Rig([a, b])
    with pytest.raises(ValueError, match="at least one"):
        Rig([])
    with pytest.raises(ValueError, match="unique"):
        Rig([a, a])
    with pytest.raises(ValueError, match="mounts"):
        Rig(["camera"])
    with pytest.raises(ValueError, match="xyz"):
        CameraMount(PinholeCamera(8, 8, 90.0), xyz=(0.0, float("nan"), 1.0))
    with pytest.raises(ValueError, match="xyz"):
        CameraMount(PinholeCamera(8, 8, 90.0), xyz=(0.0, 1.0))
    with pytest.raises(ValueError, match="camera"):
        CameraMount("front")
    rig = Rig([a])
    for pose in [(0.0, 1.0), (0.0, np.nan, 0.0), "origin", None]:
        with pytest.raises(ValueError, match="pose"):
            rig.rays(pose)
