"""An RLlib checkpoint (``algo.save()`` of the project's PPO config) drives evaluation
episodes: the module is restored from the checkpoint folder and acts in the SB3 view."""

from __future__ import annotations

import pytest
from distributed_helpers import local_ray, rig_recipe

ray = pytest.importorskip("ray")
pytest.importorskip("ray.rllib")
torch = pytest.importorskip("torch")

from astra_sim.core.recipe import from_dict  # noqa: E402
from astra_sim.distributed.config import EvalConfig  # noqa: E402
from astra_sim.distributed.evaluate import evaluate_nav  # noqa: E402


@pytest.mark.ray
@pytest.mark.parametrize(
    "discrete", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["continuous", "discrete"]
)
def test_rllib_checkpoint_is_evaluated(tmp_path_factory, tmp_path, monkeypatch, discrete):
    from astra_sim.distributed.rllib import ppo_config

    monkeypatch.setattr(
        "ray.tune.trainable.trainable.DEFAULT_STORAGE_PATH", str(tmp_path / "results")
    )
    torch.set_num_threads(1)
    rig = rig_recipe(tmp_path, 16)
    env = {"scenes": ["home"], "scene_seeds": [0], "max_steps": 20, "max_geodesic": 3.0,
           "episodes": 2, "seed": 4, "rig": rig}  # fmt: skip
    with local_ray(tmp_path_factory):
        config = ppo_config(env_config={"scene": "home", "rig": rig}, num_env_runners=0,
                            discrete=discrete, hidden=16)  # fmt: skip
        algo = config.build_algo()
        try:
            checkpoint = algo.save(str(tmp_path / "ckpt")).checkpoint.path
        finally:
            algo.stop()
        eval_config = {"out": str(tmp_path / "report"), "env": env, "plots": False,
                       "ray": {"workers": 1},
                       "agent": {"name": "rllib", "checkpoint": checkpoint,
                                 "discrete": discrete}}  # fmt: skip
        summary = evaluate_nav(from_dict(EvalConfig, eval_config))
    assert summary["home"]["episodes"] == 2
