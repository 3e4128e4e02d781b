"""A differential-drive base simulated by pybullet: real contacts, wheel slip, bumps.

The robot is generated as URDF from the ``DiffDriveConfig`` (a cylinder base, two driven
wheels, two frictionless casters), so it always matches the kinematic body it stands in for;
the scene's obstacles become static concave triangle meshes over a ground plane. Commands
are shaped exactly as in the kinematic body (``WheelShaper``) and applied as wheel velocity
targets, so the two backends differ only in what physics adds.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pybullet as p

from astra_sim.physics.base import GRAVITY, BodyState, DiffDriveConfig
from astra_sim.physics.kinematic import DiffDriveBody, check_dt, check_pose
from astra_sim.scenes.model import Scene

MAX_CHUNK_FACES = 33_000
"""Faces per collision shape: < 100k vertices, well below pybullet's 131,072 limit."""

_GROUND, _SCENE, _ROBOT, _ALL = 1, 2, 4, 0xFFFF  # collision filter groups
_SETTLE_TICKS = 20  # ticks at rest after a reset, so the base starts on its contacts
_SETTLE_DT = 1.0 / 200.0
_CONTACT_TOLERANCE = 1e-3  # metres: manifold points farther apart than this are not contacts
_WHEEL_MASS_FRACTION = 0.05  # of config.mass, each driven wheel
_CASTER_MASS_FRACTION = 0.01


def _inertia(mass: float, kind: str, radius: float, length: float = 0.0) -> str:
    """URDF inertia of a solid cylinder (axis z) or sphere about its centre."""
    if kind == "sphere":
        i = 0.4 * mass * radius**2
        return f'<inertia ixx="{i}" iyy="{i}" izz="{i}" ixy="0" ixz="0" iyz="0"/>'
    side = mass * (3 * radius**2 + length**2) / 12
    axial = 0.5 * mass * radius**2
    return f'<inertia ixx="{side}" iyy="{side}" izz="{axial}" ixy="0" ixz="0" iyz="0"/>'


def robot_urdf(config: DiffDriveConfig) -> tuple[str, float]:
    """URDF text of the robot and the height of the base link's origin above the floor.

    The base link's origin is its centre of mass, because pybullet reports base poses at
    the centre of mass; the base cylinder starts a little above the floor so only the wheels
    and casters touch it. The wheels look like cylinders but collide as spheres of the wheel
    radius: Bullet's cylinder-on-plane contact point jumps between rim points and made the
    base hop (vertical acceleration noise of ~6 m/s^2 at 0.5 m/s), the sphere rolls cleanly.
    """
    c = config
    clearance = 0.25 * min(c.wheel_radius, c.height)
    body_len = c.height - clearance
    origin_z = clearance + 0.5 * body_len
    width = min(0.4 * c.wheel_radius, 0.25 * c.track_width)
    caster_r = 0.5 * c.wheel_radius
    caster_x = 0.8 * max(c.radius - caster_r, 0.0)
    m_wheel, m_caster = c.mass * _WHEEL_MASS_FRACTION, c.mass * _CASTER_MASS_FRACTION
    m_base = c.mass - 2 * m_wheel - 2 * m_caster

    def link(
        name: str, geometry: str, mass: float, inertia: str, rpy: str = "0 0 0", hit: str = ""
    ) -> str:
        shape = f'<origin xyz="0 0 0" rpy="{rpy}"/><geometry>{geometry}</geometry>'
        hit_shape = f'<origin xyz="0 0 0"/><geometry>{hit}</geometry>' if hit else shape
        return (
            f'<link name="{name}"><inertial><mass value="{mass}"/>'
            f'<origin xyz="0 0 0" rpy="{rpy}"/>{inertia}</inertial>'
            f"<visual>{shape}</visual><collision>{hit_shape}</collision></link>"
        )

    def joint(name: str, kind: str, child: str, xyz: tuple[float, float, float]) -> str:
        axis = '<axis xyz="0 1 0"/>' if kind == "continuous" else ""
        return (
            f'<joint name="{name}" type="{kind}"><parent link="base"/><child link="{child}"/>'
            f'<origin xyz="{xyz[0]} {xyz[1]} {xyz[2]}" rpy="0 0 0"/>{axis}</joint>'
        )

    wheel_geom = f'<cylinder radius="{c.wheel_radius}" length="{width}"/>'
    wheel_hit = f'<sphere radius="{c.wheel_radius}"/>'
    wheel_inertia = _inertia(m_wheel, "cylinder", c.wheel_radius, width)
    caster_geom = f'<sphere radius="{caster_r}"/>'
    caster_inertia = _inertia(m_caster, "sphere", caster_r)
    parts = [
        link(
            "base",
            f'<cylinder radius="{c.radius}" length="{body_len}"/>',
            m_base,
            _inertia(m_base, "cylinder", c.radius, body_len),
        ),
        link("left_wheel", wheel_geom, m_wheel, wheel_inertia, f"{math.pi / 2} 0 0", wheel_hit),
        link("right_wheel", wheel_geom, m_wheel, wheel_inertia, f"{math.pi / 2} 0 0", wheel_hit),
        link("front_caster", caster_geom, m_caster, caster_inertia),
        link("back_caster", caster_geom, m_caster, caster_inertia),
        joint("left_wheel_joint", "continuous", "left_wheel",
              (0.0, 0.5 * c.track_width, c.wheel_radius - origin_z)),
        joint("right_wheel_joint", "continuous", "right_wheel",
              (0.0, -0.5 * c.track_width, c.wheel_radius - origin_z)),
        joint("front_caster_joint", "fixed", "front_caster", (caster_x, 0.0, caster_r - origin_z)),
        joint("back_caster_joint", "fixed", "back_caster", (-caster_x, 0.0, caster_r - origin_z)),
    ]  # fmt: skip
    return f'<?xml version="1.0"?><robot name="astra_diff_drive">{"".join(parts)}</robot>', origin_z


def obstacle_chunks(scene: Scene) -> list[tuple[np.ndarray, np.ndarray]]:
    """The scene's obstacle triangles as (vertices, indices) chunks for pybullet.

    Triangles lying entirely within the nav config's step height of the floor are left out:
    the ground plane carries the robot, and rolling over the seams of a floor mesh would add
    bumps no real floor has (and make every wheel touch count as a collision).
    """
    nav = scene.nav_config
    tris = scene.vertices[scene.faces]
    keep = np.abs(tris[:, :, 2] - nav.floor_z).max(axis=1) > nav.step_height
    faces = scene.faces[keep]
    chunks = []
    for start in range(0, len(faces), MAX_CHUNK_FACES):
        part = faces[start : start + MAX_CHUNK_FACES]
        used, index = np.unique(part, return_inverse=True)
        chunks.append((scene.vertices[used].astype(np.float64), index.reshape(-1).astype(np.int32)))
    return chunks


class BulletBody(DiffDriveBody):
    """The Body protocol on pybullet physics, in a private DIRECT (or GUI) client.

    ``collided`` is True when the robot has a contact point with the scene's obstacle mesh
    (the ground plane does not count). Physics runs at the ``dt`` passed to ``step``.
    Given the same scene, config and calls, a fresh body reproduces its states bit for bit.

    Args:
        scene: the scene to drive in.
        config: geometry, limits, motor response and mass (default ``DiffDriveConfig()``).
        gui: open pybullet's GUI window instead of a headless client (debugging).
    """

    def __init__(
        self, scene: Scene, config: DiffDriveConfig | None = None, gui: bool = False
    ) -> None:
        super().__init__(scene, config)
        self.client: int | None = p.connect(p.GUI if gui else p.DIRECT)
        if self.client < 0:
            raise RuntimeError("pybullet could not connect a physics client")
        try:
            self._build()
        except Exception:
            self.close()
            raise
        self._dt = _SETTLE_DT
        self._ready = False
        self._lin = np.zeros(3)

    def _build(self) -> None:
        cid = self.client
        p.setGravity(0, 0, -GRAVITY, physicsClientId=cid)
        p.setTimeStep(_SETTLE_DT, physicsClientId=cid)
        plane = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=cid)
        self.ground = p.createMultiBody(0, plane, physicsClientId=cid)
        p.changeDynamics(self.ground, -1, lateralFriction=1.0, physicsClientId=cid)
        p.setCollisionFilterGroupMask(self.ground, -1, _GROUND, _ALL, physicsClientId=cid)
        self.obstacles: set[int] = set()
        for vertices, indices in obstacle_chunks(self.scene):
            shape = p.createCollisionShape(
                p.GEOM_MESH,
                vertices=vertices,
                indices=indices,
                flags=p.GEOM_FORCE_CONCAVE_TRIMESH,
                physicsClientId=cid,
            )
            if shape < 0:
                raise RuntimeError(f"pybullet rejected a scene chunk of {len(vertices)} vertices")
            body = p.createMultiBody(0, shape, physicsClientId=cid)
            p.setCollisionFilterGroupMask(body, -1, _SCENE, _ALL, physicsClientId=cid)
            self.obstacles.add(body)
        urdf, self._origin_z = robot_urdf(self.config)
        with tempfile.TemporaryDirectory(prefix="astra_sim_") as tmp:
            path = Path(tmp) / "robot.urdf"
            path.write_text(urdf)
            self.robot = p.loadURDF(str(path), [0, 0, self._origin_z], physicsClientId=cid)
        names = [
            p.getJointInfo(self.robot, j, physicsClientId=cid)[1].decode()
            for j in range(p.getNumJoints(self.robot, physicsClientId=cid))
        ]
        self.wheels = [names.index("left_wheel_joint"), names.index("right_wheel_joint")]
        for j in (names.index("front_caster_joint"), names.index("back_caster_joint")):
            p.changeDynamics(
                self.robot, j, lateralFriction=0.0, rollingFriction=0.0, spinningFriction=0.0,
                physicsClientId=cid,
            )  # fmt: skip
        for j in self.wheels:
            p.changeDynamics(self.robot, j, lateralFriction=1.0, physicsClientId=cid)
            # The wheel spheres stick out of the base's disc sideways; a real wheel sits
            # inside the bumper shell, so only the ground touches the wheels.
            p.setCollisionFilterGroupMask(self.robot, j, _ROBOT, _GROUND, physicsClientId=cid)
        # Enough torque to spin a wheel against full traction: acceleration is the shaper's.
        self._torque = self.config.mass * GRAVITY * self.config.wheel_radius

    def reset(self, pose: np.ndarray) -> BodyState:
        """Place the base at rest at ``pose`` (x, y, yaw), settled on its wheels.

        Raises:
            ValueError: if the pose is not finite, lies outside the scene bounds or the disc
                does not fit there (ESDF < radius), as for the kinematic body.
        """
        pose = check_pose(pose, self.scene, self.grid, self.config.radius)
        cid = self._cid()
        quat = p.getQuaternionFromEuler([0, 0, pose[2]])
        p.resetBasePositionAndOrientation(
            self.robot, [pose[0], pose[1], self._origin_z], quat, physicsClientId=cid
        )
        p.resetBaseVelocity(self.robot, [0, 0, 0], [0, 0, 0], physicsClientId=cid)
        for j in self.wheels:
            p.resetJointState(self.robot, j, 0.0, 0.0, physicsClientId=cid)
        self.shaper.reset()
        self._set_dt(_SETTLE_DT)
        for _ in range(_SETTLE_TICKS):
            self._drive(np.zeros(2))
            p.stepSimulation(physicsClientId=cid)
        # Settling leaves micro-velocities (~1e-5 m/s); a robot placed at rest has none.
        p.resetBaseVelocity(self.robot, [0, 0, 0], [0, 0, 0], physicsClientId=cid)
        self._wheel0 = self._wheel_angles()
        for j, angle in zip(self.wheels, self._wheel0, strict=True):
            p.resetJointState(self.robot, j, angle, 0.0, physicsClientId=cid)
        self._ready = True
        self.state = self._read(0.0, dt=None)
        return self.state.copy()

    def step(self, command: np.ndarray, dt: float) -> BodyState:
        """Advance one physics tick of ``dt`` seconds under the command (v, w).

        Raises:
            ValueError: if the command holds NaN or inf, or dt is not a positive number.
        """
        dt = check_dt(dt)
        cid = self._cid()
        if not self._ready:
            raise RuntimeError("call reset(pose) before step()")
        self._set_dt(dt)
        # The tick's mean wheel speed as the motor target: the distance per tick then
        # matches the kinematic body's when the wheels do not slip.
        self._drive(self.shaper.wheels(self.shaper.step(command, dt)))
        p.stepSimulation(physicsClientId=cid)
        self.state = self._read(self.state.t + dt, dt)
        return self.state.copy()

    def close(self) -> None:
        """Disconnect the pybullet client; idempotent."""
        if self.client is not None and self.client >= 0:
            p.disconnect(physicsClientId=self.client)
        self.client = None

    # ------------------------------------------------------------------ helpers
    def _cid(self) -> int:
        if self.client is None:
            raise RuntimeError("this BulletBody is closed")
        return self.client

    def _set_dt(self, dt: float) -> None:
        if dt != self._dt:
            p.setTimeStep(dt, physicsClientId=self.client)
            self._dt = dt

    def _drive(self, rates: np.ndarray) -> None:
        p.setJointMotorControlArray(
            self.robot,
            self.wheels,
            p.VELOCITY_CONTROL,
            targetVelocities=rates.tolist(),
            forces=[self._torque, self._torque],
            physicsClientId=self.client,
        )

    def _wheel_angles(self) -> np.ndarray:
        joints = p.getJointStates(self.robot, self.wheels, physicsClientId=self.client)
        return np.array([joints[0][0], joints[1][0]])

    def _read(self, t: float, dt: float | None) -> BodyState:
        """The state after a tick; acceleration is the finite difference of the world-frame
        velocity over ``dt`` (None: at rest), rotated into the body frame."""
        cid = self.client
        pos, quat = p.getBasePositionAndOrientation(self.robot, physicsClientId=cid)
        lin, ang = p.getBaseVelocity(self.robot, physicsClientId=cid)
        rot = np.array(p.getMatrixFromQuaternion(quat)).reshape(3, 3)
        lin, ang = np.array(lin), np.array(ang)
        lin_body, ang_body = rot.T @ lin, rot.T @ ang
        accel = np.zeros(3) if dt is None else rot.T @ (lin - self._lin) / dt
        self._lin = lin
        yaw = math.atan2(rot[1, 0], rot[0, 0])
        joints = p.getJointStates(self.robot, self.wheels, physicsClientId=cid)
        contacts = p.getContactPoints(bodyA=self.robot, physicsClientId=cid)
        collided = any(c[2] in self.obstacles and c[8] <= _CONTACT_TOLERANCE for c in contacts)
        return BodyState(
            t=t,
            pose=np.array([pos[0], pos[1], yaw]),
            velocity=np.array([lin_body[0], ang_body[2]]),
            accel_body=accel,
            ang_vel_body=ang_body,
            wheel_angles=np.array([joints[0][0], joints[1][0]]) - self._wheel0,
            wheel_rates=np.array([joints[0][1], joints[1][1]]),
            collided=collided and dt is not None,
        )
