"""RLlib PPO (real, new API stack) trains an iteration on PointNav with 2 env runners on a
local Ray, with continuous and with discrete actions, and its module acts on a real
observation."""

from __future__ import annotations

import tempfile

import pytest
from conftest import write_panorama_rig

ray = pytest.importorskip("ray")
pytest.importorskip("ray.rllib")
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """A 2-CPU Ray whose temp files and results stay in pytest's temp dirs; shut down after."""
    temp = tmp_path_factory.mktemp("ray")
    if len(str(temp)) > 40:  # Ray's socket paths under it must stay below 108 bytes
        temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    results = tmp_path_factory.mktemp("ray_results")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "disabled")
        mp.setenv("RAY_TMPDIR", str(temp))
        # A standalone Algorithm logs under ray.train's DEFAULT_STORAGE_PATH (~/ray_results).
        mp.setattr("ray.tune.trainable.trainable.DEFAULT_STORAGE_PATH", str(results))
        ray.init(num_cpus=2, include_dashboard=False, _temp_dir=str(temp))
        # The learner runs in this process: one torch thread, as Ray gives its workers, so
        # it does not fight the env runners for the 2 cores.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield results
        finally:
            torch.set_num_threads(threads)
            ray.shutdown()


@pytest.mark.ray
@pytest.mark.parametrize("discrete", [False, True], ids=["continuous", "discrete"])
def test_rllib_ppo_trains_one_iteration_on_pointnav(local_ray, tmp_path, discrete):
    from ray.rllib.core.columns import Columns

    from astra_sim.distributed.rllib import env_creator, ppo_config

    rig = write_panorama_rig(tmp_path / "rig.yaml", 32)
    env_config = {"scene": "home", "rig": rig}
    config = ppo_config(
        env_config=env_config,
        num_env_runners=2,
        discrete=discrete,
        train_batch_size=256,
        minibatch_size=64,
        num_epochs=1,
        hidden=32,
    )
    algo = config.build_algo()
    try:
        result = algo.train()
        module = algo.get_module()
    finally:
        algo.stop()
    assert result["env_runners"]["num_env_steps_sampled"] >= 256
    learner = result["learners"]["default_policy"]
    assert all(torch.isfinite(torch.as_tensor(learner[k])) for k in ("policy_loss", "vf_loss"))
    assert any(local_ray.iterdir())  # the results went to the temp dir, not ~/ray_results

    env = env_creator({"env_id": "AstraSim/PointNav-v0", "discrete": discrete, **env_config})
    obs, _ = env.reset(seed=0)
    batch = {k: torch.from_numpy(v[None]) for k, v in obs.items()}
    with torch.no_grad():
        inputs = module.forward_inference({Columns.OBS: batch})[Columns.ACTION_DIST_INPUTS]
        values = module.compute_values({Columns.OBS: batch})
    assert (module.action_dist_cls.__name__ == "TorchCategorical") == discrete
    # Discrete: 4 logits; continuous: (v, w) means and log-stds.
    assert inputs.shape == (1, 4) and torch.isfinite(inputs).all()
    assert values.shape == (1,) and torch.isfinite(values).all()
