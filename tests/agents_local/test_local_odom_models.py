"""Odometry head and BEV-ODOM on tiny configs: shapes, ablation switches, loss decreases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from astra_sim.agents.astra_local.encoder3d import Encoder3DConfig
from astra_sim.agents.astra_local.lss import VoxelGridConfig
from astra_sim.agents.astra_local.odometry import OdometryConfig, OdometryHead, local_correlation
from astra_sim.agents.astra_local.odometry_data import OdometryChunks, OdometryEpisode
from astra_sim.agents.astra_local.train_odometry import (
    OdometryTrainConfig,
    build_model,
    load_checkpoint,
    train,
)
from astra_sim.agents.astra_local.vit import ViTConfig
from astra_sim.agents.astra_local.volume_render import RenderConfig
from astra_sim.agents.baselines.dead_reckoning import DeadReckoning, DeadReckoningConfig


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


def tiny_encoder() -> Encoder3DConfig:
    return Encoder3DConfig(
        vit=ViTConfig(image_size=32, patch=8, dim=16, depth=1, heads=2),
        grid=VoxelGridConfig(extent=2.0, height=1.0, cell=0.5, z_cells=2),
        feat_dim=8,
        depth_bins=8,
        render=RenderConfig(rays=16, samples=8),
    )


def tiny_odometry(**kw) -> OdometryConfig:
    base = dict(window=4, d_model=32, layers=1, heads=2, corr_radius=1, corr_dim=16, lstm_hidden=16)
    return OdometryConfig(**{**base, **kw})


def synthetic_episode(seed: int, steps: int = 24) -> OdometryEpisode:
    """A robot on an arc with sensors consistent with its motion (noise-free)."""
    rng = np.random.default_rng(seed)
    v, w = 0.3 + 0.2 * rng.random(), rng.uniform(-0.5, 0.5)
    t = np.arange(steps) * 0.1
    yaw = w * t
    x = np.cumsum(np.r_[0, v * 0.1 * np.cos(yaw[:-1])])
    y = np.cumsum(np.r_[0, v * 0.1 * np.sin(yaw[:-1])])
    wheel = np.zeros((steps, 10, 2), np.float32)
    wheel[1:, :, 0] = (v - w * 0.15) * 0.01 / 0.05
    wheel[1:, :, 1] = (v + w * 0.15) * 0.01 / 0.05
    imu = np.zeros((steps, 20, 6), np.float32)
    imu[:, :, 2] = 9.81
    imu[1:, :, 5] = w
    rgb = rng.integers(0, 256, (steps, 4, 32, 32, 3), dtype=np.uint8)
    return OdometryEpisode(rgb, imu, wheel, np.stack([x, y, yaw], 1))


def test_all_modalities_off_is_an_error():
    with pytest.raises(ValueError, match="at least one modality"):
        OdometryConfig(use_vision=False, use_imu=False, use_wheel=False)


@pytest.mark.parametrize(
    "mods", [("vision",), ("imu",), ("wheel",), ("vision", "imu"), ("vision", "imu", "wheel")]
)
def test_head_output_shape_for_each_modality_subset(mods):
    cfg = tiny_odometry(**{f"use_{m}": m in mods for m in ("vision", "imu", "wheel")})
    head = OdometryHead(cfg, bev_channels=16, bev_grid=8)
    b, s = 2, 6
    out = head(
        torch.randn(b, s + 1, 16, 8, 8) if "vision" in mods else None,
        torch.randn(b, s, 20, 6) if "imu" in mods else None,
        torch.randn(b, s, 10, 2) if "wheel" in mods else None,
    )
    assert out.shape == (b, s, 3)


def test_head_needs_the_inputs_of_its_modalities():
    head = OdometryHead(tiny_odometry(use_vision=False, use_wheel=False))
    with pytest.raises(ValueError, match="'imu' is on"):
        head(wheel=torch.zeros(1, 2, 10, 2))


def test_each_step_sees_only_its_window():
    """A step's pose depends on the W steps up to it, not on later or older ones."""
    torch.manual_seed(0)
    head = OdometryHead(tiny_odometry(use_vision=False, use_wheel=False)).eval()
    imu = torch.randn(1, 9, 20, 6)
    base = head(imu=imu)
    changed = imu.clone()
    changed[:, 8] += 1.0  # the last step: only its own window (step 8) can change
    changed[:, 0] += 1.0  # step 0: in the windows of steps 0-3 only
    out = head(imu=changed)
    assert torch.allclose(out[0, 4:8], base[0, 4:8], atol=1e-5)
    assert not torch.allclose(out[0, 8], base[0, 8])


def test_correlation_peaks_at_the_true_shift():
    a = torch.randn(1, 8, 10, 10)
    b = torch.roll(a, shifts=1, dims=2)  # b's cell (i+1, j) holds a's (i, j)
    corr = local_correlation(a, b, 1)[0, :, 3:7, 3:7].mean((1, 2))
    assert int(corr.argmax()) == 7  # displacement (+1, 0): row 2 of the 3x3, column 1


@pytest.mark.parametrize("method", ["astra", "bev_odom"])
def test_training_lowers_the_odometry_loss(method, tmp_path):
    eps = [synthetic_episode(i) for i in range(3)]
    chunks = OdometryChunks(eps, 8)
    cfg = OdometryTrainConfig(
        method=method,
        encoder=tiny_encoder(),
        # Without the prior: the head must learn the whole step (with it, these noise-free
        # episodes are solved before training; see the slip test below).
        odometry=tiny_odometry(kinematic_prior=False),
        steps=25,
        batch_size=2,
        chunk=8,
        lr=3e-3,
        log_every=100,
        out=str(tmp_path),
    )
    fixed = chunks.batch([(0, 20), (1, 12)])
    before = build_model(cfg).loss(fixed)[0].item()
    result = train(cfg, chunks)
    model, loaded = load_checkpoint(tmp_path / "model.pt")
    assert loaded.method == method
    with torch.no_grad():
        after = model.loss(fixed)[0].item()
        assert model(chunks.episode(2)).shape == (1, 23, 3)
    assert result["steps_done"] == 25
    assert after < 0.8 * before


def slipping_episode(seed: int, steps: int = 24) -> OdometryEpisode:
    """``synthetic_episode`` whose left wheel reports 40% too much rotation on some steps."""
    ep = synthetic_episode(seed, steps)
    rng = np.random.default_rng(100 + seed)
    slip = rng.random(steps) < 0.3
    ep.wheel[slip, :, 0] *= 1.4
    return ep


def test_prior_head_starts_as_wheel_gyro_dead_reckoning():
    ep = slipping_episode(0)
    head = OdometryHead(tiny_odometry(use_vision=False)).eval()
    assert head.cfg.uses_prior
    with torch.no_grad():
        out = head(
            imu=torch.from_numpy(ep.imu[None, 1:]), wheel=torch.from_numpy(ep.wheel[None, 1:])
        )
    dr = DeadReckoning(DeadReckoningConfig(use_gyro=True)).run(ep.wheel[1:], ep.imu[1:])
    np.testing.assert_allclose(out[0].numpy(), dr, atol=1e-5)
    # IMU alone: the gyro heading, no translation; vision alone: no prior at all.
    head = OdometryHead(tiny_odometry(use_vision=False, use_wheel=False)).eval()
    with torch.no_grad():
        out = head(imu=torch.from_numpy(ep.imu[None, 1:]))[0].numpy()
    np.testing.assert_allclose(out[:, :2], 0.0)
    np.testing.assert_allclose(out[:, 2], dr[:, 2], atol=1e-5)
    assert not tiny_odometry(use_imu=False, use_wheel=False).uses_prior
    assert not tiny_odometry(kinematic_prior=False).uses_prior


def test_prior_head_learns_to_correct_a_slipping_wheel(tmp_path):
    """The wheel/gyro heading gap reveals the slip; training cuts dead reckoning's error."""
    chunks = OdometryChunks([slipping_episode(i) for i in range(4)], 8)
    cfg = OdometryTrainConfig(
        encoder=tiny_encoder(),
        odometry=tiny_odometry(use_vision=False),
        steps=200,
        batch_size=4,
        chunk=8,
        lr=3e-3,
        log_every=100,
        out=str(tmp_path),
    )
    fixed = chunks.batch([(0, 20), (1, 12), (2, 23), (3, 9)])
    before = build_model(cfg).loss(fixed)[0].item()
    train(cfg, chunks)
    model, _ = load_checkpoint(tmp_path / "model.pt")
    with torch.no_grad():
        after = model.loss(fixed)[0].item()
    assert before > 0.005  # dead reckoning is off on the slipping steps
    assert after < 0.3 * before


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.pt"):
        load_checkpoint(tmp_path / "nope.pt")
