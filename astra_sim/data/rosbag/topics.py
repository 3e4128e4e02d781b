"""The ``topics.yaml`` of ``astra-sim data import-rosbag``: which topic is which sensor.

A bag names its streams freely (``/camera/front/image_raw``, ``/imu/data``, ``/odom``...),
so the import is told which topic plays which role and at what rate the rows come. Every
section is a dataclass with defaults, loaded by ``core.recipe`` so that a typo is an error
naming the valid keys. Example::

    control_hz: 10.0          # one dataset row per control period (0.1 s)
    imu_samples: 20           # IMU samples per row, resampled (so imu_hz = 200)
    wheel_samples: 4          # wheel increments per row
    max_gap: 0.25             # s a stream may go silent inside the episode
    image_size: [64, 64]      # resize every camera image to (height, width); optional
    cameras:
      - {name: front, topic: /front/image_raw, info_topic: /front/camera_info}
      - {name: left, topic: /left/image_raw/compressed}
    imu: {topic: /imu/data}
    wheels: {topic: /joint_states, left: wheel_left_joint, right: wheel_right_joint}
    truth: {topic: /mocap/odom}        # or /tf with parent_frame and child_frame
    command: {topic: /cmd_vel}         # optional: the executed action
    robot: {wheel_radius: 0.05, track_width: 0.3}

Times are the messages' ``header.stamp`` (``stamp: header``, the sensor's own clock) or
the time the recorder received them (``stamp: bag``); messages without a header always
use the bag time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from astra_sim.core.recipe import load_recipe
from astra_sim.physics.base import DiffDriveConfig

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
DEPTH_TYPES = ("sensor_msgs/msg/Image",)
IMU_TYPES = ("sensor_msgs/msg/Imu",)
WHEEL_TYPES = ("sensor_msgs/msg/JointState",)
TF_TYPES = ("tf2_msgs/msg/TFMessage", "tf/msg/tfMessage")
TRUTH_TYPES = (
    "nav_msgs/msg/Odometry",
    "geometry_msgs/msg/PoseStamped",
    "geometry_msgs/msg/PoseWithCovarianceStamped",
    *TF_TYPES,
)
COMMAND_TYPES = ("geometry_msgs/msg/Twist", "geometry_msgs/msg/TwistStamped")
CAMERA_INFO_TYPES = ("sensor_msgs/msg/CameraInfo",)
STAMPS = ("header", "bag")


@dataclass
class CameraTopic:
    """Attributes:
    name: the camera's name in the dataset's rig (``front``, ``left``...).
    topic: ``sensor_msgs/Image`` (rgb8, bgr8, rgba8, bgra8, mono8) or ``CompressedImage``
        (JPEG or PNG).
    info_topic: optional ``sensor_msgs/CameraInfo``; its intrinsics go in ``info.json``.
    """

    name: str = ""
    topic: str = ""
    info_topic: str | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.topic:
            raise ValueError(f"a camera needs a name and a topic, got {self}")


@dataclass
class DepthTopic:
    """Attributes:
    name: the camera's name (depth images stack in the order given).
    topic: ``sensor_msgs/Image`` in ``16UC1`` (millimetres) or ``32FC1`` (metres).
    """

    name: str = ""
    topic: str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.topic:
            raise ValueError(f"a depth camera needs a name and a topic, got {self}")


@dataclass
class ImuTopic:
    """Attributes:
    topic: ``sensor_msgs/Imu``.
    rotation_rpy: roll, pitch, yaw (rad) of the IMU frame in the base frame; samples are
        rotated into the base frame (x forward, y left, z up).
    """

    topic: str = ""
    rotation_rpy: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])

    def __post_init__(self) -> None:
        if not self.topic or len(self.rotation_rpy) != 3:
            raise ValueError(f"imu needs a topic and 3 rotation_rpy angles, got {self}")


@dataclass
class WheelTopic:
    """Attributes:
    topic: ``sensor_msgs/JointState``.
    left, right: the wheel joints' names in its ``name`` list.
    signs: factors for (left, right), -1 where a joint turns backwards as the robot
        drives forwards.
    """

    topic: str = ""
    left: str = ""
    right: str = ""
    signs: list[float] = field(default_factory=lambda: [1.0, 1.0])

    def __post_init__(self) -> None:
        if not (self.topic and self.left and self.right) or len(self.signs) != 2:
            raise ValueError(f"wheels need a topic, left and right joint names, got {self}")


@dataclass
class TruthTopic:
    """Attributes:
    topic: ``nav_msgs/Odometry``, ``geometry_msgs/PoseStamped``,
        ``PoseWithCovarianceStamped``, or ``tf2_msgs/TFMessage`` (``/tf``).
    parent_frame, child_frame: for TF, the transform to read (parent -> child, direct,
        not chained through other frames).
    """

    topic: str = ""
    parent_frame: str = ""
    child_frame: str = ""

    def __post_init__(self) -> None:
        if not self.topic:
            raise ValueError("truth needs a topic")


@dataclass
class CommandTopic:
    """Attributes:
    topic: ``geometry_msgs/Twist`` or ``TwistStamped``; the last command before each
        row is the row's action (linear.x, angular.z).
    """

    topic: str = ""


@dataclass
class RobotGeometry:
    """Attributes:
    wheel_radius, track_width: the robot's calibrated geometry, metres (dead reckoning
        and ``info.json``).
    """

    wheel_radius: float = DiffDriveConfig().wheel_radius
    track_width: float = DiffDriveConfig().track_width

    def __post_init__(self) -> None:
        if not (self.wheel_radius > 0 and self.track_width > 0):
            raise ValueError(f"robot wheel_radius and track_width must be > 0, got {self}")


@dataclass
class TopicsConfig:
    """What ``import-rosbag`` reads from a bag and how it resamples it.

    Attributes:
        control_hz: rows per second (the control period is 1 / control_hz).
        imu_samples: IMU samples per row (K), linearly interpolated on a uniform grid.
        wheel_samples: wheel increments per row (M); ``imu_samples`` must be a multiple.
        max_gap: seconds any stream may go without a message inside the episode; longer
            is a gap that cannot be synchronised over.
        stamp: ``header`` (the message's own stamp) or ``bag`` (the recording time).
        image_size: (height, width) every image is resized to; needed when the cameras
            differ in size.
        cameras: the RGB cameras, in rig order.
        depth: depth cameras, in rig order.
        imu: the IMU, or null.
        wheels: the wheel joints, or null.
        truth: the ground-truth pose (required: it is what odometry is scored on).
        command: the velocity command, or null (the action then comes from the truth's
            motion over the next period).
        robot: the calibrated geometry.
    """

    control_hz: float = 10.0
    imu_samples: int = 20
    wheel_samples: int = 4
    max_gap: float = 0.25
    stamp: str = "header"
    image_size: list[int] | None = None
    cameras: list[CameraTopic] = field(default_factory=list)
    depth: list[DepthTopic] = field(default_factory=list)
    imu: ImuTopic | None = None
    wheels: WheelTopic | None = None
    truth: TruthTopic = field(default_factory=TruthTopic)
    command: CommandTopic | None = None
    robot: RobotGeometry = field(default_factory=RobotGeometry)

    def __post_init__(self) -> None:
        if not self.control_hz > 0 or not self.max_gap > 0:
            raise ValueError("control_hz and max_gap must be > 0")
        if self.imu_samples < 1 or self.wheel_samples < 1:
            raise ValueError("imu_samples and wheel_samples must be >= 1")
        if self.imu_samples % self.wheel_samples:
            raise ValueError(
                f"imu_samples ({self.imu_samples}) must be a multiple of wheel_samples "
                f"({self.wheel_samples}): each wheel sample covers a whole number of IMU ones"
            )
        if self.stamp not in STAMPS:
            raise ValueError(f"stamp must be one of {STAMPS}, got {self.stamp!r}")
        if self.image_size is not None and (len(self.image_size) != 2 or min(self.image_size) < 1):
            raise ValueError(f"image_size must be [height, width], got {self.image_size}")
        names = [c.name for c in self.cameras]
        if len(set(names)) != len(names):
            raise ValueError(f"camera names must be unique, got {names}")
        if not (self.cameras or self.depth or self.imu or self.wheels):
            raise ValueError("topics name no sensor: give cameras, depth, imu or wheels")

    @property
    def period_ns(self) -> int:
        """The control period in integer nanoseconds (bag time's unit)."""
        return round(1e9 / self.control_hz)

    def roles(self) -> dict[str, str]:
        """Each configured topic -> its role (``camera:front``, ``imu``, ``truth``...)."""
        out = {c.topic: f"camera:{c.name}" for c in self.cameras}
        out.update({c.info_topic: f"camera_info:{c.name}" for c in self.cameras if c.info_topic})
        out.update({d.topic: f"depth:{d.name}" for d in self.depth})
        for role in ("imu", "wheels", "command"):
            section = getattr(self, role)
            if section is not None:
                out[section.topic] = role
        out[self.truth.topic] = "truth"
        return out


def load_topics(path: str | Path, overrides: list[str] | None = None) -> TopicsConfig:
    """``topics.yaml`` (plus dotted overrides) as a checked ``TopicsConfig``.

    Raises:
        FileNotFoundError: the file does not exist.
        RecipeError: an unknown key, a wrong type or a bad value, naming it.
    """
    return load_recipe(TopicsConfig, path, overrides or [])


__all__ = [
    "CAMERA_INFO_TYPES",
    "COMMAND_TYPES",
    "DEPTH_TYPES",
    "IMAGE_TYPES",
    "IMU_TYPES",
    "TF_TYPES",
    "TRUTH_TYPES",
    "WHEEL_TYPES",
    "CameraTopic",
    "CommandTopic",
    "DepthTopic",
    "ImuTopic",
    "RobotGeometry",
    "TopicsConfig",
    "TruthTopic",
    "WheelTopic",
    "load_topics",
]
