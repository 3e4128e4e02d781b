"""One control period at a time: physics ticks with IMU and encoder samples, then cameras.

The simulator owns the timing contract of ARCHITECTURE.md: a step is one control period
(default 0.1 s); inside it the body runs at the physics rate (default 200 Hz), the IMU is
sampled every tick and the wheel encoders every ``divisor`` ticks, so each observation
carries fixed-size ``imu (K, 6)`` and ``wheel (M, 2)`` arrays for exactly that period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from astra_sim.core.seeding import check_seed, make_rng
from astra_sim.physics.base import BodyState, DiffDriveConfig
from astra_sim.physics.factory import make_body
from astra_sim.render.noise import GaussianNoise, RedwoodDepthNoise
from astra_sim.render.protocol import make_renderer
from astra_sim.render.rig_recipe import load_rig
from astra_sim.scenes.model import Scene
from astra_sim.sensors.imu import Imu, ImuConfig
from astra_sim.sensors.wheel_encoder import WheelEncoder, WheelEncoderConfig
from astra_sim.sim.deferred import active_queue


@dataclass(frozen=True)
class SimConfig:
    """What to simulate and how fast.

    Attributes:
        control_hz: steps per simulated second (one camera frame per step).
        physics_hz: body ticks per second; a whole multiple of ``control_hz``.
        rig: camera rig name (``default``, ``astra3``, ``equirect``), a YAML recipe path
            (``envs/rigs/*.yaml``) or a ``Rig``.
        renderer: rendering backend: ``embree`` (CPU ray casting), ``gl`` (OpenGL on
            headless EGL, several times faster on small scenes), ``auto`` (``gl`` below
            ``render.auto.GL_MAX_TRIANGLES`` for pinhole rigs where EGL works, else
            ``embree``), or ``habitat`` with habitat-sim installed.
        body: body backend (``kinematic`` or ``pybullet``).
        robot: the differential-drive base.
        imu: IMU noise model (``ImuConfig.noiseless()`` for perfect readings).
        wheel: wheel encoder model.
        rgb_noise_sigma: Gaussian RGB noise in 8-bit levels (0 = none).
        depth_noise: apply the Redwood-style depth noise model.
        render_threads: threads for ray casting (or llvmpipe's rasterizer for ``gl``).
    """

    control_hz: float = 10.0
    physics_hz: float = 200.0
    rig: Any = "default"
    renderer: str = "embree"
    body: str = "kinematic"
    robot: DiffDriveConfig = field(default_factory=DiffDriveConfig)
    imu: ImuConfig = field(default_factory=ImuConfig)
    wheel: WheelEncoderConfig = field(default_factory=WheelEncoderConfig)
    rgb_noise_sigma: float = 0.0
    depth_noise: bool = False
    render_threads: int = 2

    def __post_init__(self) -> None:
        if not (np.isfinite(self.control_hz) and self.control_hz > 0):
            raise ValueError(f"control_hz must be > 0, got {self.control_hz}")
        ratio = self.physics_hz / self.control_hz
        if not (np.isfinite(ratio) and ratio >= 1 and abs(ratio - round(ratio)) < 1e-9):
            raise ValueError(
                f"physics_hz ({self.physics_hz}) must be a whole multiple of "
                f"control_hz ({self.control_hz})"
            )

    @property
    def ticks_per_step(self) -> int:
        return round(self.physics_hz / self.control_hz)


class Simulator:
    """A robot in a scene: ``reset(pose)`` then ``step((v, w))`` -> observation, info."""

    def __init__(self, scene: Scene, config: SimConfig | None = None, seed: int = 0):
        self.scene = scene
        self.config = config or SimConfig()
        cfg = self.config
        self.rig = load_rig(cfg.rig)
        # The rig as calibrated (what the robot believes); ``rig`` is the cameras as they
        # are, which a domain randomization of the camera group moves away from it.
        self.calibrated_rig = self.rig
        extra = {"rig": self.rig} if cfg.renderer == "auto" else {}
        self.renderer = make_renderer(scene, cfg.renderer, threads=cfg.render_threads, **extra)
        self.body = make_body(scene, cfg.body, cfg.robot)
        self.dt = 1.0 / cfg.physics_hz
        self.wheel_samples = cfg.wheel.samples_per_period(cfg.ticks_per_step)
        self._seed(seed)
        self.state: BodyState | None = None

    def _seed(self, seed: int) -> None:
        seed = check_seed(seed)
        self.seed = seed
        cfg = self.config
        self.imu = Imu(cfg.imu, cfg.physics_hz, make_rng(seed, "sim/imu"))
        self.encoder = WheelEncoder(cfg.wheel, make_rng(seed, "sim/wheel"))
        self.rgb_noise = GaussianNoise(cfg.rgb_noise_sigma)
        self.depth_noise = RedwoodDepthNoise() if cfg.depth_noise else None
        self._rgb_rng = make_rng(seed, "sim/rgb_noise")
        self._depth_rng = make_rng(seed, "sim/depth_noise")

    # ------------------------------------------------------------------ API
    def reset(
        self, pose: np.ndarray, seed: int | None = None, randomization: Any = None
    ) -> dict[str, np.ndarray]:
        """Put the robot at rest at ``pose`` (x, y, yaw) and return the first observation.

        The first observation's IMU and encoder arrays cover a control period at rest,
        as a robot that was standing there would have measured. ``randomization`` (one
        episode's domain randomization draws, ``astra_sim.sim.randomization``; it needs
        ``seed``) re-configures the renderer, rig, sensors and body before that.
        """
        if seed is not None:
            self._seed(seed)
        if randomization is not None:
            if seed is None:
                raise ValueError("reset with a randomization needs the episode's seed")
            randomization.apply(self)
        pose = np.asarray(pose, dtype=np.float64)
        self.state = self.body.reset(pose)
        self.imu.reset()
        self.encoder.reset(self.state)
        n = self.config.ticks_per_step
        imu = np.stack([self.imu.measure(self.state) for _ in range(n)])
        wheel = [w for _ in range(n) if (w := self.encoder.update(self.state)) is not None]
        return self._observe(imu, np.stack(wheel))

    def step(
        self, command: np.ndarray, render: bool = True
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Run one control period under ``command`` (v, w); returns (observation, info).

        With ``render=False`` the cameras are skipped (rendering is most of a step's cost)
        and the observation holds only ``imu`` and ``wheel``: for tours and data passes
        that keep a frame only now and then (``render(pose)`` gives one on demand).
        """
        if self.state is None:
            raise RuntimeError("call reset(pose) before step()")
        n = self.config.ticks_per_step
        imu = np.empty((n, 6), dtype=np.float32)
        wheel = np.empty((self.wheel_samples, 2), dtype=np.float32)
        collided, k = False, 0
        for i in range(n):
            self.state = self.body.step(command, self.dt)
            collided |= self.state.collided
            imu[i] = self.imu.measure(self.state)
            sample = self.encoder.update(self.state)
            if sample is not None:
                wheel[k] = sample
                k += 1
        if not render:
            return {"imu": imu, "wheel": wheel}, self.info(collided)
        obs = self._observe(imu, wheel)
        return obs, self.info(collided)

    def info(self, collided: bool = False) -> dict[str, Any]:
        """Ground truth for the last step: never part of the observation."""
        s = self.state
        return {
            "pose": s.pose.copy(),
            "velocity": s.velocity.copy(),
            "t": s.t,
            "collided": bool(collided),
        }

    def render(self, pose: np.ndarray | None = None) -> Any:
        """The rig's frame at ``pose`` (default: the robot's), without noise."""
        return self.renderer.render(self.rig, self.state.pose if pose is None else pose)

    def close(self) -> None:
        self.body.close()
        self.renderer.close()

    # ------------------------------------------------------------------ helpers
    def _observe(self, imu: np.ndarray, wheel: np.ndarray) -> dict[str, np.ndarray]:
        queue = active_queue()
        if queue is not None:  # a vector env renders all its envs' rigs in one batch
            return queue.defer(self, imu, wheel)
        return self.assemble(self.renderer.render(self.rig, self.state.pose), imu, wheel)

    def assemble(self, frame: Any, imu: np.ndarray, wheel: np.ndarray) -> dict[str, np.ndarray]:
        """The observation from a rendered ``frame`` and the period's IMU and wheel samples:
        image noise drawn here, in step order, from this simulator's own generators."""
        rgb, depth = frame.rgb, frame.depth
        if not self.rgb_noise.noiseless:  # a randomization may set its own level
            rgb = self.rgb_noise.apply(rgb, self._rgb_rng)
        if self.depth_noise is not None:
            depth = self.depth_noise.apply(depth, self._depth_rng)
        return {
            "rgb": rgb,
            "depth": depth.astype(np.float32, copy=False),
            "semantic": frame.semantic,
            "imu": imu.astype(np.float32, copy=False),
            "wheel": wheel.astype(np.float32, copy=False),
        }

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
