"""Indoor scenes: the Scene model, procedural generators, navigation and file IO."""

from astra_sim.scenes.generators import SCENE_KINDS, generate_scene, make_params
from astra_sim.scenes.io import load_mesh, load_scene, save_scene
from astra_sim.scenes.model import Instance, Material, Room, Scene
from astra_sim.scenes.navigation import NavConfig, NavGrid

__all__ = [
    "SCENE_KINDS",
    "Instance",
    "Material",
    "NavConfig",
    "NavGrid",
    "Room",
    "Scene",
    "generate_scene",
    "load_mesh",
    "load_scene",
    "make_params",
    "save_scene",
]
