"""Planner inputs from the learned 3D encoder: resampling, training, checkpoint, driving."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from test_local_odom_models import tiny_encoder

import astra_sim.envs  # noqa: F401
from astra_sim.agents.astra_local.bev_input import BevConfig, DepthLifter
from astra_sim.agents.astra_local.encoder3d import Encoder3D
from astra_sim.agents.astra_local.plan_data import PlanDataConfig, load_samples
from astra_sim.agents.astra_local.plan_features import EncoderFeaturizer, load_bev_encoder
from astra_sim.agents.astra_local.train_encoder import EncoderTrainConfig
from astra_sim.agents.astra_local.train_planner import (
    TrainPlannerConfig,
    load_planner_and_encoder,
    train,
)
from astra_sim.core.recipe import to_dict
from astra_sim.distributed.agents import make_agent
from astra_sim.distributed.config import AgentConfig
from astra_sim.eval.rollout import run_agent_episode
from astra_sim.render.rig import Rig

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
BEV = {"size": 16, "cell_size": 0.2, "pixel_stride": 4}


class CoordinateEncoder(Encoder3D):
    """Voxels whose channel 0 is each voxel's x and channel 1 its y (metres)."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        g = self.cfg.grid
        c = -g.extent + (torch.arange(g.xy_cells) + 0.5) * g.cell
        vox = torch.zeros(len(images), self.cfg.feat_dim, *g.shape)
        vox[:, 0] = c[:, None]
        vox[:, 1] = c[None, :]
        return vox


@pytest.fixture(scope="module")
def encoder_file(tmp_path_factory):
    """An untrained tiny encoder saved as the encoder trainer saves stage 3d."""
    path = tmp_path_factory.mktemp("encoder") / "encoder3d.pt"
    torch.manual_seed(0)
    cfg = EncoderTrainConfig(encoder=tiny_encoder())
    torch.save({"config": to_dict(cfg), "encoder": Encoder3D(cfg.encoder).state_dict()}, path)
    return path


def test_encoder_voxels_land_on_the_planner_grid():
    """Planner cell (i, j) reads the encoder's voxels at that cell's (x, y): the resampling
    neither flips nor swaps the axes (x forward, y left in both grids)."""
    rig = Rig.from_name("default")
    bev = BevConfig(**BEV, features="encoder", encoder_channels=16)
    featurize = EncoderFeaturizer(rig, bev, CoordinateEncoder(tiny_encoder(), rig))
    feats = featurize.features(np.zeros((1, 4, 128, 128, 3), np.uint8))[0]
    assert feats.shape == (16, 16, 16)  # (feat_dim 8 x z_cells 2, X, Y)
    centres = bev.cell_centres()
    z = tiny_encoder().grid.z_cells
    np.testing.assert_allclose(feats[0], np.arcsinh(centres[..., 0]), atol=1e-5)
    np.testing.assert_allclose(feats[z], np.arcsinh(centres[..., 1]), atol=1e-5)
    assert centres[-1, 0, 0] > 0 and feats[0][-1, 0] > 0  # the last row is ahead


def test_occupancy_comes_from_depth_and_rgb_is_required():
    rig = Rig.from_name("default")
    bev = BevConfig(**BEV, features="encoder", encoder_channels=16)
    featurize = EncoderFeaturizer(rig, bev, Encoder3D(tiny_encoder(), rig))
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.3, 3.0, (4, 128, 128)).astype(np.float32)
    rgb = rng.integers(0, 256, (4, 128, 128, 3), dtype=np.uint8)
    feats, occ = featurize({"rgb": rgb, "depth": depth})
    np.testing.assert_array_equal(occ, DepthLifter(rig, bev)(depth)[1])
    assert feats.shape == (16, 16, 16) and np.isfinite(feats).all()
    with pytest.raises(ValueError, match="RGB"):
        featurize({"depth": depth})
    both = BevConfig(**BEV, features="encoder+depth", encoder_channels=16)
    stacked, _ = EncoderFeaturizer(rig, both, featurize.encoder)({"rgb": rgb, "depth": depth})
    assert both.channels == 20 and stacked.shape == (20, 16, 16)
    np.testing.assert_array_equal(stacked[:16], feats)
    np.testing.assert_array_equal(stacked[16:], DepthLifter(rig, bev)(depth)[0])


def test_bad_feature_settings_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match=r"bev\.features"):
        BevConfig(features="lidar")
    with pytest.raises(ValueError, match="load the encoder"):
        _ = BevConfig(features="encoder").channels
    with pytest.raises(FileNotFoundError, match=r"bev\.encoder"):
        load_bev_encoder(BevConfig(features="encoder", encoder=str(tmp_path / "none.pt")))


@pytest.fixture(scope="module")
def encoder_planner(encoder_file, tmp_path_factory):
    root = tmp_path_factory.mktemp("planner")
    cfg = TrainPlannerConfig(
        planner={"head": "flow", "d_model": 32, "heads": 2, "enc_layers": 1, "dec_layers": 1,
                 "patch": 8, "bev": {**BEV, "features": "encoder", "encoder": str(encoder_file)}},
        data=PlanDataConfig(scenes=["home"], scene_seeds=[0], episodes=1, max_steps=10),
        data_path=str(root / "samples.npz"), out=str(root / "flow.pt"),
        steps=2, batch_size=4, val_fraction=0.0, log_every=0,
    )  # fmt: skip
    return cfg, train(cfg)


def test_planner_trains_on_encoder_features_and_carries_the_encoder(encoder_planner, encoder_file):
    cfg, summary = encoder_planner
    samples = load_samples(cfg.data_path)
    assert samples["bev"].shape[1:] == (16, 16, 16) and summary["train_samples"] > 0
    assert str(samples["features"]).startswith("encoder:")
    model, encoder = load_planner_and_encoder(cfg.out)
    assert model.cfg.bev.features == "encoder" and model.cfg.bev.channels == 16
    saved = torch.load(encoder_file, weights_only=True)["encoder"]
    for key, value in encoder.state_dict().items():
        torch.testing.assert_close(value, saved[key])


def test_a_cache_of_other_features_is_refused(encoder_planner):
    cfg, _ = encoder_planner
    depth_cfg = TrainPlannerConfig(
        **{**cfg.__dict__, "planner": {**to_dict(cfg.planner), "bev": BEV}, "steps": 1}
    )
    with pytest.raises(ValueError, match="holds samples of"):
        train(depth_cfg)


def test_encoder_planner_drives_closed_loop(encoder_planner):
    cfg, _ = encoder_planner
    name = "astra_sim.agents.astra_local.planner_agent:PlannerAgent"
    agent = make_agent(AgentConfig(name=name, checkpoint=cfg.out))
    env = gym.make("AstraSim/PointNav-v0", scene="home", scene_seeds=[8], max_episode_steps=5)
    record = run_agent_episode(env, agent, seed=0, rng=np.random.default_rng(0))
    env.close()
    assert record.steps >= 1 and agent.plans >= 1 and np.isfinite(record.trajectory).all()


def test_collect_train_encoder_train_planner_drive_from_the_cli(tmp_path):
    """The user's chain: collect RGB + depth, train the encoder on it, train a planner on
    the same dataset with the encoder's features, drive it with ``eval nav``."""
    import json

    import yaml

    from astra_sim.cli.main import main

    data, enc_out = tmp_path / "data", tmp_path / "enc"
    collect_recipe = str(ROOT / "train/collect_planner.yaml")
    assert main(["collect", "--recipe", collect_recipe, "--out", str(data), "env.episodes=2",
                 "env.max_steps=12", "ray.workers=0", "env.scenes=[home]",
                 "env.max_geodesic=4.0"]) == 0  # fmt: skip
    tiny = to_dict(EncoderTrainConfig(encoder=tiny_encoder()))["encoder"]
    enc_recipe = tmp_path / "encoder.yaml"
    recipe = {"stage": "3d", "data": str(data), "out": str(enc_out), "encoder": tiny, "steps": 2}
    enc_recipe.write_text(yaml.safe_dump({**recipe, "batch_size": 2}))
    assert main(["train", "local", "--recipe", str(enc_recipe)]) == 0
    planner_out = tmp_path / "flow.pt"
    assert main(["train", "local", "--recipe", str(ROOT / "agents/astra_local_planner_small.yaml"),
                 f"data.dataset={data}", f"data_path={tmp_path / 'samples.npz'}",
                 "planner.bev.features=encoder", f"planner.bev.encoder={enc_out / 'encoder3d.pt'}",
                 f"out={planner_out}", "steps=2", "batch_size=4", "planner.d_model=32",
                 "planner.enc_layers=1", "planner.dec_layers=1"]) == 0  # fmt: skip
    summary = json.loads(planner_out.with_suffix(".json").read_text())
    assert summary["config"]["data"]["dataset"] == str(data) and summary["train_samples"] > 0
    report = tmp_path / "eval"
    eval_recipe = str(ROOT / "train/eval_pointnav.yaml")
    assert main(["eval", "nav", "--recipe", eval_recipe, "--agent", "planner", "--checkpoint",
                 str(planner_out), "--out", str(report), "env.episodes=1", "env.max_steps=4",
                 "ray.workers=0", "env.scenes=[home]", "plots=false"]) == 0  # fmt: skip
    assert (report / "summary.json").is_file()


def test_the_shipped_encoder_is_found_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bev = BevConfig(features="encoder", encoder="agents/checkpoints/encoder/encoder3d.pt")
    encoder = load_bev_encoder(bev)
    assert bev.channels == encoder.bev_channels == 64
    feats, occ = EncoderFeaturizer(Rig.from_name("default"), bev, encoder)(
        {"rgb": np.zeros((4, 128, 128, 3), np.uint8), "depth": np.zeros((4, 128, 128))}
    )
    assert feats.shape == (64, 32, 32) and occ.shape == (32, 32)


def test_a_missing_dataset_names_the_collect_command(tmp_path):
    cfg = TrainPlannerConfig(
        data=PlanDataConfig(dataset=str(tmp_path / "none")), data_path=str(tmp_path / "s.npz")
    )
    with pytest.raises(FileNotFoundError, match=r"collect_planner\.yaml"):
        train(cfg)


@pytest.mark.parametrize("name", ["flow_esdf_encoder", "flow_esdf_encoder_depth"])
def test_shipped_encoder_planners_carry_the_shipped_encoder_and_plan(name):
    ckpt = ROOT / "agents" / "checkpoints"
    model, encoder = load_planner_and_encoder(ckpt / "planner" / f"{name}.pt")
    shipped = torch.load(ckpt / "encoder" / "encoder3d.pt", weights_only=True)["encoder"]
    for key, value in encoder.state_dict().items():
        torch.testing.assert_close(value, shipped[key])
    assert model.cfg.bev.features == ("encoder" if name.endswith("encoder") else "encoder+depth")
    env = gym.make("AstraSim/PointNav-v0", scene="office", scene_seeds=[9], max_episode_steps=3)
    agent = make_agent(AgentConfig(name="planner", checkpoint=str(ckpt / "planner" / f"{name}.pt")))
    record = run_agent_episode(env, agent, seed=0, rng=np.random.default_rng(0))
    env.close()
    assert agent.plans >= 1 and np.isfinite(record.trajectory).all()
