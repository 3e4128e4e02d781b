"""habitat-sim behind our protocols: a ``Renderer`` and a ``Pathfinder`` (navmesh geodesics).

This is the only module that imports ``habitat_sim``, and only when one of its classes is
built. habitat-sim loads files, not arrays, so the scene is first written as a habitat scene
dataset (``scenes.habitat.export``) into a temporary folder: the same y-up files a user
would hand to habitat-lab, with instance ids equal to our rows, so its semantic sensor
answers in our ids.

Cameras follow the mount poses of the rig. Pinhole cameras map onto habitat's pinhole
sensor (its depth is z-depth, as ours). Fisheye and equirectangular cameras have no exact
habitat twin (habitat's fisheye is the double-sphere model), so each renders habitat's
equirectangular sensor at its mount and every pixel of ours looks up its own ray in that
panorama, which serves any lens exactly up to the panorama's resolution. Written against
habitat-sim's documented Python API (``habitat_sim.SimulatorConfiguration``,
``CameraSensorSpec``, ``EquirectangularSensorSpec``, ``PathFinder``); its tests are marked
``habitat`` and run where the conda package is installed.
"""

from __future__ import annotations

import math
import tempfile
from typing import Any

import numpy as np

from astra_sim.render.cameras import PinholeCamera
from astra_sim.render.protocol import HABITAT_HINT, Frame
from astra_sim.render.rig import Rig, parse_pose
from astra_sim.scenes.habitat import export_habitat, habitat_to_ours, ours_to_habitat
from astra_sim.scenes.habitat.frames import yaw_to_habitat
from astra_sim.scenes.model import Scene
from astra_sim.scenes.navigation import NavConfig

PANORAMA_HEIGHT = 512
"""Rows of the equirectangular panorama that wide-angle cameras are resampled from."""


def _habitat_sim() -> Any:
    try:
        import habitat_sim
    except ImportError as exc:
        raise ImportError(HABITAT_HINT) from exc
    return habitat_sim


class _Loaded:
    """A habitat-sim Simulator on an exported copy of a scene, with one agent."""

    def __init__(self, scene: Scene, sensors: list[Any], gpu_device_id: int) -> None:
        hs = _habitat_sim()
        self._tmp = tempfile.TemporaryDirectory(prefix="astra-sim-habitat-")
        exported = export_habitat(scene, self._tmp.name, name="scene")
        cfg = hs.SimulatorConfiguration()
        cfg.scene_dataset_config_file = str(exported.config)
        cfg.scene_id = str(exported.render)
        cfg.enable_physics = False
        cfg.load_semantic_mesh = True
        cfg.gpu_device_id = int(gpu_device_id)
        agent = hs.agent.AgentConfiguration()
        agent.sensor_specifications = sensors
        self.sim = hs.Simulator(hs.Configuration(cfg, [agent]))
        self.hs = hs

    def place(self, x: float, y: float, yaw: float) -> None:
        state = self.hs.AgentState()
        state.position = ours_to_habitat(np.array([x, y, 0.0])).astype(np.float32)
        state.rotation = self.hs.utils.common.quat_from_coeffs(yaw_to_habitat(yaw))
        self.sim.get_agent(0).set_state(state)

    def close(self) -> None:
        self.sim.close()
        self._tmp.cleanup()


class HabitatRenderer:
    """Renders a ``Scene`` for camera rigs with habitat-sim (GPU, EGL headless).

    Args:
        scene: the scene to render.
        threads: accepted for the protocol's common arguments and ignored.
        gpu_device_id: CUDA/EGL device habitat-sim renders on.
        panorama_height: rows of the panorama wide-angle cameras are resampled from.

    Raises:
        ImportError: habitat-sim is not installed (the message says how to get it).
    """

    def __init__(
        self,
        scene: Scene,
        threads: int | None = None,
        gpu_device_id: int = 0,
        panorama_height: int = PANORAMA_HEIGHT,
    ) -> None:
        _habitat_sim()
        del threads
        self.scene, self.gpu_device_id = scene, int(gpu_device_id)
        self.panorama_height = int(panorama_height)
        self._loaded: _Loaded | None = None
        self._rig: Rig | None = None
        self._lookups: dict[int, tuple[np.ndarray, ...]] = {}

    def _sensors(self, rig: Rig) -> list[Any]:
        hs = _habitat_sim()
        specs = []
        for i, mount in enumerate(rig.mounts):
            cam = mount.camera
            for kind, sensor_type in (("rgb", hs.SensorType.COLOR),
                                      ("depth", hs.SensorType.DEPTH),
                                      ("semantic", hs.SensorType.SEMANTIC)):  # fmt: skip
                if isinstance(cam, PinholeCamera):
                    spec = hs.CameraSensorSpec()
                    spec.sensor_subtype = hs.SensorSubType.PINHOLE
                    spec.resolution = [cam.height, cam.width]
                    spec.hfov = float(cam.hfov_deg)
                else:
                    spec = hs.EquirectangularSensorSpec()
                    spec.resolution = [self.panorama_height, 2 * self.panorama_height]
                spec.uuid = f"{kind}{i}"
                spec.sensor_type = sensor_type
                fwd, left, up = mount.xyz
                spec.position = [-left, up, -fwd]  # our base frame -> habitat's agent frame
                spec.orientation = [-mount.pitch, mount.yaw, 0.0]
                specs.append(spec)
        return specs

    def render(
        self, rig: Rig, pose: Any, rgb: bool = True, depth: bool = True, semantic: bool = True
    ) -> Frame:
        """Render every camera of ``rig`` at the base pose (x, y, yaw); see ``Frame``."""
        if not isinstance(rig, Rig):
            raise ValueError(f"rig must be a Rig, got {type(rig).__name__}")
        x, y, yaw = parse_pose(pose)
        if self._rig is not rig:
            if self._loaded is not None:
                self._loaded.close()
            self._loaded = _Loaded(self.scene, self._sensors(rig), self.gpu_device_id)
            self._rig, self._lookups = rig, {}
        self._loaded.place(x, y, yaw)
        obs = self._loaded.sim.get_sensor_observations()
        out: dict[str, list[np.ndarray]] = {"rgb": [], "depth": [], "semantic": []}
        for i, mount in enumerate(rig.mounts):
            for kind, wanted in (("rgb", rgb), ("depth", depth), ("semantic", semantic)):
                if wanted:
                    out[kind].append(self._image(i, mount, kind, np.asarray(obs[f"{kind}{i}"])))
        valid = rig.valid
        stack = {k: np.stack(v) if v else None for k, v in out.items()}
        for v in stack.values():
            if v is not None:
                v[~valid] = 0
        return Frame(rgb=stack["rgb"], depth=stack["depth"], semantic=stack["semantic"])

    def _image(self, i: int, mount: Any, kind: str, raw: np.ndarray) -> np.ndarray:
        if kind == "rgb":
            raw = raw[..., :3].astype(np.uint8)
        elif kind == "depth":
            raw = raw.astype(np.float32)
        else:
            raw = raw.astype(np.int32)
        if isinstance(mount.camera, PinholeCamera):
            return raw
        rows, cols, stretch = self._lookup(i, mount.camera)
        image = raw[rows, cols]
        return image * stretch if kind == "depth" else image

    def _lookup(self, i: int, camera: Any) -> tuple[np.ndarray, ...]:
        """Panorama pixel of every pixel of a wide-angle camera, and its depth factor.

        habitat's equirectangular shader looks along m = (-sin p sin t, -cos t, cos p sin t)
        (camera x right, y up, -z forward) at p = 2 pi (col + 0.5) / W and t = pi (row_gl +
        0.5) / H, row_gl counted from the bottom; its depth is the cube face's z-depth,
        which the factor 1 / max|m_i| turns into the range along the ray.
        """
        if i not in self._lookups:
            d = camera.ray_directions().astype(np.float64)  # (H, W, 3): x fwd, y left, z up
            m = np.stack([-d[..., 1], d[..., 2], -d[..., 0]], axis=-1)
            h, w = self.panorama_height, 2 * self.panorama_height
            theta = np.arccos(np.clip(-m[..., 1], -1.0, 1.0))
            phi = np.mod(np.arctan2(-m[..., 0], m[..., 2]), 2 * np.pi)
            col = np.minimum((phi * w / (2 * np.pi)).astype(np.int64), w - 1)
            row = h - 1 - np.minimum((theta * h / np.pi).astype(np.int64), h - 1)
            stretch = 1.0 / np.maximum(np.abs(m).max(axis=-1), 1e-9)
            self._lookups[i] = (row, col, stretch.astype(np.float32))
        return self._lookups[i]

    def close(self) -> None:
        if self._loaded is not None:
            self._loaded.close()
            self._loaded = None


class HabitatPathfinder:
    """habitat-sim's navmesh (Recast/Detour) for our robot, as a ``Pathfinder``.

    The navmesh is computed from the scene's mesh for the robot's radius, height and step
    (``NavMeshSettings``), so it answers the same question as ``NavGrid`` by another route.

    Args:
        scene: the scene (floor at z = 0).
        config: robot settings; the scene's ``nav_config`` by default.
        gpu_device_id: habitat-sim needs a device even without sensors.
    """

    def __init__(
        self, scene: Scene, config: NavConfig | None = None, gpu_device_id: int = 0
    ) -> None:
        hs = _habitat_sim()
        cfg = config or scene.nav_config
        self._loaded = _Loaded(scene, [], gpu_device_id)
        settings = hs.nav.NavMeshSettings()
        settings.set_defaults()
        settings.agent_radius = float(cfg.robot_radius)
        settings.agent_height = float(cfg.robot_height)
        settings.agent_max_climb = float(cfg.step_height)
        settings.cell_size = float(cfg.cell_size)
        self.pathfinder = self._loaded.sim.pathfinder
        if not self._loaded.sim.recompute_navmesh(self.pathfinder, settings):
            raise RuntimeError("habitat-sim could not build a navmesh for this scene")
        self._hs = hs

    def _point(self, xy: Any) -> np.ndarray:
        p = np.asarray(xy, dtype=np.float64).reshape(2)
        return ours_to_habitat(p).astype(np.float32)

    def is_navigable(self, xy: Any) -> np.ndarray:
        pts = np.asarray(xy, dtype=np.float64)
        flat = pts.reshape(-1, 2)
        out = np.array([bool(self.pathfinder.is_navigable(self._point(p))) for p in flat])
        return out.reshape(pts.shape[:-1])

    def _path(self, a_xy: Any, b_xy: Any) -> Any:
        path = self._hs.ShortestPath()
        path.requested_start, path.requested_end = self._point(a_xy), self._point(b_xy)
        return path if self.pathfinder.find_path(path) else None

    def geodesic_distance(self, a_xy: Any, b_xy: Any) -> float:
        path = self._path(a_xy, b_xy)
        d = math.inf if path is None else float(path.geodesic_distance)
        return d if math.isfinite(d) else math.inf

    def shortest_path(self, a_xy: Any, b_xy: Any) -> np.ndarray:
        path = self._path(a_xy, b_xy)
        if path is None or len(path.points) == 0:
            return np.zeros((0, 2))
        return habitat_to_ours(np.asarray(path.points, dtype=np.float64))[:, :2]

    def snap(self, xy: Any) -> np.ndarray:
        pts = np.asarray(xy, dtype=np.float64)
        snapped = [self.pathfinder.snap_point(self._point(p)) for p in pts.reshape(-1, 2)]
        return habitat_to_ours(np.asarray(snapped, dtype=np.float64))[:, :2].reshape(pts.shape)

    def close(self) -> None:
        self._loaded.close()
