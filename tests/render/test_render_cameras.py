"""Camera models: ray geometry against closed-form projections, conventions, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from astra_sim.core.errors import UnknownNameError
from astra_sim.render import EquirectangularCamera, FisheyeCamera, PinholeCamera


def _angle_from_axis(dirs: np.ndarray) -> np.ndarray:
    return np.arccos(np.clip(dirs[..., 0], -1.0, 1.0))


# ---------------------------------------------------------------- pinhole
def test_pinhole_centre_ray_is_the_optical_axis_and_rays_are_unit():
    cam = PinholeCamera(65, 49, hfov_deg=70.0)
    dirs = cam.ray_directions()
    assert dirs.shape == (49, 65, 3) and dirs.dtype == np.float32
    np.testing.assert_allclose(dirs[24, 32], [1.0, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=-1), 1.0, atol=1e-6)
    assert cam.valid.all() and cam.valid.shape == (49, 65)


@pytest.mark.parametrize("hfov", [30.0, 90.0, 150.0])
def test_pinhole_edge_and_corner_angles_match_hfov(hfov):
    w, h = 64, 48
    cam = PinholeCamera(w, h, hfov_deg=hfov)
    dirs = cam.ray_directions().astype(np.float64)
    tan_half = math.tan(math.radians(hfov) / 2)
    # The image edge sits at hfov/2; pixel centres sit half a pixel inside it.
    f = (w / 2) / tan_half
    expected = math.atan(math.hypot(w / 2 - 0.5, h / 2 - 0.5) / f)
    for corner in [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)]:
        assert _angle_from_axis(dirs[corner]) == pytest.approx(expected, abs=1e-6)
    # Two mirrored edge pixels, extrapolated half a pixel outwards, span exactly hfov.
    row = dirs[h // 2 - 1 : h // 2 + 1].mean(axis=0)
    lateral = -row[:, 1] / row[:, 0]  # tan of the angle to the right
    step = lateral[1] - lateral[0]
    span = math.atan(lateral[-1] + step / 2) - math.atan(lateral[0] - step / 2)
    assert math.degrees(span) == pytest.approx(hfov, abs=1e-3)


def test_pinhole_image_axes_follow_the_robot_convention():
    dirs = PinholeCamera(32, 32, hfov_deg=90.0).ray_directions()
    assert dirs[16, 0, 1] > 0.5  # first column looks left (+y)
    assert dirs[16, -1, 1] < -0.5  # last column looks right (-y)
    assert dirs[0, 16, 2] > 0.5  # first row looks up (+z)
    assert dirs[-1, 16, 2] < -0.5


def test_pinhole_vertical_fov_follows_the_aspect_ratio():
    cam = PinholeCamera(200, 100, hfov_deg=90.0)
    dirs = cam.ray_directions().astype(np.float64)
    top = dirs[0, 99:101].mean(axis=0)
    vfov_half = math.atan((100 / 2 - 0.5) / cam.focal_px)
    assert math.atan2(top[2], top[0]) == pytest.approx(vfov_half, abs=1e-6)
    assert cam.vfov_deg == pytest.approx(2 * math.degrees(math.atan(0.5)))


def test_directions_are_cached_and_read_only():
    cam = PinholeCamera(16, 8, hfov_deg=60.0)
    assert cam.ray_directions() is cam.ray_directions()
    with pytest.raises(ValueError):
        cam.ray_directions()[0, 0, 0] = 2.0


# ---------------------------------------------------------------- fisheye
def test_equidistant_angle_grows_linearly_with_pixel_radius():
    cam = FisheyeCamera(101, 101, fov_deg=160.0)
    dirs = cam.ray_directions().astype(np.float64)
    ys, xs = np.mgrid[0:101, 0:101]
    r = np.hypot(xs + 0.5 - 50.5, ys + 0.5 - 50.5)
    ok = cam.valid
    expected = r[ok] / 50.5 * math.radians(80.0)
    np.testing.assert_allclose(_angle_from_axis(dirs[ok]), expected, atol=2e-6)
    np.testing.assert_allclose(dirs[50, 50], [1.0, 0.0, 0.0], atol=1e-7)


def test_fisheye_190_sees_behind_its_image_plane_and_masks_outside_the_circle():
    cam = FisheyeCamera(160, 120, fov_deg=190.0)
    dirs, valid = cam.ray_directions(), cam.valid
    assert (dirs[valid][:, 0] < 0).any()
    max_angle = _angle_from_axis(dirs[valid].astype(np.float64)).max()
    assert math.degrees(max_angle) == pytest.approx(95.0, abs=1.0)
    # The circle is inscribed in the shorter side: corners and far columns are invalid.
    assert not valid[0, 0] and not valid[60, 0] and valid[60, 80] and valid[0, 80]
    assert np.all(dirs[~valid] == 0)
    np.testing.assert_allclose(np.linalg.norm(dirs[valid], axis=-1), 1.0, atol=1e-6)
    assert FisheyeCamera(64, 64, fov_deg=360.0).valid.sum() > 0


def test_kannala_brandt_follows_its_polynomial_and_reduces_to_equidistant():
    k = (-0.004, 0.039, -0.037, 0.006)
    cam = FisheyeCamera(121, 121, fov_deg=190.0, model="kannala_brandt", k=k)
    theta = _angle_from_axis(cam.ray_directions()[cam.valid].astype(np.float64))
    ys, xs = np.mgrid[0:121, 0:121]
    r = np.hypot(xs + 0.5 - 60.5, ys + 0.5 - 60.5)[cam.valid]

    def poly(t: np.ndarray) -> np.ndarray:
        return t + k[0] * t**3 + k[1] * t**5 + k[2] * t**7 + k[3] * t**9

    f = 60.5 / poly(np.array(math.radians(95.0)))
    np.testing.assert_allclose(f * poly(theta), r, atol=2e-3)
    plain = FisheyeCamera(121, 121, fov_deg=190.0, model="kannala_brandt")
    eq = FisheyeCamera(121, 121, fov_deg=190.0)
    np.testing.assert_allclose(plain.ray_directions(), eq.ray_directions(), atol=1e-6)


def test_kannala_brandt_rejects_coefficients_that_fold_the_image():
    with pytest.raises(ValueError, match="k="):
        FisheyeCamera(64, 64, fov_deg=190.0, model="kannala_brandt", k=(-0.5, 0, 0, 0))
    with pytest.raises(ValueError, match="k must be 4"):
        FisheyeCamera(64, 64, fov_deg=190.0, model="kannala_brandt", k=(0.1, 0.2))


# ---------------------------------------------------------------- equirectangular
def test_equirectangular_layout_and_seam():
    w, h = 64, 32
    dirs = EquirectangularCamera(w, h).ray_directions().astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=-1), 1.0, atol=1e-6)
    mid = dirs[h // 2 - 1 : h // 2 + 1].mean(axis=0)
    assert mid[w // 2 - 1 : w // 2 + 1].mean(axis=0)[0] > 0.99  # centre looks forward
    assert mid[w // 4][1] > 0.99  # a quarter in looks left
    assert mid[3 * w // 4][1] < -0.99  # three quarters in looks right
    assert mid[0][0] < -0.99 and mid[-1][0] < -0.99  # both edges look back
    step = 2 * math.pi / w
    seam = math.acos(np.clip(mid[0] @ mid[-1] / np.linalg.norm(mid[0]) ** 2, -1, 1))
    assert seam == pytest.approx(step, rel=1e-3)
    assert dirs[0, 0, 2] > 0.99 and dirs[-1, 0, 2] < -0.99  # top row up, bottom row down


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: PinholeCamera(0, 10, 90.0), "width"),
        (lambda: PinholeCamera(10, -1, 90.0), "height"),
        (lambda: PinholeCamera(10.5, 10, 90.0), "width"),
        (lambda: PinholeCamera(True, 10, 90.0), "width"),
        (lambda: PinholeCamera(10, 10, 0.0), "hfov_deg"),
        (lambda: PinholeCamera(10, 10, 180.0), "hfov_deg"),
        (lambda: PinholeCamera(10, 10, float("nan")), "hfov_deg"),
        (lambda: FisheyeCamera(10, 10, 0.0), "fov_deg"),
        (lambda: FisheyeCamera(10, 10, 361.0), "fov_deg"),
        (lambda: FisheyeCamera(0, 10, 180.0), "width"),
        (lambda: EquirectangularCamera(10, 0), "height"),
    ],
)
def test_bad_camera_settings_name_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


def test_hfov_error_states_the_valid_range():
    with pytest.raises(ValueError, match=r"\(0, 180\)"):
        PinholeCamera(10, 10, 180.0)


def test_unknown_fisheye_model_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="kannala_brandt"):
        FisheyeCamera(10, 10, 180.0, model="scaramuzza")
