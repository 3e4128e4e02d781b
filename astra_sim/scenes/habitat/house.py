"""MP3D semantics: the ``.house`` file's regions and objects, and ``_semantic.ply`` faces.

A ``.house`` (habitat-sim ``scene/Mp3dSemanticScene.cpp``; Matterport3D's format) starts
with ``ASCII 1.1`` and holds whitespace-separated records: ``R`` regions (index, level,
two zeros, a one-letter label, centre, bounding box, height), ``C`` categories (index,
mapping index, raw name, mpcat40 index, mpcat40 name) and ``O`` objects (index, region,
category, centre, axes, radii). The ``X_semantic.ply`` gives each face an ``object_id``
(an ``O`` index). Coordinates are the scan's own, z up, like its ``.glb``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from astra_sim.core.errors import SceneFormatError
from astra_sim.scenes.habitat import meshes
from astra_sim.scenes.habitat.dataset import SceneSpec
from astra_sim.scenes.habitat.semantics import SemanticRow

# Matterport3D region labels (its README) as our room types.
REGION_LABELS = {
    "a": "bathroom", "b": "bedroom", "c": "closet", "d": "dining_room", "e": "entryway",
    "f": "family_room", "g": "garage", "h": "hallway", "i": "library", "j": "laundry_room",
    "k": "kitchen", "l": "living_room", "m": "meeting_room", "n": "lounge", "o": "office",
    "p": "porch", "r": "game_room", "s": "stairs", "t": "toilet", "u": "utility_room",
    "v": "tv_room", "w": "gym", "x": "outdoor", "y": "balcony", "z": "room", "B": "bar",
    "C": "classroom", "D": "dining_booth", "S": "spa", "Z": "junk", "-": "room",
}  # fmt: skip


def read_house(path: Path) -> tuple[list[SemanticRow], dict[int, str], dict[int, np.ndarray]]:
    """Objects as table rows (id = O index + 1), region types, region boxes (xy lo, hi).

    Raises:
        SceneFormatError: naming the file and line of a malformed record.
    """
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        raise SceneFormatError(f"{path}: cannot read ({e.strerror})") from e
    if not lines or not lines[0].startswith("ASCII"):
        raise SceneFormatError(f"{path}: line 1 should read 'ASCII 1.1', not {lines[:1]}")
    categories: dict[int, str] = {}
    regions: dict[int, str] = {}
    boxes: dict[int, np.ndarray] = {}
    objects: list[tuple[int, int, int, int]] = []
    for number, line in enumerate(lines[1:], start=2):
        t = line.split()
        if not t or t[0] not in "RCO":
            continue
        try:
            if t[0] == "R":
                regions[int(t[1])] = REGION_LABELS.get(t[5], "room")
                boxes[int(t[1])] = np.array([float(t[9]), float(t[10]), float(t[12]), float(t[13])])
            elif t[0] == "C":
                categories[int(t[1])] = t[5] if len(t) > 5 and t[5] != "-" else t[3]
            else:
                objects.append((int(t[1]), int(t[2]), int(t[3]), number))
        except (IndexError, ValueError):
            raise SceneFormatError(f"{path}:{number}: malformed {t[0]} record {line!r}") from None
    rows = [
        SemanticRow(idx + 1, idx + 1, categories.get(cat, "unknown"), region, number)
        for idx, region, cat, number in objects
    ]
    return rows, regions, boxes


def house_semantics(
    spec: SceneSpec, render_tris: np.ndarray
) -> tuple[list[SemanticRow], np.ndarray, dict[int, str]]:
    """Rows, the habitat id (O index + 1) of each render triangle, and region types."""
    import trimesh

    rows, regions, _ = read_house(spec.descriptor)
    ids = np.zeros(len(render_tris), dtype=np.int64)
    if spec.semantic is None:
        return rows, ids, regions
    try:
        ply = trimesh.load(spec.semantic, force="mesh", process=False)
        object_id = np.asarray(ply.metadata["_ply_raw"]["face"]["data"]["object_id"]).ravel()
    except (KeyError, ValueError, TypeError) as e:
        raise SceneFormatError(f"{spec.semantic}: no per-face object_id ({e!r})") from e
    linear, offset = meshes.placement_matrix(spec.stage)
    tris = np.asarray(ply.vertices, dtype=np.float64)[np.asarray(ply.faces)] @ linear.T + offset
    _, nearest = cKDTree(tris.mean(1)).query(render_tris.mean(1), workers=-1)
    ids = object_id[nearest].astype(np.int64) + 1
    return rows, np.where(ids > 0, ids, 0), regions
