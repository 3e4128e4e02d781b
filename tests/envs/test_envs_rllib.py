"""RLlib PPO runs a training iteration with 2 env runners on PointNav (local Ray)."""

from __future__ import annotations

import shutil
import tempfile

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.rllib")


@pytest.fixture
def local_ray(tmp_path, monkeypatch):
    # Ray's socket paths must stay under 108 bytes: a short temp dir, not pytest's.
    short = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("RAY_TMPDIR", short)
    monkeypatch.setenv("RAY_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("TUNE_RESULT_DIR", str(tmp_path / "results"))
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=short, log_to_driver=False)
    yield
    ray.shutdown()
    shutil.rmtree(short, ignore_errors=True)


@pytest.mark.ray
def test_rllib_ppo_trains_one_iteration_on_pointnav(local_ray, tmp_path):
    from astra_sim.distributed.rllib import ppo_config

    rig = tmp_path / "rig.yaml"
    rig.write_text(
        "cameras:\n"
        + "\n".join(
            f"  - {{name: c{i}, model: pinhole, width: 32, height: 32, hfov_deg: 90, "
            f"xyz: [0, 0, 0.5], yaw_deg: {90 * i}}}"
            for i in range(4)
        )
        + "\n"
    )
    config = ppo_config(
        env_config={"scene": "home", "rig": str(rig)},
        num_env_runners=2,
        train_batch_size=256,
        minibatch_size=64,
        num_epochs=1,
        hidden=32,
    )
    algo = config.build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    runners = result["env_runners"]
    assert runners["num_env_steps_sampled"] >= 256
    learner = result["learners"]["default_policy"]
    assert "total_loss" in learner or "policy_loss" in learner
