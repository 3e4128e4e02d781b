"""Putting one episode's draws into a simulator: its renderer's colours and light, its rig,
its image noise, IMU, wheel encoders and body.

``apply_randomization`` runs inside ``Simulator.reset``, after the simulator was seeded for
the episode and before the first observation. Every part starts from the simulator's own
configuration (``sim.config``, its calibrated rig, the scene's materials, the renderer's
default lighting), never from the previous episode's draws, and a group the draw does not
hold is not touched: that is what keeps an env without a ``randomize`` block bit-identical
to one that never heard of randomization. The sensor streams are the ones ``Simulator`` seeds
(``make_rng(seed, "sim/imu")`` ...), so a knob at its identity value (a scale of 1, an
error of 0) reproduces the unrandomized readings exactly.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from astra_sim.core.seeding import make_rng
from astra_sim.render.cameras import Camera, FisheyeCamera, PinholeCamera
from astra_sim.render.noise import GaussianNoise, RedwoodDepthNoise
from astra_sim.render.offset_pinhole import OffsetPinholeCamera
from astra_sim.render.rig import Rig
from astra_sim.render.shading import Shading
from astra_sim.scenes.model import Material
from astra_sim.scenes.textures import make_texture
from astra_sim.sim.randomization.actuation import ActuatedBody
from astra_sim.sim.randomization.calibration import (
    CalibratedImu,
    CalibratedWheelEncoder,
    scaled_imu_config,
    wheel_calibration_matrix,
)
from astra_sim.sim.randomization.config import RandomizeConfig, RandomizeError
from astra_sim.sim.randomization.draw import (
    SIGN_ATLAS,
    Randomization,
    draw_randomization,
    material_keys,
)

if TYPE_CHECKING:
    from astra_sim.sim.simulator import Simulator


def check_supported(config: RandomizeConfig, sim: Simulator) -> None:
    """Refuse, before any episode, a block the simulator's renderer cannot honour.

    Re-colouring needs a renderer with ``set_appearance(images, shading)`` (the Embree
    renderer has it); camera, noise and robot groups work with every backend.
    """
    for group in ("appearance", "lighting"):
        if config.has(group) and not hasattr(sim.renderer, "set_appearance"):
            raise RandomizeError(
                f"randomize.{group}: the {sim.config.renderer!r} renderer cannot re-colour a "
                f"scene (it has no set_appearance); use renderer='embree' or drop this group"
            )


def draw_for(config: RandomizeConfig, sim: Simulator, seed: int) -> Randomization:
    """The draws of ``config`` for the episode of ``seed`` in ``sim`` (its calibrated rig
    and its scene's materials say how many values the per-camera and per-material knobs
    take)."""
    return draw_randomization(config, sim.calibrated_rig, sim.scene.materials, seed)


def apply_randomization(draw: Randomization, sim: Simulator) -> None:
    """Configure ``sim`` for the episode ``draw`` was made for (see the module docstring)."""
    if draw.group("appearance") or draw.group("lighting"):
        images = styled_images(sim.scene.materials, draw)
        sim.renderer.set_appearance(images, styled_shading(draw))
    if draw.group("camera"):
        sim.rig = jittered_rig(sim.calibrated_rig, draw.group("camera"))
    noise = draw.group("image_noise")
    if "rgb_sigma" in noise:
        sim.rgb_noise = GaussianNoise(noise["rgb_sigma"])
    if "depth_scale" in noise:
        sim.depth_noise = RedwoodDepthNoise(scale=noise["depth_scale"])
    if draw.group("imu"):
        sim.imu = _imu(sim, draw.group("imu"))
    if draw.group("wheel"):
        sim.encoder = _encoder(sim, draw.group("wheel"))
    if draw.group("actuation"):
        sim.body = _body(sim, draw.group("actuation"))


# ---------------------------------------------------------------- appearance and light
def styled_images(materials: list[Material], draw: Randomization) -> list[np.ndarray]:
    """Every material's image under the draw: redrawn patterns, colour gains, exposure.

    Colours saturate at 255 as an over-exposed camera does; a gain of exactly 1 leaves an
    image as it is (the same array), so identity draws change nothing.
    """
    per_material = draw.group("appearance").get("materials", {})
    intensity = float(draw.group("lighting").get("intensity", 1.0))
    out = []
    for m, key in zip(materials, material_keys(materials), strict=True):
        row = per_material.get(key, {}) if m.kind != SIGN_ATLAS else {}
        image = m.image
        if row.get("texture") is not None:
            rng = make_rng(draw.seed, "randomize", "appearance", "texture", m.id)
            image = make_texture(row["texture"], m.colour, rng, size=image.shape[0])
        gain = np.asarray(row.get("colour_gain", (1.0, 1.0, 1.0)), np.float64)
        gain = gain * float(row.get("brightness", 1.0)) * intensity
        if np.any(gain != 1.0):
            scaled = image.astype(np.float32) * gain.astype(np.float32)
            image = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
        out.append(image)
    return out


def light_angles(light_dir: Any) -> tuple[float, float]:
    """(azimuth, elevation) in degrees of a light direction."""
    x, y, z = (float(v) for v in light_dir)
    return math.degrees(math.atan2(y, x)), math.degrees(math.atan2(z, math.hypot(x, y)))


def styled_shading(draw: Randomization) -> Shading:
    """The renderer's default ``Shading`` with the drawn lighting knobs put in."""
    nominal = Shading()
    light = draw.group("lighting")
    light_dir = nominal.light_dir
    if "azimuth_deg" in light or "elevation_deg" in light:
        az0, el0 = light_angles(nominal.light_dir)
        az = math.radians(light.get("azimuth_deg", az0))
        el = math.radians(light.get("elevation_deg", el0))
        light_dir = (math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el))
    return Shading(
        ambient=float(light.get("ambient", nominal.ambient)),
        diffuse=float(light.get("diffuse", nominal.diffuse)),
        light_dir=light_dir,
        attenuation=float(light.get("attenuation", nominal.attenuation)),
        filtering=nominal.filtering,
    )


# ---------------------------------------------------------------- cameras
def jittered_rig(rig: Rig, cameras: dict[str, dict[str, Any]]) -> Rig:
    """``rig`` with each camera's drawn intrinsics and mount offsets (by camera name)."""
    mounts = []
    for name, m in zip(rig.names, rig.mounts, strict=True):
        d = cameras.get(name, {})
        dx, dy, dz = d.get("xyz_m", (0.0, 0.0, 0.0))
        mounts.append(
            dataclasses.replace(
                m,
                camera=_intrinsics(m.camera, d, name),
                xyz=(m.xyz[0] + dx, m.xyz[1] + dy, m.xyz[2] + dz),
                yaw=m.yaw + math.radians(d.get("yaw_deg", 0.0)),
                pitch=m.pitch + math.radians(d.get("pitch_deg", 0.0)),
            )
        )
    return Rig(tuple(mounts))


def _intrinsics(camera: Camera, d: dict[str, Any], name: str) -> Camera:
    """The camera with its focal length scaled and principal point moved (identity: itself)."""
    scale = float(d.get("focal_scale", 1.0))
    cx, cy = (float(v) for v in d.get("principal_px", (0.0, 0.0)))
    if isinstance(camera, PinholeCamera):
        if scale == 1.0 and cx == 0.0 and cy == 0.0:
            return camera
        hfov = camera.hfov_deg
        if scale != 1.0:
            hfov = math.degrees(2 * math.atan(math.tan(math.radians(hfov) / 2) / scale))
        cx0, cy0 = getattr(camera, "cx_px", 0.0), getattr(camera, "cy_px", 0.0)
        return OffsetPinholeCamera(camera.width, camera.height, hfov, cx0 + cx, cy0 + cy)
    if isinstance(camera, FisheyeCamera) and scale != 1.0:
        fov = camera.fov_deg / scale
        try:
            return dataclasses.replace(camera, fov_deg=fov)
        except ValueError as e:
            raise RandomizeError(
                f"randomize.camera.focal_scale: {scale:g} gives camera {name!r} a field of "
                f"view of {fov:.1f} degrees, which its model cannot take ({e}); narrow the range"
            ) from e
    return camera


# ---------------------------------------------------------------- sensors and body
def _imu(sim: Simulator, knobs: dict[str, Any]) -> CalibratedImu:
    cfg = sim.config.imu
    if "noise_scale" in knobs:
        cfg = scaled_imu_config(cfg, knobs["noise_scale"])
    return CalibratedImu(
        cfg,
        sim.config.physics_hz,
        make_rng(sim.seed, "sim/imu"),
        accel_scale_error=knobs.get("accel_scale_error", 0.0),
        gyro_scale_error=knobs.get("gyro_scale_error", 0.0),
    )


def _encoder(sim: Simulator, knobs: dict[str, Any]) -> CalibratedWheelEncoder:
    cfg = sim.config.wheel
    changes = {k: knobs[k] for k in ("slip_event_rate", "slip_event_std") if k in knobs}
    if "noise_scale" in knobs:
        changes["noise_std"] = cfg.noise_std * knobs["noise_scale"]
    matrix = wheel_calibration_matrix(
        knobs.get("radius_error", (0.0, 0.0)), knobs.get("track_width_error", 0.0)
    )
    return CalibratedWheelEncoder(
        dataclasses.replace(cfg, **changes), make_rng(sim.seed, "sim/wheel"), matrix
    )


def _body(sim: Simulator, knobs: dict[str, Any]) -> ActuatedBody:
    inner = sim.body.inner if isinstance(sim.body, ActuatedBody) else sim.body
    return ActuatedBody(
        inner,
        latency_ticks=round(knobs.get("latency_s", 0.0) * sim.config.physics_hz),
        gains=(knobs.get("linear_gain", 1.0), knobs.get("angular_gain", 1.0)),
        noise_std=(knobs.get("linear_noise", 0.0), knobs.get("angular_noise", 0.0)),
        ticks_per_period=sim.config.ticks_per_step,
        rng=make_rng(sim.seed, "sim/actuation"),
    )
