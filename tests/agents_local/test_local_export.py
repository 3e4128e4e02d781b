"""``astra-sim export``: tiny, randomly initialised heads as ONNX and TorchScript graphs that
match PyTorch within 1e-4, and step modules that equal the models they wrap."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_local_odom_models import synthetic_episode, tiny_encoder, tiny_odometry

from astra_sim.agents.astra_local.bev_input import BevConfig, DepthLifter
from astra_sim.agents.astra_local.encoder3d import Encoder3D
from astra_sim.agents.astra_local.export import runtime
from astra_sim.agents.astra_local.export.depth_bev import DepthBev
from astra_sim.agents.astra_local.export.exporter import ExportError, export_checkpoint, load_step
from astra_sim.agents.astra_local.export.odometry_step import run_episode
from astra_sim.agents.astra_local.export.planner_step import PlannerStep
from astra_sim.agents.astra_local.odometry_data import OdometryChunks
from astra_sim.agents.astra_local.plan_features import encoder_payload, featurizer_factory
from astra_sim.agents.astra_local.planner import PlannerConfig, build_planner
from astra_sim.agents.astra_local.train_odometry import (
    OdometryTrainConfig,
    build_model,
    save_checkpoint,
)
from astra_sim.cli.main import main
from astra_sim.core.recipe import to_dict
from astra_sim.render.rig import Rig

torch.set_num_threads(1)
BEV = {"size": 16, "cell_size": 0.3, "pixel_stride": 4}


def odometry_checkpoint(tmp_path, method="astra", **modalities):
    cfg = OdometryTrainConfig(
        method=method, encoder=tiny_encoder(), odometry=tiny_odometry(**modalities), seed=3
    )
    model = build_model(cfg)
    # A trained head is not at its zero-initialised residual: perturb every weight.
    with torch.no_grad():
        g = torch.Generator().manual_seed(1)
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return save_checkpoint(model, cfg, tmp_path / f"{method}.pt"), model


def planner_checkpoint(tmp_path, head="flow", features="depth"):
    encoder = None
    bev = dict(BEV, features=features)
    if features != "depth":
        torch.manual_seed(5)
        encoder = Encoder3D(tiny_encoder()).eval()
        bev["encoder_channels"] = encoder.bev_channels
    cfg = PlannerConfig(
        head=head, d_model=32, heads=2, enc_layers=1, dec_layers=1, patch=8, bev=bev, horizon=4
    )
    torch.manual_seed(6)
    planner = build_planner(cfg).eval()
    path = tmp_path / f"{head}_{features}.pt"
    payload = {
        "planner": to_dict(cfg),
        "state_dict": planner.state_dict(),
        "encoder": encoder_payload(encoder),
    }
    torch.save(payload, path)
    return path, planner, encoder


def frames(episode):
    return {
        "rgb": torch.from_numpy(episode.rgb),
        "imu": torch.from_numpy(episode.imu),
        "wheel": torch.from_numpy(episode.wheel),
    }


def test_odometry_step_equals_the_batch_model_on_an_episode(tmp_path):
    path, model = odometry_checkpoint(tmp_path)
    episode = synthetic_episode(0, steps=12)
    with torch.no_grad():
        batch = model.eval()(OdometryChunks([episode], 1).episode(0))[0]
    step, kind, _ = load_step(path, imu_samples=20, wheel_samples=10)
    assert kind == "odometry"
    online = run_episode(step, frames(episode))
    assert batch.abs().max() > 1e-3  # the comparison is not of zeros
    torch.testing.assert_close(online, batch, atol=1e-5, rtol=0)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_odometry_export_matches_pytorch_over_an_episode(tmp_path, fmt):
    path, model = odometry_checkpoint(tmp_path)
    out = tmp_path / f"odometry.{fmt}"
    report = export_checkpoint(path, fmt, out, repeats=3, imu_samples=20, wheel_samples=10)
    assert report.parity_max_abs_error <= 1e-4
    sidecar = json.loads(out.with_name(out.name + ".json").read_text())
    assert sidecar["kind"] == "odometry" and sidecar["latency_ms"]["pytorch"]["median"] > 0
    assert [s["name"] for s in sidecar["inputs"]][:2] == ["rgb", "prev_bev"]
    # The exported file driven over a whole episode, its state fed back as a robot would,
    # gives the batch model's motions.
    step, _, _ = load_step(path, imu_samples=20, wheel_samples=10)
    run = runtime.load(out, fmt, [s.name for s in step.inputs])

    class Exported(torch.nn.Module):
        inputs, outputs = step.inputs, step.outputs

        def forward(self, *args):
            return tuple(torch.from_numpy(np.asarray(o)) for o in run(args))

    episode = synthetic_episode(1, steps=10)
    with torch.no_grad():
        batch = model.eval()(OdometryChunks([episode], 1).episode(0))[0]
    torch.testing.assert_close(run_episode(Exported(), frames(episode)), batch, atol=1e-4, rtol=0)


def test_bev_odom_and_imu_only_heads_export(tmp_path):
    path, _ = odometry_checkpoint(tmp_path, method="bev_odom")
    report = export_checkpoint(path, "torchscript", tmp_path / "bev.pt", repeats=2)
    assert report.detail == "bev_odom" and [s["name"] for s in report.inputs] == ["rgb", "prev_bev"]
    assert report.parity_max_abs_error <= 1e-4
    path, _ = odometry_checkpoint(tmp_path, use_vision=False, use_wheel=False)
    report = export_checkpoint(path, "torchscript", tmp_path / "imu.pt", repeats=2)
    assert [s["name"] for s in report.inputs] == ["imu", "tokens", "mask", "valid"]
    assert report.parity_max_abs_error <= 1e-4


def test_depth_bev_equals_the_numpy_lifter():
    rig = Rig.from_name("default")
    cfg = BevConfig(**BEV)
    g = np.random.default_rng(0)
    depth = g.uniform(0.2, 4.0, (2, *rig.shape)).astype(np.float32)
    depth[g.random(depth.shape) < 0.1] = 0.0
    bands, occupancy = DepthBev(rig, cfg)(torch.from_numpy(depth))
    lifter = DepthLifter(rig, cfg)
    for i in range(2):
        want_bands, want_occ = lifter(depth[i])
        assert want_occ.sum() > 5 and want_bands.max() > 0
        np.testing.assert_array_equal(occupancy[i].numpy(), want_occ)
        np.testing.assert_allclose(bands[i].numpy(), want_bands, atol=1e-6, rtol=0)


@pytest.mark.parametrize("head", ["flow", "act", "diffusion"])
def test_planner_step_equals_the_agents_featurizer_and_sampler(tmp_path, head):
    features = "encoder+depth" if head == "flow" else "depth"
    path, planner, encoder = planner_checkpoint(tmp_path, head, features)
    step, kind, _ = load_step(path)
    assert kind == "planner" and isinstance(step, PlannerStep)
    rig = Rig.from_name("default")
    g = np.random.default_rng(1)
    obs = {
        "rgb": g.integers(0, 256, (*rig.shape, 3), dtype=np.uint8),
        "depth": g.uniform(0.3, 5.0, rig.shape).astype(np.float32),
    }
    bev, occ = featurizer_factory(planner.cfg.bev, encoder)(rig)(obs)  # the agent's path
    velocity, goal = torch.tensor([[0.4, 0.1]]), torch.tensor([[2.0, -0.5]])
    batch = {"bev": torch.from_numpy(bev)[None], "occupancy": torch.from_numpy(occ)[None],
             "velocity": velocity, "goal": goal}  # fmt: skip
    want = planner.sample(batch, torch.Generator().manual_seed(9))
    noise = torch.randn((1, planner.cfg.horizon, 3), generator=torch.Generator().manual_seed(9))
    given = {"rgb": torch.from_numpy(obs["rgb"])[None], "velocity": velocity, "goal": goal,
             "depth": torch.from_numpy(obs["depth"])[None], "noise": noise}  # fmt: skip
    with torch.no_grad():
        steps, occupancy = step(*[given[s.name] for s in step.inputs])
    np.testing.assert_array_equal(occupancy[0].numpy(), occ)
    torch.testing.assert_close(steps, want, atol=1e-5, rtol=0)
    assert want.abs().max() > 1e-3


def test_planner_onnx_export_with_encoder_matches_pytorch(tmp_path, capsys):
    path, _, _ = planner_checkpoint(tmp_path, "flow", "encoder")
    out = tmp_path / "planner.onnx"
    argv = ["export", "--checkpoint", str(path), "--format", "onnx", "--out", str(out)]
    assert main([*argv, "--repeats", "3"]) == 0
    printed = capsys.readouterr().out
    assert "parity vs PyTorch: max |diff|" in printed and "onnxruntime" in printed
    sidecar = json.loads(out.with_name("planner.onnx.json").read_text())
    assert sidecar["parity_max_abs_error"] <= 1e-4
    assert [s["name"] for s in sidecar["inputs"]] == ["rgb", "depth", "velocity", "goal", "noise"]


def test_export_refuses_bad_input_and_leaves_nothing(tmp_path):
    path, _, _ = planner_checkpoint(tmp_path, "act", "depth")
    out = tmp_path / "out" / "act.pt"
    # A tolerance no export meets: the file is checked before it is put in place.
    with pytest.raises(ExportError, match="differs from PyTorch"):
        export_checkpoint(path, "torchscript", out, tolerance=-1.0, repeats=1)
    assert not list((tmp_path / "out").iterdir())
    with pytest.raises(ExportError, match="unknown export format 'tflite'"):
        export_checkpoint(path, "tflite", out)
    junk = tmp_path / "junk.pt"
    torch.save({"weights": torch.zeros(2)}, junk)
    with pytest.raises(ExportError, match=r"neither an odometry model\.pt nor a planner"):
        export_checkpoint(junk, "onnx", out)
    with pytest.raises(FileNotFoundError, match=r"missing\.pt does not exist"):
        export_checkpoint(tmp_path / "missing.pt", "onnx", out)
