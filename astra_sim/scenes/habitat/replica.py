"""Replica semantics: ``habitat/mesh_semantic.ply`` face ids and ``info_semantic.json``.

A Replica scene folder (Replica-Dataset README) holds the render mesh ``mesh.ply`` (a
vertex-coloured quad mesh) and ``habitat/``: ``mesh_semantic.ply``, a PLY whose faces are
polygons (quads in practice) carrying an ``object_id``, and ``info_semantic.json``, whose
``classes`` are ``{"id", "name"}`` and whose ``objects`` are ``{"id", "class_id",
"class_name", "oriented_bbox"}``, the object ``id`` being the PLY's ``object_id``
(habitat-sim ``scene/ReplicaSemanticScene.cpp``, which also reads the category through
``class_id``). habitat's semantic sensor returns that id, so it is kept as ``habitat_id``.

Frames: Replica's world is z-up with gravity along -z (Replica-Dataset issue #26), and
habitat-sim read it that way, up +z and front +y, as it reads a Matterport ``.glb``:
``AssetInfo::fromPath`` gave ``mesh.ply`` that frame until ptex support was removed in 2023,
and its PLY instance-mesh loader hard-coded "-Z gravity" for semantic PLYs. Since then a
bare ``.ply`` defaults to y-up there (and stands on its side), so a Replica scene loaded
as a bare mesh here takes Replica's own frame; a stage config's ``up``/``front`` still win.
Replica names no rooms or regions: every object's region is -1, as for an HM3D row without
one, so such a scene has no rooms.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.errors import SceneFormatError
from astra_sim.scenes.habitat import frames, meshes
from astra_sim.scenes.habitat.dataset import SceneSpec, read_json
from astra_sim.scenes.habitat.semantics import SemanticRow

INFO_NAME = "info_semantic.json"
MESH_NAME = "mesh_semantic.ply"
UNKNOWN = -1
"""Id given to semantic faces no table row names; Replica's own ids start at 0."""


def replica_files(render: Path) -> tuple[Path | None, Path] | None:
    """(semantic mesh or None, info_semantic.json) beside a render mesh, or None.

    Looked for in ``habitat/`` next to ``mesh.ply`` (the dataset's layout) and in the mesh's
    own folder (for ``habitat/mesh_semantic.ply`` loaded as the stage, as habitat-lab does).
    """
    for folder in (render.parent / "habitat", render.parent):
        info = folder / INFO_NAME
        if info.is_file():
            mesh = folder / MESH_NAME
            return (mesh if mesh.is_file() else None), info
    return None


def with_replica(spec: SceneSpec) -> SceneSpec:
    """``spec`` with its Replica semantic files, if it has some, and for a bare mesh
    Replica's z-up frame. The scene keeps its dataset name (``mesh``), which episodes and
    the env's scene cache look it up by."""
    if spec.descriptor is not None:
        if spec.descriptor.name != INFO_NAME or spec.semantic is not None:
            return spec
        mesh = spec.descriptor.parent / MESH_NAME
        return dataclasses.replace(spec, semantic=mesh if mesh.is_file() else None)
    found = replica_files(spec.stage.render)
    if found is None:
        return spec
    semantic, info = found
    changes: dict[str, Any] = {"semantic": spec.semantic or semantic, "descriptor": info}
    if spec.source == spec.stage.render:  # a bare mesh: no config said which way is up
        changes["stage"] = dataclasses.replace(
            spec.stage, up=frames.GLB_DEFAULT_UP, front=frames.GLB_DEFAULT_FRONT
        )
    return dataclasses.replace(spec, **changes)


def read_info_semantic(path: Path) -> list[SemanticRow]:
    """The objects of an ``info_semantic.json`` as table rows (id = Replica object id,
    category = its class name, region -1).

    Raises:
        SceneFormatError: naming the file: not JSON, no ``objects`` list, an object without
            an integer id, or an id used twice.
    """
    doc = read_json(path)
    if not isinstance(doc.get("objects"), list):
        raise SceneFormatError(
            f'{path}: no "objects" list; Replica\'s info_semantic.json names every object id '
            "of mesh_semantic.ply there (ReplicaCAD's, which holds only classes, has no "
            "per-face objects to read)"
        )
    classes: dict[int, str] = {}
    for c in doc.get("classes") or []:
        if isinstance(c, dict) and isinstance(c.get("id"), int):
            classes[c["id"]] = str(c.get("name", ""))
    rows: list[SemanticRow] = []
    seen: dict[int, int] = {}
    for i, obj in enumerate(doc["objects"]):
        ident = obj.get("id") if isinstance(obj, dict) else None
        if isinstance(ident, bool) or not isinstance(ident, int) or ident < 0:
            raise SceneFormatError(f"{path}: objects[{i}] has no non-negative integer id")
        if ident in seen:
            raise SceneFormatError(
                f"{path}: objects[{i}] reuses id {ident} of objects[{seen[ident]}]"
            )
        seen[ident] = i
        name = classes.get(obj.get("class_id")) or str(obj.get("class_name") or "unknown")
        rows.append(SemanticRow(ident, ident, name, -1, i))
    return rows


def read_semantic_ply(path: Path, place: meshes.Placement) -> tuple[np.ndarray, np.ndarray]:
    """Triangles (T, 3, 3) of a semantic PLY in our frame and each one's object id (T,).

    Polygons are fanned from their first vertex, [0, 1, 2], [0, 2, 3], ..., the split
    habitat-sim makes of Replica's quads, so every triangle keeps its face's id.

    Raises:
        SceneFormatError: the file cannot be read or its faces carry no ``object_id``.
    """
    import trimesh

    try:
        ply = trimesh.load(path, file_type="ply", force="mesh", process=False)
        face = ply.metadata["_ply_raw"]["face"]["data"]
    except Exception as e:  # trimesh raises many types on a broken file
        hint = "; binary PLYs are read only when every face has one size" * (
            "unexpected length" in str(e)
        )
        raise SceneFormatError(f"{path}: cannot read the semantic PLY ({e!r}){hint}") from e
    names = face.dtype.names if isinstance(face, np.ndarray) else tuple(face)
    if "object_id" not in (names or ()):
        raise SceneFormatError(
            f"{path}: its faces have no object_id property (they have "
            f"{', '.join(names or ()) or 'none'}); Replica's semantic mesh gives every face one"
        )
    object_id = np.asarray(face["object_id"]).reshape(-1).astype(np.int64)
    vertices = np.asarray(ply.vertices, dtype=np.float64)
    tris, ids = [], []
    for which, poly in _polygons_by_size(face["vertex_indices"]):
        size = poly.shape[1]
        if size < 3 or poly.max(initial=0) >= len(vertices) or poly.min(initial=0) < 0:
            raise SceneFormatError(f"{path}: a face of {size} vertices is not a polygon of it")
        for j in range(1, size - 1):
            tris.append(poly[:, [0, j, j + 1]])
            ids.append(object_id[which])
    if not tris:
        raise SceneFormatError(f"{path}: holds no faces")
    linear, offset = meshes.placement_matrix(place)
    return vertices[np.concatenate(tris)] @ linear.T + offset, np.concatenate(ids)


def _polygons_by_size(lists: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """(face indices, (n, size) vertex indices) per polygon size: trimesh gives a binary
    file's lists as (count, indices) records of one size, an ASCII file's as arrays."""
    if isinstance(lists, np.ndarray) and lists.dtype.names:
        lists = lists[lists.dtype.names[-1]]
    if isinstance(lists, np.ndarray) and lists.dtype != object:
        poly = lists.reshape(len(lists), -1).astype(np.int64)
        return [(np.arange(len(poly)), poly)]
    sizes = np.array([len(p) for p in lists], dtype=np.int64)
    groups = []
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        groups.append((which, np.stack([np.asarray(lists[k], np.int64) for k in which])))
    return groups


def replica_semantics(
    spec: SceneSpec, strict: bool
) -> tuple[list[SemanticRow], np.ndarray | None, np.ndarray | None]:
    """Table rows, and the semantic triangles with their ids (None without a semantic mesh).

    Raises:
        SceneFormatError: with ``strict``, faces whose object id no row names (the sign of a
            table from another scene); without it those faces get ``UNKNOWN``.
    """
    rows = read_info_semantic(spec.descriptor)
    if spec.semantic is None:
        return rows, None, None
    place = spec.stage
    if spec.semantic_up is not None:
        place = dataclasses.replace(place, up=spec.semantic_up, front=spec.semantic_front)
    tris, ids = read_semantic_ply(spec.semantic, place)
    known = np.array(sorted(r.id for r in rows), dtype=np.int64)
    named = np.isin(ids, known)
    if not named.all():
        missing, counts = np.unique(ids[~named], return_counts=True)
        if strict:
            pairs = zip(missing[:8], counts[:8], strict=True)
            shown = ", ".join(f"{m} ({c} triangles)" for m, c in pairs)
            raise SceneFormatError(
                f"{spec.semantic}: {len(missing)} object ids are not in {spec.descriptor} "
                f"({shown}); is the table from another scene?"
            )
        ids = np.where(named, ids, UNKNOWN)
    return rows, tris, ids
