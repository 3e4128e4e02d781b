"""Odometry online, one step at a time, equals the trained models on the whole episode.

The batch path (``OdometryChunks.episode`` into the model, as ``model_predictor`` scores
it) is what training and the odometry table use; the online stream must give the same
steps from the same observations, or its buffer, padding or frame alignment is off.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import astra_sim  # noqa: F401  (registers the envs)
from astra_sim.agents.astra.odometry_stream import OdometryStream
from astra_sim.agents.astra_local.odometry_data import OdometryChunks, OdometryEpisode, downsample
from astra_sim.agents.baselines.dead_reckoning import integrate
from astra_sim.core.shipped import shipped_checkpoints

STEPS = 40
SHIPPED = shipped_checkpoints() / "odometry"
BEST = SHIPPED / "vision_imu_wheel" / "model.pt"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread, as the agent runs it: two threads on shared cores only contend."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def episode() -> tuple[list[dict], np.ndarray]:
    """A short real episode: the observations of reset and of every step, and true poses."""
    env = gym.make("AstraSim/PointNav-v0", scene="home", scene_seeds=[0])
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    frames, poses = [obs], [np.array(info["pose"], dtype=np.float64)]
    for _ in range(STEPS):
        action = np.array([rng.uniform(0.2, 0.6), rng.uniform(-0.8, 0.8)], np.float32)
        obs, _, terminated, truncated, info = env.step(action)
        frames.append(obs)
        poses.append(np.array(info["pose"], dtype=np.float64))
        assert not (terminated or truncated)
    env.close()
    return frames, np.stack(poses)


@pytest.fixture(scope="module")
def best(episode) -> tuple[OdometryStream, np.ndarray]:
    """The best shipped model's stream, after one fresh pass over the episode, and its steps."""
    stream = OdometryStream(BEST)
    return stream, _stream(stream, episode[0])


def _stream(stream: OdometryStream, frames: list[dict]) -> np.ndarray:
    stream.reset(frames[0])
    return np.stack([stream.step(f) for f in frames[1:]])


def _batch(model: torch.nn.Module, frames: list[dict], poses: np.ndarray, size: int) -> np.ndarray:
    """The whole episode as one chunk, as ``model_predictor`` runs it."""
    ep = OdometryEpisode(
        rgb=downsample(np.stack([f["rgb"] for f in frames]), size),
        imu=np.stack([f["imu"] for f in frames]).astype(np.float32),
        wheel=np.stack([f["wheel"] for f in frames]).astype(np.float32),
        pose=poses,
    )
    with torch.no_grad():
        return model.eval()(OdometryChunks([ep], 1).episode(0))[0].double().numpy()


@pytest.mark.parametrize("name", ["vision_imu_wheel", "vision_imu", "vision", "bev_odom"])
def test_online_steps_equal_the_batch_model_on_the_episode(episode, best, name):
    frames, poses = episode
    if name == "vision_imu_wheel":
        stream, online = best
    else:
        stream = OdometryStream(SHIPPED / name / "model.pt")
        online = _stream(stream, frames)
    batch = _batch(stream.model, frames, poses, stream.image_size)
    gap = np.abs(online - batch).max()
    assert stream.name == name
    assert online.shape == batch.shape == (STEPS, 3) and online.dtype == np.float64
    assert gap < 1e-4
    ms = 1000 * stream.seconds / STEPS
    print(f"\n{name}: max |online - batch| {gap:.1e}, {ms:.1f} ms per step")


@pytest.mark.parametrize("which", ["vision_imu_wheel", "wheel_gyro"])
def test_integrated_steps_track_the_true_poses(episode, best, which):
    frames, poses = episode
    if which == "wheel_gyro":
        stream = OdometryStream(None)
        steps = _stream(stream, frames)
        assert stream.name == "wheel_gyro" and stream.model is None
    else:
        stream, steps = best
    est = integrate(poses[0], steps)
    assert np.linalg.norm(est[-1, :2] - poses[-1, :2]) < 0.1
    assert stream.seconds > 0


def test_reset_clears_the_history(episode, best):
    frames, _ = episode
    stream, fresh = best
    _stream(stream, frames[STEPS // 2 :])  # another episode, from a later frame
    assert np.abs(_stream(stream, frames) - fresh).max() < 1e-9


def test_step_before_reset_is_an_error(episode):
    with pytest.raises(RuntimeError, match="reset"):
        OdometryStream(None).step(episode[0][1])


def test_a_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.pt"):
        OdometryStream(tmp_path / "nothing.pt")
