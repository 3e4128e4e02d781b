"""ROS messages -> numpy: images, IMU samples, wheel joint positions, planar poses.

Each converter takes a message as ``rosbags`` deserialises it (the same attribute names in
ROS 1 and ROS 2, except CameraInfo's ``K``/``k``) and the topic it came from, and raises
``RosbagImportError`` naming that topic when the message cannot be used: an image
encoding we do not read, a JointState without the configured joints, a TF message without
the configured frames.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from astra_sim.core.errors import AstraSimError


class RosbagImportError(AstraSimError, ValueError):
    """A bag cannot be imported as configured; the message names the topic and why."""

    def __init__(self, topic: str, problem: str):
        self.topic = topic
        self.problem = problem
        super().__init__(f"topic {topic}: {problem}")


RGB_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8", "8uc1", "8uc3")
DEPTH_ENCODINGS = ("16uc1", "mono16", "32fc1")


def stamp_ns(msg: Any) -> int | None:
    """``header.stamp`` in nanoseconds, or None for a message without a header."""
    header = getattr(msg, "header", None)
    if header is None:
        return None
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def _raw_image(msg: Any, topic: str) -> tuple[np.ndarray, str]:
    """A ``sensor_msgs/Image``'s pixels as (H, W[, C]) and its lower-case encoding."""
    enc = str(msg.encoding).lower()
    dtype = {"16uc1": np.uint16, "mono16": np.uint16, "32fc1": np.float32}.get(enc, np.uint8)
    channels = {"rgb8": 3, "bgr8": 3, "8uc3": 3, "rgba8": 4, "bgra8": 4}.get(enc, 1)
    if enc not in RGB_ENCODINGS + DEPTH_ENCODINGS:
        raise RosbagImportError(
            topic, f"image encoding {msg.encoding!r} is not read (use one of "
            f"{', '.join(RGB_ENCODINGS + DEPTH_ENCODINGS)})"
        )  # fmt: skip
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    itemsize = np.dtype(dtype).itemsize
    data = np.frombuffer(np.asarray(msg.data, np.uint8).tobytes(), np.uint8)
    if step < w * channels * itemsize or len(data) < h * step:
        raise RosbagImportError(
            topic, f"image of {h}x{w} {enc} has step {step} and {len(data)} bytes (too few)"
        )
    rows = data[: h * step].reshape(h, step)[:, : w * channels * itemsize]
    order = ">" if msg.is_bigendian else "<"
    pixels = np.ascontiguousarray(rows).view(np.dtype(dtype).newbyteorder(order))
    pixels = pixels.reshape(h, w, channels).astype(dtype)
    return (pixels[..., 0] if channels == 1 else pixels), enc


def rgb_image(msg: Any, msgtype: str, topic: str) -> np.ndarray:
    """An ``Image`` or ``CompressedImage`` as (H, W, 3) uint8 RGB."""
    if msgtype.endswith("CompressedImage"):
        try:
            with Image.open(io.BytesIO(np.asarray(msg.data, np.uint8).tobytes())) as im:
                return np.asarray(im.convert("RGB"))
        except OSError as e:
            raise RosbagImportError(
                topic, f"compressed image (format {msg.format!r}) cannot be decoded: {e}"
            ) from e
    pixels, enc = _raw_image(msg, topic)
    if enc in DEPTH_ENCODINGS:
        raise RosbagImportError(topic, f"is a camera topic but carries {enc} (depth) images")
    if pixels.ndim == 2:
        return np.repeat(pixels[..., None], 3, axis=-1)
    if enc.startswith("bgr"):
        pixels = pixels[..., 2::-1]
    return np.ascontiguousarray(pixels[..., :3])


def depth_image(msg: Any, msgtype: str, topic: str) -> np.ndarray:
    """A depth ``Image`` as (H, W) float32 metres (0 or NaN: no return -> 0)."""
    if msgtype.endswith("CompressedImage"):
        raise RosbagImportError(topic, "compressed depth images are not read; record raw depth")
    pixels, enc = _raw_image(msg, topic)
    if enc not in DEPTH_ENCODINGS:
        raise RosbagImportError(topic, f"is a depth topic but carries {enc} images")
    metres = pixels.astype(np.float32) * (np.float32(0.001) if pixels.dtype == np.uint16 else 1)
    return np.where(np.isfinite(metres) & (metres > 0), metres, 0).astype(np.float32)


def resize(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """``image`` at (height, width) ``size`` (bilinear; depth: nearest, so no edge blends)."""
    if size is None or image.shape[:2] == tuple(size):
        return image
    h, w = size
    if image.dtype == np.float32:
        return np.asarray(Image.fromarray(image, mode="F").resize((w, h), Image.NEAREST))
    return np.asarray(Image.fromarray(image).resize((w, h), Image.BILINEAR))


def imu_sample(msg: Any) -> np.ndarray:
    """[ax ay az gx gy gz] of a ``sensor_msgs/Imu`` (m/s^2, rad/s), float64."""
    a, g = msg.linear_acceleration, msg.angular_velocity
    return np.array([a.x, a.y, a.z, g.x, g.y, g.z], np.float64)


def wheel_sample(msg: Any, left: str, right: str, topic: str) -> tuple[str, np.ndarray] | None:
    """``("position" | "velocity", [left, right])`` of a JointState, None without the joints.

    Positions (wheel angles, rad) are preferred; a driver publishing only velocities
    (rad/s) gets them integrated later.
    """
    names = list(msg.name)
    if left not in names or right not in names:
        return None
    i, j = names.index(left), names.index(right)
    for kind in ("position", "velocity"):
        values = np.asarray(getattr(msg, kind), np.float64)
        if len(values) == len(names):
            return kind, values[[i, j]]
    raise RosbagImportError(topic, "JointState has neither positions nor velocities per joint")


def yaw_of(q: Any) -> float:
    """Heading (rad) of a quaternion about z (REP-103: z up)."""
    return float(np.arctan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z)))


def truth_poses(
    msg: Any, msgtype: str, parent: str, child: str
) -> list[tuple[int | None, np.ndarray]]:
    """The planar poses (x, y, yaw) a truth message holds, each with its header stamp.

    Odometry and pose messages hold one; a TF message holds those of its transforms from
    ``parent`` to ``child`` (leading slashes ignored), often none.
    """
    if msgtype.endswith(("TFMessage", "tfMessage")):
        out = []
        for tf in msg.transforms:
            if (tf.header.frame_id.lstrip("/"), tf.child_frame_id.lstrip("/")) == (
                parent.lstrip("/"),
                child.lstrip("/"),
            ):
                t, q = tf.transform.translation, tf.transform.rotation
                out.append((stamp_ns(tf), np.array([t.x, t.y, yaw_of(q)])))
        return out
    pose = msg.pose.pose if msgtype.endswith(("Odometry", "CovarianceStamped")) else msg.pose
    p = pose.position
    return [(stamp_ns(msg), np.array([p.x, p.y, yaw_of(pose.orientation)]))]


def command_sample(msg: Any, msgtype: str) -> np.ndarray:
    """(v, w) of a Twist or TwistStamped."""
    twist = msg.twist if msgtype.endswith("TwistStamped") else msg
    return np.array([twist.linear.x, twist.angular.z], np.float64)


def camera_intrinsics(msg: Any) -> dict[str, Any]:
    """A CameraInfo's size, model, K (3x3 row-major) and distortion, JSON-ready."""

    def field_of(*names: str) -> Any:
        for name in names:
            if hasattr(msg, name):
                return getattr(msg, name)
        return []

    return {
        "width": int(msg.width),
        "height": int(msg.height),
        "distortion_model": str(msg.distortion_model),
        "K": [float(v) for v in field_of("k", "K")],
        "D": [float(v) for v in field_of("d", "D")],
    }


def rpy_matrix(rpy: list[float]) -> np.ndarray:
    """Rotation (3, 3) of roll, pitch, yaw (applied x, then y, then z)."""
    r, p, y = rpy
    cr, sr, cp, sp, cy, sy = np.cos(r), np.sin(r), np.cos(p), np.sin(p), np.cos(y), np.sin(y)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


__all__ = [
    "RosbagImportError",
    "camera_intrinsics",
    "command_sample",
    "depth_image",
    "imu_sample",
    "resize",
    "rgb_image",
    "rpy_matrix",
    "stamp_ns",
    "truth_poses",
    "wheel_sample",
    "yaw_of",
]
