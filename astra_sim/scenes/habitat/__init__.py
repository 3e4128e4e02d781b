"""Habitat-format scenes without habitat-sim: read scene datasets, write our scenes as one.

``load_habitat_scene`` reads a ``*.scene_dataset_config.json`` (stages, objects, scene
instances), a folder or a bare mesh, with HM3D semantics (``.semantic.glb`` +
``.semantic.txt``), MP3D ``.house`` regions or Replica semantics (``mesh_semantic.ply`` +
``info_semantic.json``), into a ``Scene`` in our z-up frame;
``export_habitat`` writes a ``Scene`` as a y-up habitat scene dataset. The frame change
lives in ``frames`` alone.
"""

from astra_sim.scenes.habitat.dataset import HabitatDataset, SceneSpec
from astra_sim.scenes.habitat.export import ExportedScene, export_habitat, scene_name
from astra_sim.scenes.habitat.frames import (
    habitat_to_ours,
    habitat_yaw,
    ours_to_habitat,
    yaw_to_habitat,
)
from astra_sim.scenes.habitat.load import KIND, floor_level, load_habitat_scene
from astra_sim.scenes.habitat.meshes import TextureFallbackWarning

__all__ = [
    "KIND",
    "ExportedScene",
    "HabitatDataset",
    "SceneSpec",
    "TextureFallbackWarning",
    "export_habitat",
    "floor_level",
    "habitat_to_ours",
    "habitat_yaw",
    "load_habitat_scene",
    "ours_to_habitat",
    "scene_name",
    "yaw_to_habitat",
]
