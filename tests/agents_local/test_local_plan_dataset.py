"""Planner samples read from a collected dataset (``plan_dataset``): the contract of
``build_samples``, goals and ESDF crops of the rebuilt scene, plans that integrate to the
recorded poses, push steps never in a planned horizon, and velocities that agree with the
env's own ``info["velocity"]``."""

from __future__ import annotations

import json
import shutil

import gymnasium as gym
import numpy as np
import pytest
from conftest import write_panorama_rig

pytest.importorskip("pyarrow")
torch = pytest.importorskip("torch")

import astra_sim.envs  # noqa: E402, F401
from astra_sim.agents.astra_local.bev_input import BevConfig, DepthLifter, local_esdf  # noqa: E402
from astra_sim.agents.astra_local.esdf_loss import integrate_steps  # noqa: E402
from astra_sim.agents.astra_local.plan_data import future_steps, local_goal  # noqa: E402
from astra_sim.agents.astra_local.plan_dataset import dataset_samples, pose_velocity  # noqa: E402
from astra_sim.agents.baselines.dead_reckoning import relative  # noqa: E402
from astra_sim.core.recipe import from_dict  # noqa: E402
from astra_sim.data import EpisodeDataset  # noqa: E402
from astra_sim.distributed.agents import make_agent  # noqa: E402
from astra_sim.distributed.collect import collect  # noqa: E402
from astra_sim.distributed.config import CollectConfig  # noqa: E402
from astra_sim.distributed.worker import agent_rng, episode_jobs  # noqa: E402
from astra_sim.eval.rollout import run_agent_episode  # noqa: E402

BEV = BevConfig(size=16, cell_size=0.3, pixel_stride=2)
HORIZON, STEP_DT, FPS = 6, 0.2, 10
STRIDE = round(STEP_DT * FPS)  # control steps per planned step
WINDOW = HORIZON * STRIDE
# The causal estimate (the step into t, extrapolated half a step) is within half of one
# step's acceleration limit (1 m/s^2, 3 rad/s^2 over 0.1 s) of the body's velocity.
VEL_TOL = np.array([0.055, 0.16])


def make_dataset(tmp, name, features, episodes, max_steps, **agent) -> CollectConfig:
    rig = write_panorama_rig(tmp / "rig.yaml", 16)
    env = {"scenes": ["home"], "scene_seeds": [0], "rig": rig, "max_steps": max_steps,
           "max_geodesic": 4.0, "episodes": episodes, "seed": 3}  # fmt: skip
    config = from_dict(
        CollectConfig,
        {"out": str(tmp / name), "env": env, "ray": {"workers": 0}, "features": features,
         "agent": {"name": "expert", **agent}},
    )  # fmt: skip
    collect(config)
    return config


def make_env(config: CollectConfig) -> gym.Env:
    return gym.make("AstraSim/PointNav-v0", scene="home", scene_seeds=[0], rig=config.env.rig,
                    max_geodesic=4.0, max_episode_steps=config.env.max_steps,
                    sim={"render_threads": 1})  # fmt: skip


def true_pushes(config: CollectConfig, index: int, rows: int, space) -> np.ndarray:
    """The push rows of episode ``index``, replayed from the agent's own generator."""
    cfg, rng = config.agent, agent_rng(config.env.seed, index)
    pushed, left = np.zeros(rows, bool), 0
    for t in range(rows):
        if left == 0 and rng.random() < cfg.recovery_prob:
            left = cfg.recovery_steps
        if left > 0:
            left, pushed[t] = left - 1, True
            rng.uniform(space.low, space.high)
        else:
            rng.normal(0.0, cfg.action_noise)
    return pushed


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("plan_dataset")
    config = make_dataset(tmp, "depth", ["depth"], 3, 40, action_noise=[0.01, 0.02],
                          recovery_prob=0.1, recovery_steps=3)  # fmt: skip
    return config, EpisodeDataset(config.out), dataset_samples(config.out, BEV, HORIZON, STEP_DT)


@pytest.fixture(scope="module")
def kept(data):
    """Per episode: its rows, the true push rows and the rows whose sample is kept."""
    config, ds, _ = data
    space = make_env(config).action_space
    out = {}
    for i in range(len(ds)):
        ep = ds.read_episode(i)
        pushed = true_pushes(config, i, len(ep["action"]), space)
        ts = [t for t in range(len(pushed)) if not pushed[t : t + WINDOW].any()]
        out[i] = (ep, pushed, ts)
    return out


def test_samples_follow_the_build_samples_contract(data, kept):
    s = data[2]
    n, c = len(s["steps"]), BEV.channels
    shapes = {"bev": (n, c, 16, 16), "occupancy": (n, 16, 16), "velocity": (n, 2), "goal": (n, 2),
              "steps": (n, HORIZON, 3), "esdf": (n, 16, 16), "episode": (n,)}  # fmt: skip
    dtypes = {"bev": np.float16, "occupancy": np.uint8, "velocity": np.float32, "goal": np.float32,
              "steps": np.float32, "esdf": np.float16, "episode": np.int32}  # fmt: skip
    assert set(s) == set(shapes)
    for key in shapes:
        assert s[key].shape == shapes[key] and s[key].dtype == dtypes[key], key
    ep, _, ts = kept[0]
    lifter = DepthLifter(make_env(data[0]).unwrapped.sim.rig, BEV)
    b, o = lifter(ep["observation.depth"][ts[0]])
    np.testing.assert_array_equal(s["bev"][0], b.astype(np.float16))
    np.testing.assert_array_equal(s["occupancy"][0], o.astype(np.uint8))
    assert s["bev"].any() and s["occupancy"].any()


def test_pushes_never_fall_in_a_planned_horizon(data, kept):
    config, _, s = data
    assert sum(p.sum() for _, p, _ in kept.values()) > 0  # the recipe did push
    for i, (ep, pushed, ts) in kept.items():
        sel = s["episode"] == i
        assert sel.sum() == len(ts) < len(pushed) or not pushed.any()
        poses = ep["info.pose"].astype(np.float64)
        expect = [future_steps(poses, t, HORIZON, STRIDE) for t in ts]
        np.testing.assert_allclose(s["steps"][sel], expect, atol=1e-6)  # exactly rows ts
    loose = dataset_samples(config.out, BEV, HORIZON, STEP_DT, push_threshold=1e9)
    assert len(loose["steps"]) == sum(len(ep["action"]) for ep, _, _ in kept.values())
    assert len(loose["steps"]) > len(s["steps"])


def test_goal_esdf_and_steps_match_the_rebuilt_episode(data, kept):
    config, _, s = data
    assert any(ts[0] == 0 for _, _, ts in kept.values())
    env = make_env(config)
    jobs = episode_jobs(config.env)
    for i, (ep, _, ts) in kept.items():
        _, info = env.reset(seed=jobs[i].seed)
        grid = env.unwrapped.sim.scene.navgrid()
        goal = env.unwrapped.episode.goal.positions[0]
        poses = ep["info.pose"].astype(np.float64)
        np.testing.assert_allclose(poses[0], info["pose"], atol=1e-3)
        first = int(np.flatnonzero(s["episode"] == i)[0])
        pose = info["pose"] if ts[0] == 0 else poses[ts[0]]  # the fresh reset's, at t = 0
        g = local_goal(grid, pose, goal, 2.5)
        assert np.linalg.norm(g) > 0.5
        np.testing.assert_allclose(s["goal"][first], g, atol=2e-3)
        e = local_esdf(grid, poses[ts[0]], BEV)
        np.testing.assert_allclose(s["esdf"][first], e, rtol=2e-3, atol=2e-3)
        planned = integrate_steps(torch.from_numpy(s["steps"][first])).numpy()
        future = np.minimum(ts[0] + STRIDE * np.arange(1, HORIZON + 1), len(poses) - 1)
        recorded = relative(poses[ts[0]], poses[future])
        np.testing.assert_allclose(planned[:, :2], recorded[:, :2], atol=1e-4)
        dyaw = np.angle(np.exp(1j * (planned[:, 2] - recorded[:, 2])))
        np.testing.assert_allclose(dyaw, 0.0, atol=1e-4)
    env.close()


def test_velocity_agrees_with_the_envs_own(data, kept):
    """Replaying each episode live gives info["velocity"] at every row: the derived one
    agrees within VEL_TOL (exactly 0 at the reset), and it never reads a pose after t."""
    config, _, s = data
    env, agent = make_env(config), make_agent(config.agent)
    errors = []
    for i, (ep, _, ts) in kept.items():
        live: list[tuple[np.ndarray, np.ndarray]] = []

        def on_step(t, obs, action, info, *_, live=live):
            live.append((info["pose"], info["velocity"]))

        run_agent_episode(env, agent, episode_jobs(config.env)[i].seed,
                          agent_rng(config.env.seed, i), None, on_step)  # fmt: skip
        poses, truth = (np.asarray(x) for x in zip(*live, strict=True))
        np.testing.assert_allclose(poses, ep["info.pose"], atol=1e-5)  # the same episode
        derived, true = s["velocity"][s["episode"] == i], truth[ts]
        assert (np.abs(derived - true) <= VEL_TOL).all(), np.abs(derived - true).max(0)
        cut = pose_velocity(ep["info.pose"][: ts[-1] + 1], FPS)[ts]  # nothing after t
        np.testing.assert_array_equal(derived, cut)
        if ts[0] == 0:
            assert not derived[0].any()
        errors.append(np.abs(derived - true))
    assert (np.concatenate(errors).mean(0) < VEL_TOL / 2).all(), np.concatenate(errors).mean(0)
    env.close()


def test_custom_featurizer_reads_rgb_and_fills_bev(tmp_path):
    config = make_dataset(tmp_path, "rgbd", ["rgb", "depth"], 2, 12)
    made, seen = [], []

    def featurize(rig):
        made.append(rig)

        def f(obs):
            seen.append(sorted(obs))
            value = obs["rgb"].mean() / 255.0
            return np.full((BEV.channels, 16, 16), value, np.float32), np.ones((16, 16))

        return f

    s = dataset_samples(config.out, BEV, HORIZON, STEP_DT, featurize=featurize, episodes=1)
    ep = EpisodeDataset(config.out).read_episode(0)
    assert len(made) == 1 and seen[0] == ["depth", "rgb"]
    assert set(s["episode"].tolist()) == {0} and len(s["steps"]) == len(ep["action"])
    means = ep["observation.rgb"].reshape(len(ep["action"]), -1).mean(1) / 255.0
    np.testing.assert_allclose(s["bev"][:, 0, 0, 0], means, atol=1e-3)
    assert s["occupancy"].all()

    moved = tmp_path / "moved"  # a recipe that no longer resets to the recorded start
    shutil.copytree(config.out, moved)
    info_path = moved / "meta" / "info.json"
    info = json.loads(info_path.read_text())
    info["recipe"]["env"]["seed"] += 1
    info_path.write_text(json.dumps(info))
    with pytest.raises(ValueError, match="another simulator"):
        dataset_samples(moved, BEV, HORIZON, STEP_DT, episodes=1)


def test_a_dataset_without_depth_is_refused(tmp_path):
    config = make_dataset(tmp_path, "rgb", ["rgb"], 1, 2)
    with pytest.raises(ValueError, match=r"observation\.depth.*features=\[rgb, depth\]"):
        dataset_samples(config.out, BEV, HORIZON, STEP_DT)
