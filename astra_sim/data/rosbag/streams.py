"""Reading the configured topics of one bag into time-stamped streams (``rosbags``).

Two passes over the bag. The first reads every configured topic except the pixels: the
times of all camera frames, and the IMU, wheel, truth and command samples (small). Once the
rows are known (``sync``), the second decodes only the frames a row uses, so a long
recording at 30 Hz never sits in memory whole.

Checks made here, before anything is resampled, each naming the topic: a configured topic
the bag does not have (listing those it has), a topic of a type its role cannot read, a
type with no definition in the bag or the default ROS 2 typestore, a message that does not
deserialise, a stream with no usable message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.data.rosbag import messages as m
from astra_sim.data.rosbag import topics as t
from astra_sim.data.rosbag.sync import sorted_unique

ROLE_TYPES = {
    "camera": t.IMAGE_TYPES,
    "camera_info": t.CAMERA_INFO_TYPES,
    "depth": t.DEPTH_TYPES,
    "imu": t.IMU_TYPES,
    "wheels": t.WHEEL_TYPES,
    "truth": t.TRUTH_TYPES,
    "command": t.COMMAND_TYPES,
}


@dataclass
class Stream:
    """One topic's samples in time order: ``times`` (N,) int64 ns, ``values`` (N, ...).

    For camera and depth topics ``values`` holds message ordinals (which message of the
    topic it was), for the second pass to decode.
    """

    topic: str
    role: str
    msgtype: str
    times: np.ndarray
    values: np.ndarray
    kind: str = ""
    messages: int = 0

    @property
    def span(self) -> tuple[int, int]:
        return int(self.times[0]), int(self.times[-1])

    @property
    def rate_hz(self) -> float:
        """Median message rate (robust to a pause)."""
        if len(self.times) < 2:
            return 0.0
        return float(1e9 / np.median(np.diff(self.times)))


@dataclass
class BagStreams:
    """Every configured stream of one bag, plus what was learnt on the way."""

    path: Path
    storage: str
    streams: dict[str, Stream]
    intrinsics: dict[str, dict[str, Any]] = field(default_factory=dict)


def open_reader(path: Path) -> Any:
    """An open ``rosbags`` AnyReader on one bag (ROS 1 file, ROS 2 folder or file)."""
    from rosbags.highlevel import AnyReader, AnyReaderError
    from rosbags.typesys import Stores, get_typestore

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"bag {path} does not exist")
    try:
        reader = AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE))
        reader.open()
    except AnyReaderError as e:
        raise m.RosbagImportError(str(path), f"is not a readable ROS bag: {e}") from e
    return reader


def _connections(reader: Any, cfg: t.TopicsConfig, path: Path) -> dict[str, list[Any]]:
    """The connections of each configured topic, their types checked against the roles."""
    by_topic: dict[str, list[Any]] = {}
    for conn in reader.connections:
        by_topic.setdefault(conn.topic, []).append(conn)
    out = {}
    for topic, role in cfg.roles().items():
        if topic not in by_topic:
            raise m.RosbagImportError(
                topic, f"is configured as {role} but {path} has no such topic (it has: "
                f"{', '.join(sorted(by_topic)) or 'no topics'})"
            )  # fmt: skip
        allowed = ROLE_TYPES[role.split(":")[0]]
        for conn in by_topic[topic]:
            if conn.msgtype not in allowed:
                raise m.RosbagImportError(
                    topic, f"has message type {conn.msgtype}, which a {role} topic cannot "
                    f"read (expected {' or '.join(allowed)})"
                )  # fmt: skip
            if conn.msgtype not in reader.typestore.fielddefs:
                raise m.RosbagImportError(
                    topic, f"has unknown message type {conn.msgtype}: the bag carries no "
                    "definition of it and the default ROS 2 typestore has none"
                )  # fmt: skip
        out[topic] = by_topic[topic]
    return out


def iterate(reader: Any, conns: list[Any]) -> Any:
    """(topic, msgtype, bag time ns, message) of the given connections, in bag order."""
    from rosbags.highlevel import AnyReaderError

    for conn, bag_ns, raw in reader.messages(connections=conns):
        try:
            msg = reader.deserialize(raw, conn.msgtype)
        except (AnyReaderError, KeyError, ValueError, IndexError) as e:
            raise m.RosbagImportError(
                conn.topic, f"a message does not deserialise as {conn.msgtype}: {e}"
            ) from e
        yield conn.topic, conn.msgtype, int(bag_ns), msg


def read_streams(path: Path, cfg: t.TopicsConfig) -> BagStreams:
    """The first pass: every configured stream's times and (non-image) samples."""
    reader = open_reader(path)
    try:
        conns = _connections(reader, cfg, Path(path))
        roles = cfg.roles()
        raw: dict[str, list[tuple[int, Any]]] = {topic: [] for topic in roles}
        types: dict[str, str] = {}
        counts = dict.fromkeys(roles, 0)
        kinds: dict[str, set[str]] = {}
        intrinsics: dict[str, dict[str, Any]] = {}
        seen_joints: set[str] = set()
        flat = [c for cs in conns.values() for c in cs]
        for topic, msgtype, bag_ns, msg in iterate(reader, flat):
            role = roles[topic]
            types[topic] = msgtype
            ordinal = counts[topic]
            counts[topic] += 1
            stamp = m.stamp_ns(msg) if cfg.stamp == "header" else None
            when = stamp if stamp else bag_ns
            kind, _, name = role.partition(":")
            if kind in ("camera", "depth"):
                raw[topic].append((when, ordinal))
            elif kind == "camera_info":
                intrinsics.setdefault(name, m.camera_intrinsics(msg))
            elif kind == "imu":
                raw[topic].append((when, m.imu_sample(msg)))
            elif kind == "wheels":
                w = cfg.wheels
                seen_joints.update(msg.name)
                sample = m.wheel_sample(msg, w.left, w.right, topic)
                if sample is not None:
                    kinds.setdefault(topic, set()).add(sample[0])
                    raw[topic].append((when, sample[1] * np.asarray(w.signs)))
            elif kind == "truth":
                tr = cfg.truth
                for pose_stamp, pose in m.truth_poses(
                    msg, msgtype, tr.parent_frame, tr.child_frame
                ):
                    raw[topic].append(
                        ((pose_stamp if cfg.stamp == "header" and pose_stamp else bag_ns), pose)
                    )
            elif kind == "command":
                raw[topic].append((when, m.command_sample(msg, msgtype)))
        streams = {}
        for topic, role in roles.items():
            if role.startswith("camera_info"):
                continue
            samples = raw[topic]
            if not samples:
                raise m.RosbagImportError(
                    topic, _empty_reason(role, counts[topic], cfg, seen_joints)
                )
            kind = kinds.get(topic, {""})
            if len(kind) > 1:
                raise m.RosbagImportError(topic, "mixes JointStates with positions and without")
            times, values = sorted_unique(
                np.array([s[0] for s in samples]), np.stack([np.asarray(s[1]) for s in samples])
            )
            streams[topic] = Stream(
                topic, role, types[topic], times, values, kind.pop(), counts[topic]
            )
        storage = "ros2" if reader.is2 else "ros1"
    finally:
        reader.close()
    return BagStreams(Path(path), storage, streams, intrinsics)


def _empty_reason(role: str, count: int, cfg: t.TopicsConfig, joints: set[str]) -> str:
    if count == 0:
        return f"is configured as {role} but holds no message"
    if role == "wheels":
        w = cfg.wheels
        return (
            f"no JointState names both joints {w.left!r} and {w.right!r} (joints seen: "
            f"{', '.join(sorted(joints)) or 'none'})"
        )
    if role == "truth":
        tr = cfg.truth
        return (
            f"no transform from {tr.parent_frame!r} to {tr.child_frame!r} in {count} TF "
            "messages (set truth.parent_frame and truth.child_frame)"
        )
    return f"none of its {count} messages could be used"


def decode_frames(
    path: Path, cfg: t.TopicsConfig, wanted: dict[str, set[int]],
    decode: dict[str, Callable[[Any, str, str], np.ndarray]],
) -> dict[str, dict[int, np.ndarray]]:  # fmt: skip
    """The second pass: the images of the wanted message ordinals of each image topic."""
    reader = open_reader(path)
    try:
        conns = _connections(reader, cfg, Path(path))
        flat = [c for topic in wanted for c in conns[topic]]
        ordinal = dict.fromkeys(wanted, 0)
        out: dict[str, dict[int, np.ndarray]] = {topic: {} for topic in wanted}
        for topic, msgtype, _, msg in iterate(reader, flat):
            k = ordinal[topic]
            ordinal[topic] += 1
            if k in wanted[topic]:
                out[topic][k] = decode[topic](msg, msgtype, topic)
    finally:
        reader.close()
    return out


__all__ = ["BagStreams", "Stream", "decode_frames", "open_reader", "read_streams"]
