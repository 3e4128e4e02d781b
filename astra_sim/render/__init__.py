"""Rendering: camera models and rigs, the renderer protocol and backends, sensor noise.

The Embree ray caster is the default backend (CPU, any camera model); ``gl`` rasterizes
with OpenGL on headless EGL (moderngl, imported only when a renderer first draws);
habitat-sim is an optional backend imported only when asked for. Import from here rather
than from the submodules, which may move.
"""

from astra_sim.render.cameras import (
    FISHEYE_MODELS,
    Camera,
    CameraModel,
    EquirectangularCamera,
    FisheyeCamera,
    PinholeCamera,
)
from astra_sim.render.embree import EmbreeRenderer
from astra_sim.render.gl_backend import GLRenderer
from astra_sim.render.noise import GaussianNoise, RedwoodDepthNoise
from astra_sim.render.protocol import BACKENDS, Frame, Renderer, make_renderer
from astra_sim.render.rig import RIG_NAMES, CameraMount, Rig, make_rig, parse_pose
from astra_sim.render.shading import Shading

__all__ = [
    "BACKENDS",
    "FISHEYE_MODELS",
    "RIG_NAMES",
    "Camera",
    "CameraModel",
    "CameraMount",
    "EmbreeRenderer",
    "EquirectangularCamera",
    "FisheyeCamera",
    "Frame",
    "GLRenderer",
    "GaussianNoise",
    "PinholeCamera",
    "RedwoodDepthNoise",
    "Renderer",
    "Rig",
    "Shading",
    "make_renderer",
    "make_rig",
    "parse_pose",
]
