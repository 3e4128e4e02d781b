"""SensorsOnly: the agent's view hides ground truth loudly, passes the sensors through
untouched, grants oracles one switch at a time, and leaves the measures to the raw env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import astra_sim  # noqa: F401  (registers the envs)
from astra_sim.envs import ENV_IDS
from astra_sim.envs.sensors_only import (
    ORACLES,
    PRIVILEGED_INFO_KEYS,
    Oracle,
    PrivilegedAccessError,
    SensorInfo,
    SensorsOnly,
)
from astra_sim.scenes.navigation import NavGrid

PUBLIC_INFO = {"episode_id", "scene_kind", "scene_seed"}
FORWARD = np.array([0.3, 0.0])


def make(env_id: str = "AstraSim/PointNav-v0", **kwargs) -> gym.Env:
    return gym.make(env_id, scene="home", scene_seeds=[0], **kwargs)


@pytest.fixture
def raw():
    env = make()
    yield env
    env.close()


def drive(env: gym.Env, steps: int = 3):
    for _ in range(steps):
        out = env.step(FORWARD)
    return out


def test_reexported_from_wrappers():
    from astra_sim.envs import wrappers

    assert wrappers.SensorsOnly is SensorsOnly


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_every_info_key_is_either_privileged_or_public(env_id):
    # A new ground-truth key in the env's info must be classified here, or it leaks.
    env = make(env_id)
    _, info = env.reset(seed=0)
    _, *_, step_info = env.step(env.action_space.sample() * 0)
    env.close()
    for keys in (set(info), set(step_info)):
        assert keys - PRIVILEGED_INFO_KEYS == PUBLIC_INFO
    assert {"pose", "velocity", "collided", "geodesic_distance", "spl", "success"} <= (
        PRIVILEGED_INFO_KEYS
    )


@pytest.mark.parametrize("env_id", ["AstraSim/PointNav-v0", "AstraSim/LanguageNav-v0"])
def test_info_is_stripped_and_obs_untouched(env_id):
    view, twin = SensorsOnly(make(env_id)), make(env_id)
    obs, info = view.reset(seed=5)
    want_obs, want_info = twin.reset(seed=5)
    results = [(obs, info, want_obs, want_info)]
    obs, _, _, _, info = view.step(FORWARD)
    want_obs, _, _, _, want_info = twin.step(FORWARD)
    results.append((obs, info, want_obs, want_info))
    for obs, info, want_obs, want_info in results:
        assert isinstance(info, SensorInfo)
        assert not set(info) & PRIVILEGED_INFO_KEYS
        assert all(key not in info for key in PRIVILEGED_INFO_KEYS)
        assert {k: info[k] for k in PUBLIC_INFO} == {k: want_info[k] for k in PUBLIC_INFO}
        assert obs.keys() == want_obs.keys()
        for key in obs:
            assert np.array_equal(obs[key], want_obs[key]), key
    with pytest.raises(PrivilegedAccessError, match=r"'pose'.*ground truth.*oracles=\{'pose'\}"):
        info["pose"]
    with pytest.raises(PrivilegedAccessError, match="no oracle switch"):
        info.get("geodesic_distance")
    assert info.get("not_a_key", 7) == 7  # ordinary keys keep dict behaviour
    with pytest.raises(KeyError):
        info["not_a_key"]
    view.close()
    twin.close()


def test_sensor_info_alone():
    info = SensorInfo({"pose": np.zeros(3), "spl": 1.0, "episode_id": "e", "control_steps": 4})
    assert dict(info) == {"episode_id": "e", "control_steps": 4}
    assert isinstance(info, dict) and "spl" not in info
    with pytest.raises(PermissionError):  # catchable as a PermissionError too
        info["spl"]


def test_inner_env_is_out_of_reach(raw):
    view = SensorsOnly(raw)
    view.reset(seed=0)
    hidden = [
        lambda: view.unwrapped,
        lambda: view.env,
        lambda: view.get_wrapper_attr("sim"),
        lambda: view.get_wrapper_attr("unwrapped"),
        lambda: view.set_wrapper_attr("sim", None),
        lambda: view.sim,  # attributes of the inner env fail loudly, not as missing
        lambda: view.episode,
        lambda: view.measures,
        lambda: view.np_random,
        lambda: view.spec,
    ]
    for access in hidden:
        with pytest.raises(PrivilegedAccessError, match="hidden from the agent"):
            access()
    assert not view.has_wrapper_attr("sim") and view.has_wrapper_attr("rig")
    assert view.get_wrapper_attr("rig") is view.rig
    with pytest.raises(AttributeError):
        _ = view.no_such_attribute
    assert "SensorsOnly" in str(view)


def cheating_agent(view: SensorsOnly, obs: dict, info: dict) -> np.ndarray:
    """Steers by the true pose: works in simulation, impossible on a robot."""
    yaw = info["pose"][2]
    return np.array([0.2, -0.5 * yaw])


def honest_agent(view: SensorsOnly, obs: dict, info: dict) -> np.ndarray:
    """Steers by depth, using only the robot's own description."""
    depth = np.asarray(obs["depth"], dtype=np.float64)
    assert depth.shape[0] == len(view.rig.mounts)  # one depth image per calibrated camera
    clearance = float(np.nanmin(depth[0])) - view.robot.radius
    building = view.building
    assert building["kind"] == "home" and building["seed"] == 0
    v = float(np.clip(clearance / (10 * view.control_dt), 0.0, view.robot.max_linear))
    return np.array([min(v, 0.3), 0.0 if clearance > 0.5 else 0.8])


def test_agent_sees_only_what_a_robot_has(raw):
    view = SensorsOnly(raw)
    obs, info = view.reset(seed=2)
    with pytest.raises(PrivilegedAccessError, match="pose"):
        cheating_agent(view, obs, info)
    for _ in range(3):
        obs, _, terminated, truncated, info = view.step(honest_agent(view, obs, info))
        assert not (terminated or truncated)
    episode = raw.unwrapped.episode
    assert view.building == {
        "kind": episode.scene_kind,
        "seed": episode.scene_seed,
        "params": episode.scene_params,
    }
    assert view.robot is raw.unwrapped.sim_config.robot
    assert view.control_dt == pytest.approx(1 / raw.unwrapped.sim_config.control_hz)
    view.building["params"]["bedrooms"] = 99  # a copy: the agent cannot edit the env's scene
    assert episode.scene_params.get("bedrooms") != 99
    view.request_stop()
    assert view.step(FORWARD)[2] is True  # an explicit stop ends the episode


def test_oracle_switches(raw):
    methods = ("goal_positions", "start_pose", "pose", "navgrid")
    view = SensorsOnly(raw)
    view.reset(seed=1)
    for name in methods:
        with pytest.raises(PrivilegedAccessError, match="oracles="):
            getattr(view.oracle, name)()
    assert view.oracle.switches == frozenset() and "goal" not in view.oracle

    view = SensorsOnly(raw, oracles={"goal"})
    view.reset(seed=1)
    goals = view.oracle.goal_positions()
    assert np.array_equal(goals, raw.unwrapped.episode.goal.positions) and goals.shape[1] == 2
    goals += 100.0  # a copy: the agent cannot move the goal
    assert not np.array_equal(goals, raw.unwrapped.episode.goal.positions)
    for name in methods[1:]:
        with pytest.raises(PrivilegedAccessError):
            getattr(view.oracle, name)()

    view = SensorsOnly(raw, oracles=ORACLES)
    view.reset(seed=1)
    start = raw.unwrapped.sim.state.pose.copy()
    drive(view)
    now = raw.unwrapped.sim.state.pose
    assert np.array_equal(view.oracle.pose(), now)
    assert np.array_equal(view.oracle.start_pose(), start)
    assert not np.allclose(now[:2], start[:2])  # the robot moved: start is not just "now"
    assert isinstance(view.oracle.navgrid(), NavGrid)
    assert "planner" in view.oracle

    with pytest.raises(ValueError, match="gps") as err:
        Oracle(raw, {"goal", "gps"})
    assert all(name in str(err.value) for name in ORACLES)


def test_measures_still_come_from_ground_truth(raw):
    class Recorder(gym.Wrapper):
        """The evaluation's side: keeps the raw info the agent never sees."""

        def step(self, action):
            out = super().step(action)
            self.info = out[-1]
            return out

    recorder = Recorder(raw)
    view = SensorsOnly(recorder)
    view.reset(seed=4)
    lengths = []
    for _ in range(4):
        *_, info = view.step(FORWARD)
        assert "path_length" not in info
        lengths.append(recorder.info["path_length"])
    assert lengths[-1] > lengths[0] > 0
    assert raw.unwrapped.measures.get_all()["path_length"] == lengths[-1]


def test_render_and_close():
    raw = make(render_mode="rgb_array")
    view = SensorsOnly(raw)
    view.reset(seed=0)
    assert view.render_mode == "rgb_array"
    frame = view.render()
    assert frame.ndim == 3 and frame.shape[2] == 3
    view.close()
    assert not raw.unwrapped._sims  # closing the view closed the simulators
