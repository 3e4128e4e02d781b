"""Vector envs over our ids: the batched one ``make_vec`` builds, and gymnasium's own."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import astra_sim  # noqa: F401  (registers the ids)
from astra_sim.envs.vector import BatchedVectorEnv
from astra_sim.render.gl_context import gl_unavailable_reason

GL_REASON = gl_unavailable_reason()
needs_gl = pytest.mark.skipif(GL_REASON is not None, reason=str(GL_REASON))
ID = "AstraSim/PointNav-v0"


def _rollout(env: gym.vector.VectorEnv, steps: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=3)
    out = [obs]
    for _ in range(steps):
        action = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
        obs, *_ = env.step(action)
        out.append(obs)
    env.close()
    return out


def _pair(renderer: str, n: int = 2, steps: int = 5):
    # A 3-step limit makes the autoreset path part of the comparison.
    kw = dict(sim={"renderer": renderer}, max_episode_steps=3)
    batched = gym.make_vec(ID, num_envs=n, **kw)
    assert isinstance(batched, BatchedVectorEnv)
    sync = gym.make_vec(ID, num_envs=n, vectorization_mode="sync", **kw)
    return _rollout(batched, steps), _rollout(sync, steps)


def test_batched_rendering_changes_no_bit_of_the_observations():
    batched, sync = _pair("embree")
    for a, b in zip(batched, sync, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert np.array_equal(a[key], b[key]), key
    assert batched[-1]["rgb"].shape == (2, 4, 128, 128, 3) and batched[-1]["rgb"].any()


@needs_gl
def test_batched_gl_rendering_matches_one_env_at_a_time():
    batched, sync = _pair("gl")
    for a, b in zip(batched, sync, strict=True):
        for key in ("imu", "wheel", "goal"):
            assert np.array_equal(a[key], b[key]), key
        # Only where a view sits in the shared framebuffer differs (edge and tie pixels).
        assert (a["semantic"] == b["semantic"]).mean() > 0.999
        assert (np.abs(a["depth"] - b["depth"]) < 0.01).mean() > 0.999


@needs_gl
def test_async_vector_env_workers_render_with_gl():
    # spawn: this test process may already hold a GL context, which fork cannot carry over.
    env = gym.make_vec(
        ID, num_envs=2, vectorization_mode="async", vector_kwargs={"context": "spawn"},
        sim={"renderer": "gl"},
    )  # fmt: skip
    obs = _rollout(env, 2)[-1]
    assert obs["depth"].shape == (2, 4, 128, 128) and (obs["depth"] > 0).mean() > 0.9


@needs_gl
def test_a_child_forked_after_a_gl_context_is_told_to_spawn():
    import os

    from astra_sim.render.gl_context import shared_context

    shared_context()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        try:
            shared_context()
        except RuntimeError as exc:
            os._exit(0 if "'spawn'" in str(exc) else 2)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_num_envs_must_be_positive():
    from astra_sim.envs.vector import make_batched

    with pytest.raises(ValueError, match="num_envs must be a positive integer"):
        make_batched(ID, 0)
