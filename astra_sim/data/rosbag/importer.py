"""``astra-sim data import-rosbag``: ROS bags -> an episode dataset, one episode per bag.

The dataset is the one ``astra-sim collect`` writes (``astra_sim.data``): a Parquet shard
per episode with ``observation.rgb`` (C, H, W, 3), ``observation.depth``,
``observation.imu`` (K, 6), ``observation.wheel`` (M, 2), ``info.pose`` (x, y, yaw) and
``action`` per control period, and ``meta/info.json`` with the rig (camera names, topics,
sizes, CameraInfo intrinsics), the rates (control, resampled IMU, wheel samples per step,
and every topic's measured rate) and the robot geometry. So every consumer of collected
data (``eval odometry``, the trainers) reads a real log unchanged.

Nothing of the dataset exists until the import has succeeded: the bags are read and
checked first, the dataset is written into a temporary folder beside ``out``, and that
folder is renamed to ``out`` at the end (removed on any failure).

Usage::

    from astra_sim.data.rosbag.importer import import_rosbag
    from astra_sim.data.rosbag.topics import load_topics

    info = import_rosbag(["run1.bag"], load_topics("topics.yaml"), "outputs/data/real")
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim import __version__
from astra_sim.core.recipe import to_dict
from astra_sim.data.episode import EpisodeBuffer
from astra_sim.data.format import CODEBASE_VERSION, feature_spec
from astra_sim.data.rosbag import messages as m
from astra_sim.data.rosbag import sync
from astra_sim.data.rosbag.streams import BagStreams, decode_frames, read_streams
from astra_sim.data.rosbag.topics import TopicsConfig
from astra_sim.data.writer import DatasetExistsError, DatasetWriter


@dataclass
class ImportedEpisode:
    """One bag's rows: ``observations`` key -> (T, ...) arrays, ``pose`` (T, 3),
    ``action`` (T, 2), the row times ``ticks`` (T,) ns, and the bag's ``streams``."""

    observations: dict[str, np.ndarray]
    pose: np.ndarray
    action: np.ndarray
    ticks: np.ndarray
    streams: BagStreams


def _stack_images(cfg: TopicsConfig, frames: dict[str, np.ndarray], topic: str) -> np.ndarray:
    """One camera's (T, H, W[, 3]) frames; every frame at the configured size."""
    size = tuple(cfg.image_size) if cfg.image_size else None
    images = [m.resize(f, size) for f in frames]
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise m.RosbagImportError(
            topic, f"frames change size during the bag ({sorted(shapes)}); set image_size"
        )
    return np.stack(images)


def read_episode(path: str | Path, cfg: TopicsConfig) -> ImportedEpisode:
    """Read, check and resample one bag into rows (nothing is written).

    Raises:
        RosbagImportError: naming the topic and the problem (missing topic, wrong or
            unknown type, streams that cannot be synchronised, undecodable images).
        FileNotFoundError: the bag does not exist.
    """
    bag = read_streams(Path(path), cfg)
    period, gap = cfg.period_ns, round(cfg.max_gap * 1e9)
    # Commands are held between messages (a robot sends one when it changes), so they
    # neither bound the episode nor count as gaps.
    timed = {k: s for k, s in bag.streams.items() if s.role != "command"}
    ticks = sync.episode_ticks({k: s.span for k, s in timed.items()}, period)
    start, end = int(ticks[0]) - period, int(ticks[-1])
    for topic, s in timed.items():
        sync.check_gaps(topic, s.times, start, end, gap)
    obs: dict[str, np.ndarray] = {}
    streams = bag.streams
    image_topics = [(c.topic, "rgb", m.rgb_image) for c in cfg.cameras]
    image_topics += [(d.topic, "depth", m.depth_image) for d in cfg.depth]
    picks = {
        topic: streams[topic].values[sync.latest_before(streams[topic].times, ticks)]
        for topic, _, _ in image_topics
    }
    decoded = decode_frames(
        bag.path,
        cfg,
        {topic: {int(i) for i in idx} for topic, idx in picks.items()},
        {topic: fn for topic, _, fn in image_topics},
    )
    for key in ("rgb", "depth"):
        cams = [
            _stack_images(cfg, [decoded[topic][int(i)] for i in picks[topic]], topic)
            for topic, k, _ in image_topics
            if k == key
        ]
        if cams:
            shapes = {c.shape[1:] for c in cams}
            if len(shapes) > 1:
                raise m.RosbagImportError(
                    ", ".join(t for t, k, _ in image_topics if k == key),
                    f"{key} cameras differ in size ({sorted(shapes)}); set image_size",
                )
            obs[key] = np.stack(cams, axis=1)
    if cfg.imu is not None:
        s = streams[cfg.imu.topic]
        rot = m.rpy_matrix(cfg.imu.rotation_rpy)
        base = np.concatenate([s.values[:, :3] @ rot.T, s.values[:, 3:] @ rot.T], axis=1)
        obs["imu"] = sync.resample_imu(s.times, base, ticks, period, cfg.imu_samples)
    if cfg.wheels is not None:
        s = streams[cfg.wheels.topic]
        angles = sync.wheel_angles(s.times, s.kind, s.values)
        obs["wheel"] = sync.resample_wheels(s.times, angles, ticks, period, cfg.wheel_samples)
    truth = streams[cfg.truth.topic]
    pose = sync.resample_poses(truth.times, truth.values, ticks)
    return ImportedEpisode(obs, pose, _actions(cfg, streams, ticks, pose), ticks, bag)


def _actions(cfg: TopicsConfig, streams: dict, ticks: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """Row t's action: the command in force over the period after the tick, or without a
    command topic the truth's motion over that period (v = forward step / dt, w = turn / dt).
    """
    from astra_sim.agents.baselines.dead_reckoning import relative

    if cfg.command is not None:
        s = streams[cfg.command.topic]
        idx = sync.latest_before(s.times, ticks + cfg.period_ns)
        return np.where(idx[:, None] >= 0, s.values[np.maximum(idx, 0)], 0.0)
    step = relative(pose[:-1], pose[1:]) * cfg.control_hz
    action = np.stack([step[:, 0], step[:, 2]], axis=1)
    return np.concatenate([action, action[-1:]])


def _space(obs: dict[str, np.ndarray]) -> Any:
    """A gymnasium Dict of the observation shapes, for the dataset's feature spec."""
    from gymnasium import spaces

    dtypes = {"rgb": np.uint8}
    return spaces.Dict(
        {
            k: spaces.Box(0, 255, v.shape[1:], np.uint8)
            if k in dtypes
            else spaces.Box(-np.inf, np.inf, v.shape[1:], np.float32)
            for k, v in obs.items()
        }
    )


def _shard(index: int, ep: ImportedEpisode, cfg: TopicsConfig) -> bytes:
    buffer = EpisodeBuffer(index, list(ep.observations), cfg.control_hz)
    n = len(ep.ticks)
    for i in range(n):
        buffer.add(
            {k: v[i] for k, v in ep.observations.items()},
            ep.action[i],
            {"pose": ep.pose[i], "collided": False},
            0.0,
            i == n - 1,
            False,
        )
    summary = {
        "source": "rosbag",
        "bag": str(ep.streams.path),
        "start_time_ns": int(ep.ticks[0]),
        "steps": n,
        "duration_s": round(n / cfg.control_hz, 3),
    }
    return buffer.to_parquet(summary)[0]


def _bag_info(ep: ImportedEpisode) -> dict[str, Any]:
    b = ep.streams
    return {
        "path": str(b.path),
        "storage": b.storage,
        "start_time_ns": int(ep.ticks[0]),
        "rows": len(ep.ticks),
        "topics": {
            topic: {
                "role": s.role,
                "type": s.msgtype,
                "messages": s.messages,
                "rate_hz": round(s.rate_hz, 3),
            }
            for topic, s in b.streams.items()
        },
    }


def dataset_info(cfg: TopicsConfig, episodes: list[ImportedEpisode]) -> dict[str, Any]:
    """``meta/info.json`` of the import: features, rates, rig, robot, bags."""
    first = episodes[0]
    shapes = {k: v.shape[1:] for k, v in first.observations.items()}
    for ep in episodes[1:]:
        other = {k: v.shape[1:] for k, v in ep.observations.items()}
        if other != shapes:
            raise m.RosbagImportError(
                str(ep.streams.path), f"gives rows of shapes {other}, the first bag {shapes}"
            )
    cameras = []
    for key, group in (("rgb", cfg.cameras), ("depth", cfg.depth)):
        for cam in group:
            h, w = shapes[key][1:3]
            entry = {"name": cam.name, "kind": key, "topic": cam.topic, "height": h, "width": w}
            intr = first.streams.intrinsics.get(cam.name)
            if intr is not None:
                entry["intrinsics"] = intr
            cameras.append(entry)
    return {
        "codebase_version": CODEBASE_VERSION,
        "astra_sim_version": __version__,
        "task": "rosbag",
        "features": feature_spec(_space(first.observations), list(shapes), False),
        "fps": cfg.control_hz,
        "imu_hz": cfg.control_hz * cfg.imu_samples,
        "wheel_samples_per_step": cfg.wheel_samples,
        "rig": {"source": "rosbag", "cameras": cameras},
        "robot": to_dict(cfg.robot),
        "action_source": "command" if cfg.command else "truth",
        "rosbag": {"bags": [_bag_info(ep) for ep in episodes]},
        "data_path": "data/chunk-{chunk:03d}/episode_{episode_index:06d}.parquet",
        "total_episodes": 0,
        "total_frames": 0,
    }


def import_rosbag(bags: list[str | Path], cfg: TopicsConfig, out: str | Path) -> dict[str, Any]:
    """Import ``bags`` (one episode each, in the order given) into the new dataset ``out``.

    Returns ``meta/info.json`` as written.

    Raises:
        DatasetExistsError: ``out`` exists and is not empty (nothing is read or written).
        RosbagImportError: a bag does not fit the configuration (``out`` is not created).
    """
    out = Path(out)
    if not bags:
        raise ValueError("import-rosbag needs at least one bag")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetExistsError(f"{out} exists and is not empty; choose a new output folder")
    episodes = [read_episode(bag, cfg) for bag in bags]
    info = dataset_info(cfg, episodes)
    recipe = {"source": "rosbag", "bags": [str(b) for b in bags], "topics": to_dict(cfg)}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.importing-", dir=out.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700; a dataset folder is the user's usual
        writer = DatasetWriter(tmp, recipe)
        writer.open(info)
        for i, ep in enumerate(episodes):
            writer.write_episode(i, _shard(i, ep, cfg))
        info = writer.finish(list(range(len(episodes))))
        if out.exists():
            out.rmdir()  # empty (checked above): rename needs it gone or empty
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return info


__all__ = ["ImportedEpisode", "dataset_info", "import_rosbag", "read_episode"]
