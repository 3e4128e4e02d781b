"""The masked ESDF loss: zero in the open, growing near obstacles, sparing the GT corridor."""

import itertools

import numpy as np
import pytest
import torch
from scipy import ndimage

from astra_sim.agents.astra_local.esdf_loss import (
    EsdfLossConfig,
    corridor_distance,
    integrate_steps,
    masked_esdf_loss,
    poses_to_steps,
    sample_grid,
)

CELL = 0.1
SIZE = 40  # 4 m square around the robot


def centres() -> np.ndarray:
    c = (np.arange(SIZE) - SIZE / 2 + 0.5) * CELL
    return np.stack(np.meshgrid(c, c, indexing="ij"), -1)


def esdf_with_box(x0: float, x1: float, y0: float, y1: float) -> torch.Tensor:
    """(1, X, Y) ESDF of one box obstacle, as the NavGrid computes it (EDT between cells)."""
    xy = centres()
    blocked = (xy[..., 0] >= x0) & (xy[..., 0] <= x1) & (xy[..., 1] >= y0) & (xy[..., 1] <= y1)
    esdf = ndimage.distance_transform_edt(~blocked) - ndimage.distance_transform_edt(blocked)
    return torch.tensor(esdf * CELL, dtype=torch.float32)[None]


def straight(offset_y: float, length: float = 1.6, n: int = 8) -> torch.Tensor:
    """Steps of a straight path along x at lateral offset ``offset_y`` (a sideways first step)."""
    steps = torch.zeros(1, n, 3)
    steps[0, :, 0] = length / n
    steps[0, 0, 1] = offset_y
    return steps


def test_integrate_and_back_roundtrip():
    gen = torch.Generator().manual_seed(0)
    steps = torch.randn(5, 8, 3, generator=gen) * torch.tensor([0.2, 0.05, 0.3])
    poses = integrate_steps(steps)
    torch.testing.assert_close(poses_to_steps(poses), steps, atol=1e-5, rtol=0)
    # Turning 90 degrees then stepping forward moves along +y.
    turn = torch.tensor([[[0.0, 0.0, np.pi / 2], [1.0, 0.0, 0.0]]])
    torch.testing.assert_close(integrate_steps(turn)[0, -1, :2], torch.tensor([0.0, 1.0]))


def test_sample_grid_is_bilinear_in_metres():
    xy = centres()
    grid = torch.tensor(2.0 * xy[..., 0] - xy[..., 1], dtype=torch.float32)[None]
    pts = torch.tensor([[[0.33, -0.41], [1.02, 0.7], [-0.5, 0.05]]])
    expected = 2.0 * pts[..., 0] - pts[..., 1]
    torch.testing.assert_close(sample_grid(grid, pts, CELL), expected, atol=1e-4, rtol=0)


def test_zero_for_a_path_in_the_open():
    esdf = torch.full((1, SIZE, SIZE), 3.0)
    cfg = EsdfLossConfig(threshold=0.35, mask_width=0.15)
    loss, _ = masked_esdf_loss(straight(0.0), straight(0.0), esdf, CELL, cfg)
    assert float(loss) == 0.0
    far_gt = straight(-1.5)  # nothing spared, still nothing to penalise
    assert float(masked_esdf_loss(straight(0.5), far_gt, esdf, CELL, cfg)[0]) == 0.0


def test_grows_as_the_path_nears_an_obstacle():
    esdf = esdf_with_box(0.6, 1.2, 0.5, 1.5)  # a box to the front left
    cfg = EsdfLossConfig(threshold=0.35, mask_width=0.15)
    gt = straight(-1.0)  # the corridor is far away: the mask spares nothing here
    losses = [
        float(masked_esdf_loss(straight(y), gt, esdf, CELL, cfg)[0])
        for y in (-0.5, 0.0, 0.25, 0.3, 0.35, 0.45)  # the box's edge is at y = 0.5
    ]
    assert losses[0] == 0.0 and losses[1] == 0.0  # clearance above the threshold
    assert all(b > a for a, b in itertools.pairwise(losses[1:]))


def test_mask_spares_the_ground_truth_corridor():
    esdf = esdf_with_box(0.6, 1.2, 0.4, 1.5)
    cfg = EsdfLossConfig(threshold=0.35, mask_width=0.15)
    gt = straight(0.2)  # the demonstration squeezes past the box
    assert float(masked_esdf_loss(straight(0.2), gt, esdf, CELL, cfg)[0]) == 0.0
    inside = float(masked_esdf_loss(straight(0.3), gt, esdf, CELL, cfg)[0])  # still in it
    off = float(masked_esdf_loss(straight(0.4), gt, esdf, CELL, cfg)[0])  # out, towards the box
    assert inside == 0.0
    assert off > 0.0
    unmasked = EsdfLossConfig(threshold=0.35, mask_width=0.0)
    assert float(masked_esdf_loss(straight(0.2), gt, esdf, CELL, unmasked)[0]) > 0.0


def test_gradient_pushes_away_from_the_obstacle():
    esdf = esdf_with_box(0.6, 1.2, 0.5, 1.5)
    steps = straight(0.3).requires_grad_(True)
    loss, _ = masked_esdf_loss(steps, straight(-1.0), esdf, CELL, EsdfLossConfig())
    loss.backward()
    assert steps.grad[0, 0, 1] > 0  # descending the gradient moves the path to -y, away


def test_corridor_distance_and_config_checks():
    path = torch.tensor([[[1.0, 0.0], [2.0, 0.0]]])
    pts = torch.tensor([[[0.5, 0.3], [3.0, 0.0], [1.5, -0.2]]])
    torch.testing.assert_close(corridor_distance(pts, path), torch.tensor([[0.3, 1.0, 0.2]]))
    with pytest.raises(ValueError, match="mask_width"):
        EsdfLossConfig(mask_width=-1.0)
