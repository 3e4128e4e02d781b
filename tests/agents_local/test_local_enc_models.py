"""3D and 4D encoders on tiny configs: declared shapes, and a few steps lower each loss."""

from __future__ import annotations

import pytest
import torch

from astra_sim.agents.astra_local.encoder3d import Encoder3D, Encoder3DConfig
from astra_sim.agents.astra_local.encoder4d import Encoder4D, Encoder4DConfig
from astra_sim.agents.astra_local.lss import VoxelGridConfig, rig_rays
from astra_sim.agents.astra_local.vit import ViT, ViTConfig
from astra_sim.agents.astra_local.volume_render import RenderConfig
from astra_sim.render.rig import Rig


def tiny_config() -> Encoder3DConfig:
    return Encoder3DConfig(
        vit=ViTConfig(image_size=32, patch=8, dim=16, depth=1, heads=2),
        grid=VoxelGridConfig(extent=2.0, height=1.0, cell=0.5, z_cells=2),
        feat_dim=8,
        depth_bins=8,
        depth_range=(0.25, 4.0),
        render=RenderConfig(rays=64, samples=12, near=0.1, far=4.0, hidden=16),
    )


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


def test_vit_feature_map_shape():
    vit = ViT(ViTConfig(image_size=32, patch=8, dim=16, depth=1, heads=2))
    assert vit(torch.rand(3, 3, 32, 32)).shape == (3, 16, 4, 4)
    with pytest.raises(ValueError, match="32x32"):
        vit(torch.rand(1, 3, 16, 16))


def test_rig_rays_point_along_each_camera():
    rays = rig_rays(Rig.from_name("default"), 32)
    assert rays["dirs"].shape == (4, 4, 4, 3)
    # The front camera's mean ray looks along +x, the left one's along +y.
    assert rays["dirs"][0].reshape(-1, 3).mean(0)[0] > 0.7
    assert rays["dirs"][1].reshape(-1, 3).mean(0)[1] > 0.7


def test_encoder3d_shapes_from_uint8_full_size_frames():
    torch.manual_seed(0)
    enc = Encoder3D(tiny_config())
    images = torch.randint(0, 256, (2, 4, 128, 128, 3), dtype=torch.uint8)
    voxels = enc(images)
    assert voxels.shape == (2, *enc.voxel_shape) == (2, 8, 2, 8, 8)
    assert Encoder3D.bev(voxels).shape == (2, enc.bev_channels, 8, 8)
    with pytest.raises(ValueError, match="4 views"):
        enc(images[:, :3])


def test_encoder3d_rendering_loss_decreases():
    torch.manual_seed(0)
    enc = Encoder3D(tiny_config())
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (2, 4, 32, 32, 3), dtype=torch.uint8, generator=gen)
    depth = 0.5 + 3 * torch.rand(2, 4, 32, 32, generator=gen)
    opt = torch.optim.Adam(enc.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        # The same rays every step, so the loss values are comparable.
        loss, info = enc.loss(images, depth, torch.Generator().manual_seed(1))
        assert set(info) == {"render/rgb_l1", "render/depth_l1"}
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_encoder4d_shapes_and_loss_decreases():
    torch.manual_seed(0)
    shape = (8, 2, 8, 8)
    model = Encoder4D(Encoder4DConfig(hidden=16, heads=2, dit_blocks=1), shape)
    gen = torch.Generator().manual_seed(0)
    past = torch.randn(2, 4, *shape, generator=gen)
    times = torch.tensor([[0.5, 1.0, 1.5, 2.0]] * 2)
    target = 0.5 * past[:, -1:] + 0.1 * torch.randn(2, 4, *shape, generator=gen)
    assert model(past, times).shape == (2, 4, *shape)
    with pytest.raises(ValueError, match="past voxels"):
        model(past[:, :3], times)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        loss = Encoder4D.voxel_l1(model(past, times), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_encoder4d_trains_through_the_renderer():
    """The 4D prediction of a future frame is rendered and compared with that frame."""
    torch.manual_seed(0)
    enc = Encoder3D(tiny_config())
    model = Encoder4D(Encoder4DConfig(hidden=16, heads=2, dit_blocks=1), enc.voxel_shape)
    gen = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (1, 5, 4, 32, 32, 3), dtype=torch.uint8, generator=gen)
    depth = 0.5 + 3 * torch.rand(1, 4, 32, 32, generator=gen)
    with torch.no_grad():
        voxels = enc(frames.flatten(0, 1)).reshape(1, 5, *enc.voxel_shape)
    pred = model(voxels[:, :4], torch.tensor([[0.5]]))
    loss, _ = enc.render_loss(pred[:, 0], frames[:, 4], depth, torch.Generator().manual_seed(2))
    loss = loss + Encoder4D.voxel_l1(pred, voxels[:, 4:])
    loss.backward()
    assert model.stem.weight.grad is not None and torch.isfinite(loss)


def test_lift_depth_loss_rewards_the_sensor_bin_and_trains_down():
    """The lift's depth cross-entropy is low for a distribution on the sensor's bin, high
    for one elsewhere, skips patches with no return, and a few steps with it lower it."""
    from dataclasses import replace

    torch.manual_seed(0)
    cfg = replace(tiny_config(), lift_depth_weight=1.0)
    enc = Encoder3D(cfg)
    d = cfg.depth_bins
    depth = torch.full((1, 4, 32, 32), 2.0)
    depth[:, 0] = 0.0  # camera 0 sees nothing: no target there
    right = torch.zeros(1, 4, d, 4, 4)
    right[:, :, round((2.0 - 0.25) / (3.75 / (d - 1)))] = 1.0
    wrong = torch.roll(right, 3, dims=2)
    assert enc.lift_depth_loss(right, depth) < 1e-3 < 10.0 < enc.lift_depth_loss(wrong, depth)
    wrong[:, 0] = right[:, 0]  # camera 0's distribution does not count
    assert torch.isclose(
        enc.lift_depth_loss(wrong, depth), enc.lift_depth_loss(torch.roll(right, 3, dims=2), depth)
    )

    images = torch.randint(0, 256, (2, 4, 32, 32, 3), dtype=torch.uint8)
    depth = torch.rand(2, 4, 32, 32) * 3.0 + 0.5
    opt = torch.optim.Adam(enc.parameters(), lr=1e-2)
    first = None
    for _ in range(15):
        loss, info = enc.loss(images, depth, torch.Generator().manual_seed(0))
        first = info["lift/depth_ce"] if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert info["lift/depth_ce"] < 0.7 * first
