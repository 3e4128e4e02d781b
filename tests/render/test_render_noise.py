"""Sensor noise: seeded determinism, pass-through when off, and the shape of the noise."""

from __future__ import annotations

import numpy as np
import pytest

from astra_sim.render import GaussianNoise, RedwoodDepthNoise


def _rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (2, 32, 48, 3), dtype=np.uint8)


def _depth(value: float = 2.0, shape: tuple[int, ...] = (2, 64, 64)) -> np.ndarray:
    return np.full(shape, value, dtype=np.float32)


@pytest.mark.parametrize("model", [GaussianNoise(3.0), RedwoodDepthNoise()])
def test_same_seed_same_output_and_other_seeds_differ(model):
    image = _rgb() if isinstance(model, GaussianNoise) else _depth()
    a = model.apply(image, np.random.default_rng(5))
    b = model.apply(image, np.random.default_rng(5))
    c = model.apply(image, np.random.default_rng(6))
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()
    assert a.shape == image.shape and a.dtype == image.dtype


@pytest.mark.parametrize("model", [GaussianNoise(0.0), RedwoodDepthNoise(scale=0.0)])
def test_zero_noise_passes_the_image_through_without_drawing(model):
    image = _rgb() if isinstance(model, GaussianNoise) else _depth()
    rng = np.random.default_rng(1)
    state = rng.bit_generator.state
    assert model.noiseless
    assert model.apply(image, rng) is image
    assert rng.bit_generator.state == state


def test_gaussian_noise_has_the_asked_sigma_and_clips():
    grey = np.full((256, 256, 3), 128, dtype=np.uint8)
    out = GaussianNoise(5.0).apply(grey, np.random.default_rng(0)).astype(np.float64)
    assert out.std() == pytest.approx(5.0, rel=0.05) and abs(out.mean() - 128) < 0.1
    white = np.full((64, 64, 3), 255, dtype=np.uint8)
    assert GaussianNoise(20.0).apply(white, np.random.default_rng(0)).max() == 255


def test_depth_noise_grows_with_depth_squared_and_keeps_holes():
    rng = np.random.default_rng(0)
    model = RedwoodDepthNoise(disparity_step=0.0)
    errors = {z: (model.apply(_depth(z), rng) - z).std() for z in (1.0, 2.0, 4.0)}
    expected = {z: 0.0012 + 0.0019 * (z - 0.4) ** 2 for z in errors}
    for z in errors:
        assert errors[z] == pytest.approx(expected[z], rel=0.1)
    depth = _depth(3.0)
    depth[:, 10:20, 10:20] = 0.0
    out = model.apply(depth, rng)
    assert np.all(out[:, 10:20, 10:20] == 0)


def test_depth_quantisation_steps_follow_disparity():
    model = RedwoodDepthNoise(scale=1e-9)  # noise off in effect, quantisation on
    z = np.linspace(0.5, 5.0, 4096, dtype=np.float32).reshape(64, 64)
    out = model.apply(z, np.random.default_rng(0))
    levels = np.unique(out)
    bf, step = model.baseline_focal, model.disparity_step
    np.testing.assert_allclose(bf / levels / step, np.rint(bf / levels / step), atol=1e-3)
    assert np.abs(out - z).max() < z.max() ** 2 / bf * step  # at most one step off


def test_lateral_jitter_frays_depth_edges_more_when_far():
    def frayed(z_far: float) -> float:
        depth = _depth(1.0, (128, 128))
        depth[:, 64:] = z_far
        model = RedwoodDepthNoise(axial_base=0, axial_quadratic=0, disparity_step=0)
        out = model.apply(depth, np.random.default_rng(0))
        return float((np.abs(out - depth) > 0.1).mean())

    assert 0 < frayed(2.0) < frayed(8.0)


def test_bad_noise_input():
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(-1.0)
    with pytest.raises(ValueError, match="scale"):
        RedwoodDepthNoise(scale=float("nan"))
    with pytest.raises(ValueError, match="max_depth"):
        RedwoodDepthNoise(max_depth=0.0)
    with pytest.raises(ValueError, match="rng"):
        GaussianNoise(1.0).apply(_rgb(), 42)
    with pytest.raises(ValueError, match="uint8"):
        GaussianNoise(1.0).apply(_rgb().astype(np.float32), np.random.default_rng(0))
    with pytest.raises(ValueError, match="depths >= 0"):
        RedwoodDepthNoise().apply(_depth(-1.0), np.random.default_rng(0))
    with pytest.raises(ValueError, match="float"):
        RedwoodDepthNoise().apply(np.ones((4, 4), np.uint16), np.random.default_rng(0))
