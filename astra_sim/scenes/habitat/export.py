"""Our scenes as a habitat scene dataset that habitat-sim and habitat-lab load as they are.

Layout written under the output folder::

    <dataset>.scene_dataset_config.json
    <name>/<name>.stage_config.json   render + semantic assets, y-up frame, our tables
    <name>/<name>.glb                 textured render mesh, glTF y-up (habitat's world)
    <name>/<name>.semantic.glb        the same triangles, painted per instance (COLOR_0)
    <name>/<name>.semantic.txt        HM3D table: id = our instance id, room = region

The frame is declared explicitly (``up`` [0, 1, 0], ``front`` [0, 0, -1]) in the dataset's
stage defaults and in the stage config, because habitat-sim would otherwise treat a
``.glb`` as z-up. The dataset defaults also name the semantic files through
``%%CONFIG_NAME_AS_ASSET_FILENAME%%``, so an episode whose ``scene_id`` is the ``.glb``
finds them too. No ``.navmesh`` is written: habitat-lab computes one on load for its
agent (``default_agent_navmesh``). Instance ids are our rows, so habitat's semantic
sensor returns the ids our renderer does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astra_sim.core.fileio import atomic_write
from astra_sim.scenes.habitat import frames
from astra_sim.scenes.habitat.dataset import CONFIG_SUFFIX, STAGE_SUFFIX, TAG
from astra_sim.scenes.habitat.gltf import vertex_colour_glb
from astra_sim.scenes.habitat.load import scene_tables
from astra_sim.scenes.habitat.semantics import (
    SemanticRow,
    colour_of_id,
    semantic_txt_bytes,
    srgb_int_to_linear,
)
from astra_sim.scenes.model import Scene

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class ExportedScene:
    """Where an export put things.

    Attributes:
        config: the ``.scene_dataset_config.json``.
        render: the render ``.glb`` (an episode's ``scene_id`` names it, relative to root).
        scene_id: ``<name>/<name>.glb``, the render mesh relative to the output folder.
    """

    config: Path
    render: Path
    scene_id: str


def scene_name(scene: Scene) -> str:
    """A file-safe default name: ``home-3`` for a generated home of seed 3."""
    name = f"{scene.kind}-{scene.seed}" if scene.seed is not None else scene.kind
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name)


def export_habitat(
    scene: Scene, out: str | Path, name: str | None = None, dataset: str = "astra_sim"
) -> ExportedScene:
    """Write ``scene`` as one scene of a habitat scene dataset under ``out``.

    Several scenes may share one output folder: the dataset config lists every
    ``*/*.stage_config.json`` beside it.

    Raises:
        ValueError: ``name`` or ``dataset`` holds characters other than letters, digits,
            ``_`` and ``-`` (habitat strips dots as extensions when it matches names).
    """
    from astra_sim.scenes.io import _glb_bytes  # our y-up textured GLB writer

    name = name or scene_name(scene)
    for what, value in (("name", name), ("dataset", dataset)):
        if not _NAME.match(value):
            raise ValueError(f"{what} {value!r} may hold only letters, digits, '_' and '-'")
    out = Path(out)
    folder = out / name
    render = folder / f"{name}.glb"
    atomic_write(render, _glb_bytes(scene))
    atomic_write(folder / f"{name}.semantic.glb", semantic_glb(scene))
    atomic_write(folder / f"{name}.semantic.txt", semantic_txt_bytes(semantic_rows(scene)))
    stage = {
        "render_asset": render.name,
        "semantic_asset": f"{name}.semantic.glb",
        "semantic_descriptor_filename": f"{name}.semantic.txt",
        "up": list(frames.HABITAT_UP),
        "front": list(frames.HABITAT_FRONT),
        "origin": [0.0, 0.0, 0.0],
        "units_to_meters": 1.0,
        "has_semantic_textures": False,
        "user_defined": {"astra_sim": scene_tables(scene)},
    }
    atomic_write(folder / f"{name}{STAGE_SUFFIX}", _json(stage))
    config = out / f"{dataset}{CONFIG_SUFFIX}"
    atomic_write(config, _json(dataset_config()))
    return ExportedScene(config=config, render=render, scene_id=f"{name}/{render.name}")


def dataset_config() -> dict:
    """The scene dataset config: stage configs one folder down, y-up stage defaults."""
    return {
        "stages": {
            "default_attributes": {
                "up": list(frames.HABITAT_UP),
                "front": list(frames.HABITAT_FRONT),
                "origin": [0.0, 0.0, 0.0],
                "semantic_asset": f"{TAG}.semantic.glb",
                "semantic_descriptor_filename": f"{TAG}.semantic.txt",
                "has_semantic_textures": False,
            },
            "paths": {".json": [f"*/*{STAGE_SUFFIX}"]},
        },
        "objects": {"paths": {}},
        "light_setups": {"paths": {}},
        "scene_instances": {"paths": {}},
    }


def semantic_rows(scene: Scene) -> list[SemanticRow]:
    """One table row per instance (void excluded), with its room as the region."""
    colours = colour_of_id(np.arange(len(scene.instances)))
    return [
        SemanticRow(inst.id, int(colours[inst.id]), inst.category.replace("_", " "), inst.room)
        for inst in scene.instances[1:]
    ]


def semantic_glb(scene: Scene) -> bytes:
    """The scene's triangles in habitat's world, each vertex in its instance's colour.

    Vertices are unshared (three per triangle) so a vertex never sits on two instances.
    """
    tris = scene.vertices[scene.faces].reshape(-1, 3).astype(np.float64)
    positions = frames.ours_to_habitat(tris)
    colours = srgb_int_to_linear(colour_of_id(np.repeat(scene.face_instance, 3)))
    faces = np.arange(len(positions)).reshape(-1, 3)
    return vertex_colour_glb(positions, faces, colours)


def _json(doc: dict) -> bytes:
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("utf-8")
