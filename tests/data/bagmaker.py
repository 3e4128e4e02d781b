"""Bags written by the tests themselves with ``rosbags``' writers: a robot driving an arc.

The robot drives at v = 0.5 m/s turning at w = 0.3 rad/s from pose (1, 2, 0.5). Ground
truth and wheel joints come at 50 Hz, the IMU at 200 Hz, cameras at 10 Hz, all from
``T0`` on, so the 10 Hz rows of an import fall on truth samples and the poses must come
back exactly. Each camera frame is filled with its frame number, so a test can tell which
frame a row picked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

T0 = 1_700_000_000_000_000_000  # ns: a plausible wall-clock start
V, W = 0.5, 0.3
START = np.array([1.0, 2.0, 0.5])
RADIUS, TRACK = 0.05, 0.3
MS = 1_000_000


def pose_at(t: float) -> np.ndarray:
    """The exact planar pose t seconds after T0 (a constant-curvature arc)."""
    yaw = START[2] + W * t
    x = START[0] + V / W * (np.sin(yaw) - np.sin(START[2]))
    y = START[1] - V / W * (np.cos(yaw) - np.cos(START[2]))
    return np.array([x, y, np.arctan2(np.sin(yaw), np.cos(yaw))])


def wheel_angles_at(t: float) -> np.ndarray:
    """Left and right wheel angles (rad) t seconds after T0."""
    return np.array([(V - W * TRACK / 2) * t / RADIUS, (V + W * TRACK / 2) * t / RADIUS])


@dataclass
class BagSpec:
    """What to write. ``truth`` is odometry, pose or tf; ``skip`` leaves topics out;
    ``gaps`` silences a topic from its start time (s) for its length (s); ``starts``
    delays a topic's first message (s); ``extra`` adds (topic, msgtype, message) once."""

    seconds: float = 2.0
    cameras: int = 4
    size: int = 64
    compressed: bool = False
    truth: str = "odometry"
    with_command: bool = False
    depth_cameras: int = 0
    skip: set[str] = field(default_factory=set)
    gaps: dict[str, tuple[float, float]] = field(default_factory=dict)
    starts: dict[str, float] = field(default_factory=dict)


def camera_topics(n: int, compressed: bool = False) -> list[str]:
    suffix = "/image_raw/compressed" if compressed else "/image_raw"
    return [f"/cam{i}{suffix}" for i in range(n)]


def _stamp(ts, t_ns: int):
    return ts.types["builtin_interfaces/msg/Time"](sec=t_ns // 10**9, nanosec=t_ns % 10**9)


def _header(ts, t_ns: int, frame: str, ros1: bool):
    kw = {"seq": 0} if ros1 else {}
    return ts.types["std_msgs/msg/Header"](stamp=_stamp(ts, t_ns), frame_id=frame, **kw)


def _quat(ts, yaw: float):
    return ts.types["geometry_msgs/msg/Quaternion"](
        x=0.0, y=0.0, z=float(np.sin(yaw / 2)), w=float(np.cos(yaw / 2))
    )


def _vec(ts, x: float, y: float, z: float):
    return ts.types["geometry_msgs/msg/Vector3"](x=float(x), y=float(y), z=float(z))


def _pose(ts, p: np.ndarray):
    point = ts.types["geometry_msgs/msg/Point"](x=float(p[0]), y=float(p[1]), z=0.0)
    return ts.types["geometry_msgs/msg/Pose"](position=point, orientation=_quat(ts, p[2]))


def _messages(ts, spec: BagSpec, ros1: bool):
    """(topic, msgtype, stamp ns, message) in time order."""
    out = []
    types = ts.types
    n_ns = int(spec.seconds * 1e9)

    def times(topic: str, period_ns: int):
        start = int(spec.starts.get(topic, 0.0) * 1e9)
        for t in range(start, n_ns + 1, period_ns):
            gap = spec.gaps.get(topic)
            if gap and gap[0] * 1e9 <= t < (gap[0] + gap[1]) * 1e9:
                continue
            yield t

    for k, topic in enumerate(camera_topics(spec.cameras, spec.compressed)):
        for frame, t in enumerate(times(topic, 100 * MS)):
            pixels = np.full((spec.size, spec.size, 3), (frame * 10 + k) % 256, np.uint8)
            h = _header(ts, T0 + t, f"cam{k}", ros1)
            if spec.compressed:
                buf = io.BytesIO()
                Image.fromarray(pixels).save(buf, format="PNG")
                msg = types["sensor_msgs/msg/CompressedImage"](
                    header=h, format="png", data=np.frombuffer(buf.getvalue(), np.uint8)
                )
                out.append((topic, "sensor_msgs/msg/CompressedImage", T0 + t, msg))
            else:
                msg = types["sensor_msgs/msg/Image"](
                    header=h, height=spec.size, width=spec.size, encoding="rgb8",
                    is_bigendian=0, step=spec.size * 3, data=pixels.ravel(),
                )  # fmt: skip
                out.append((topic, "sensor_msgs/msg/Image", T0 + t, msg))
    for k in range(spec.depth_cameras):  # 16UC1 millimetres: 100 mm per frame number
        topic = f"/depth{k}/image_raw"
        for frame, t in enumerate(times(topic, 100 * MS)):
            mm = np.full((spec.size // 2, spec.size // 2), 100 * (frame + 1), "<u2")
            msg = types["sensor_msgs/msg/Image"](
                header=_header(ts, T0 + t, f"depth{k}", ros1), height=mm.shape[0],
                width=mm.shape[1], encoding="16UC1", is_bigendian=0, step=mm.shape[1] * 2,
                data=np.frombuffer(mm.tobytes(), np.uint8),
            )  # fmt: skip
            out.append((topic, "sensor_msgs/msg/Image", T0 + t, msg))
    for t in times("/imu", 5 * MS):
        msg = types["sensor_msgs/msg/Imu"](
            header=_header(ts, T0 + t, "imu", ros1),
            orientation=_quat(ts, 0.0),
            orientation_covariance=np.zeros(9),
            angular_velocity=_vec(ts, 0, 0, W),
            angular_velocity_covariance=np.zeros(9),
            linear_acceleration=_vec(ts, 0, V * W, 9.81),
            linear_acceleration_covariance=np.zeros(9),
        )
        out.append(("/imu", "sensor_msgs/msg/Imu", T0 + t, msg))
    for t in times("/joint_states", 20 * MS):
        angles = wheel_angles_at(t / 1e9)
        msg = types["sensor_msgs/msg/JointState"](
            header=_header(ts, T0 + t, "", ros1),
            name=["caster", "wheel_left", "wheel_right"],
            position=np.array([0.0, *angles]),
            velocity=np.zeros(3),
            effort=np.zeros(3),
        )
        out.append(("/joint_states", "sensor_msgs/msg/JointState", T0 + t, msg))
    truth_topic = "/tf" if spec.truth == "tf" else "/truth"
    for t in times(truth_topic, 20 * MS):
        p = pose_at(t / 1e9)
        h = _header(ts, T0 + t, "map", ros1)
        if spec.truth == "odometry":
            cov = types["geometry_msgs/msg/PoseWithCovariance"](
                pose=_pose(ts, p), covariance=np.zeros(36)
            )
            twist = types["geometry_msgs/msg/Twist"](
                linear=_vec(ts, V, 0, 0), angular=_vec(ts, 0, 0, W)
            )
            tw = types["geometry_msgs/msg/TwistWithCovariance"](
                twist=twist, covariance=np.zeros(36)
            )
            msg = types["nav_msgs/msg/Odometry"](
                header=h, child_frame_id="base_link", pose=cov, twist=tw
            )
            out.append((truth_topic, "nav_msgs/msg/Odometry", T0 + t, msg))
        elif spec.truth == "pose":
            msg = types["geometry_msgs/msg/PoseStamped"](header=h, pose=_pose(ts, p))
            out.append((truth_topic, "geometry_msgs/msg/PoseStamped", T0 + t, msg))
        else:
            # Two transforms to base_link: only map's is the truth (odom's is off by 10 m).
            stamped = [
                types["geometry_msgs/msg/TransformStamped"](
                    header=_header(ts, T0 + t, parent, ros1),
                    child_frame_id="base_link",
                    transform=types["geometry_msgs/msg/Transform"](
                        translation=_vec(ts, p[0] + dx, p[1], 0), rotation=_quat(ts, p[2])
                    ),
                )
                for parent, dx in (("odom", 10.0), ("map", 0.0))
            ]
            msg = types["tf2_msgs/msg/TFMessage"](transforms=stamped)
            out.append((truth_topic, "tf2_msgs/msg/TFMessage", T0 + t, msg))
    if spec.with_command:
        for t in times("/cmd_vel", 100 * MS):
            msg = types["geometry_msgs/msg/Twist"](
                linear=_vec(ts, V, 0, 0), angular=_vec(ts, 0, 0, W)
            )
            out.append(("/cmd_vel", "geometry_msgs/msg/Twist", T0 + t, msg))
    out = [o for o in out if o[0] not in spec.skip]
    return sorted(out, key=lambda o: o[2])


def write_bag(path: Path, spec: BagSpec | None = None, storage: str = "ros1") -> Path:
    """Write ``spec`` as a ROS 1 ``.bag`` (``ros1``) or a ROS 2 bag folder (``db3`` or
    ``mcap``); the bag time of each message is its stamp plus 1 ms (the recorder's lag)."""
    from rosbags.typesys import Stores, get_typestore

    spec = spec or BagSpec()
    ros1 = storage == "ros1"
    ts = get_typestore(Stores.ROS1_NOETIC if ros1 else Stores.ROS2_HUMBLE)
    msgs = _messages(ts, spec, ros1)
    conns = {}
    if ros1:
        from rosbags.rosbag1 import Writer

        with Writer(path) as writer:
            for topic, msgtype, t, msg in msgs:
                if topic not in conns:
                    conns[topic] = writer.add_connection(topic, msgtype, typestore=ts)
                writer.write(conns[topic], t + MS, ts.serialize_ros1(msg, msgtype))
        return path
    from rosbags.rosbag2 import StoragePlugin, Writer

    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    with Writer(path, version=9, storage_plugin=plugin) as writer:
        for topic, msgtype, t, msg in msgs:
            if topic not in conns:
                conns[topic] = writer.add_connection(topic, msgtype, typestore=ts)
            writer.write(conns[topic], t + MS, ts.serialize_cdr(msg, msgtype))
    return path


def topics_yaml(path: Path, spec: BagSpec | None = None, **extra: str) -> Path:
    """The topics.yaml that matches ``spec``; ``extra`` lines replace top-level keys."""
    spec = spec or BagSpec()
    cams = "\n".join(
        f"  - {{name: c{i}, topic: {topic}}}"
        for i, topic in enumerate(camera_topics(spec.cameras, spec.compressed))
    )
    truth = (
        "{topic: /tf, parent_frame: map, child_frame: base_link}"
        if spec.truth == "tf"
        else "{topic: /truth}"
    )
    lines = {
        "control_hz": "10.0",
        "imu_samples": "20",
        "wheel_samples": "4",
        "max_gap": "0.25",
        "cameras": "\n" + cams,
        "imu": "{topic: /imu}",
        "wheels": "{topic: /joint_states, left: wheel_left, right: wheel_right}",
        "truth": truth,
        "robot": f"{{wheel_radius: {RADIUS}, track_width: {TRACK}}}",
        **({"command": "{topic: /cmd_vel}"} if spec.with_command else {}),
        **(
            {
                "depth": "\n"
                + "\n".join(
                    f"  - {{name: d{k}, topic: /depth{k}/image_raw}}"
                    for k in range(spec.depth_cameras)
                )
            }
            if spec.depth_cameras
            else {}
        ),
        **extra,
    }
    path.write_text("".join(f"{k}: {v}\n" for k, v in lines.items()))
    return path
