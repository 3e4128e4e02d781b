"""A habitat scene (stage, objects, HM3D semantics) as our ``Scene``: one floor at z = 0.

Render meshes give the geometry and looks (``meshes``); the semantic mesh's colours,
matched through the ``.semantic.txt``, give every render triangle its instance (the two
meshes are the same scan, triangulated alike or not: each render triangle takes the
instance of the nearest semantic triangle); regions become rooms (``regions``). The floor
the robot drives on is found in the mesh (or given, e.g. by an episode's start height) and
moved to z = 0, since our cameras sit at fixed heights above the floor. Scenes exported by
astra-sim carry their full tables in the stage's ``user_defined`` block and come back
exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from astra_sim.core.errors import SceneFormatError
from astra_sim.scenes.habitat import frames, meshes, replica
from astra_sim.scenes.habitat.dataset import HabitatDataset, SceneSpec
from astra_sim.scenes.habitat.gltf import Gltf
from astra_sim.scenes.habitat.regions import rooms_from_regions
from astra_sim.scenes.habitat.semantics import (
    SemanticRow,
    ids_of_colours,
    linear_to_srgb_int,
    read_semantic_txt,
)
from astra_sim.scenes.model import VOID_INSTANCE, Instance, Material, Room, Scene
from astra_sim.scenes.navigation import NavConfig

KIND = "habitat"
FLOOR_SEARCH = 0.25
"""Metres around a floor-height hint in which the mesh's actual floor is looked for."""
_UP = 0.9  # normal z of a floor triangle, as in NavGrid.from_mesh
TRANSFER_CANDIDATES = 8
"""Nearest semantic triangles considered for each render triangle of another mesh."""
_SAME_FACING = 0.9  # |cos| between normals of triangles on the same surface


def load_habitat_scene(
    source: str | Path | HabitatDataset,
    scene: str | None = None,
    *,
    floor_height: float | None = None,
    nav_config: NavConfig | None = None,
    strict_semantics: bool = True,
    up: str | None = None,
) -> Scene:
    """Read one scene of a habitat scene dataset (or a bare mesh) into a ``Scene``.

    Args:
        source: a ``*.scene_dataset_config.json``, a folder, a mesh file, or a parsed
            ``HabitatDataset``.
        scene: which scene (a name or an episode's ``scene_id``); may be left out when the
            dataset holds one scene.
        floor_height: habitat world height (y) of the floor to drive on, e.g. an episode's
            start height; refined against the mesh. By default the floor with the most
            upward-facing area.
        nav_config: the robot's navigation settings (radius, height, step); ``floor_z``
            is always 0 since the floor is moved there.
        strict_semantics: a semantic table naming a colour the semantic mesh lacks is an
            error (the usual sign of a table from another scan); False keeps those objects
            without triangles.
        up: ``"y"`` or ``"z"`` to override the stage's up axis; by default habitat-sim's
            rule (the config's ``up``/``front``; a bare ``.glb`` is z-up, as Matterport's),
            and a bare Replica mesh is z-up, as Replica is (``replica``).

    Raises:
        SceneFormatError: naming the file and the problem (missing stage file, malformed
            table, unknown colours, no floor at the given height, ...).
    """
    dataset = source if isinstance(source, HabitatDataset) else HabitatDataset(source)
    if scene is None:
        if len(dataset.scenes) != 1:
            raise SceneFormatError(
                f"{dataset.path} holds {len(dataset.scenes)} scenes; name one of "
                f"{', '.join(list(dataset.scenes)[:8])}"
            )
        spec = next(iter(dataset.scenes.values()))
    else:
        spec = dataset.resolve(scene)
    spec = replica.with_replica(spec)
    if up is not None:
        axes = {"y": (frames.HABITAT_UP, frames.HABITAT_FRONT),
                "z": (frames.GLB_DEFAULT_UP, frames.GLB_DEFAULT_FRONT)}  # fmt: skip
        if up not in axes:
            raise ValueError(f"up must be 'y', 'z' or None, got {up!r}")
        stage = dataclasses.replace(spec.stage, up=axes[up][0], front=axes[up][1])
        spec = dataclasses.replace(spec, stage=stage)
    return build_scene(spec, dataset.path, floor_height, nav_config, strict_semantics)


def build_scene(
    spec: SceneSpec,
    dataset_path: Path,
    floor_height: float | None = None,
    nav_config: NavConfig | None = None,
    strict_semantics: bool = True,
) -> Scene:
    """The ``Scene`` of one resolved scene spec; see ``load_habitat_scene``."""
    parts = meshes.read_parts(spec.stage)
    object_parts = [meshes.read_parts(p) for p in spec.objects]
    vertices = np.concatenate([p.vertices for p in parts])
    offsets = np.cumsum([0] + [len(p.vertices) for p in parts])
    stage_faces = np.concatenate([p.faces + o for p, o in zip(parts, offsets, strict=False)])
    floor = floor_level(vertices, stage_faces, floor_height, spec.stage.render)
    rows, habitat_ids, labels = _stage_semantics(spec, vertices[stage_faces], strict_semantics)
    rows = sorted(rows, key=lambda r: r.id)
    instances, regions = _instance_table(rows, spec)
    known = np.array([r.id for r in rows], dtype=np.int64)
    rank = np.clip(np.searchsorted(known, habitat_ids), 0, max(len(known) - 1, 0))
    hit = (known[rank] == habitat_ids) if len(known) else np.zeros(len(habitat_ids), bool)
    face_ids = [np.where(hit, rank + 1, VOID_INSTANCE)]
    for k, obj_parts in enumerate(object_parts):
        n = sum(len(p.faces) for p in obj_parts)
        face_ids.append(np.full(n, len(rows) + 1 + k, dtype=np.int64))
    all_parts = parts + [p for o in object_parts for p in o]
    face_instance = np.concatenate(face_ids)
    scene_arrays = _assemble(all_parts, face_instance, floor)
    footprints = _footprints(scene_arrays[0], scene_arrays[1], scene_arrays[3], len(instances))
    _place_instances(instances, footprints)
    rooms, region_room = rooms_from_regions(instances[1:], regions, footprints[1:, :4])
    for inst, region in zip(instances[1:], regions, strict=True):
        inst.room = region_room.get(region, -1)
    _label_rooms(rooms, region_room, labels)
    materials = [
        Material(id=i, name=f"{p.name}", kind=p.kind, colour="", tile=1.0, image=p.image)
        for i, p in enumerate(all_parts)
    ]
    nav = dataclasses.replace(nav_config or NavConfig(), floor_z=0.0)
    explicit_nav = nav_config is not None
    metadata: dict[str, Any] = {
        "kind": KIND,
        "seed": None,
        "params": {"scene_id": spec.name, "floor_height": round(floor, 4) + 0.0},
        "dataset": str(dataset_path),
        "source": str(spec.source),
        "units": "metres, z up",
    }
    saved = spec.user_defined.get("astra_sim")
    if isinstance(saved, dict):
        instances, rooms, materials, saved_nav = _restore(saved, instances, rooms, materials, spec)
        nav = nav if explicit_nav else saved_nav
        metadata["astra_sim"] = saved.get("metadata", {})
    v, f, uv, inst, mat = scene_arrays
    try:
        return Scene(v, f, uv, inst, mat, instances, rooms, materials, metadata, nav)
    except ValueError as e:
        raise SceneFormatError(f"{spec.source}: {e}") from e


def floor_level(vertices: np.ndarray, faces: np.ndarray, hint: float | None, where: Path) -> float:
    """Height (our z, habitat y) of the floor: the area-weighted median height of upward
    faces near ``hint``, or, without one, on the level holding the most upward area.

    Raises:
        SceneFormatError: no upward-facing surface lies within FLOOR_SEARCH of the hint.
    """
    tris = vertices[faces]
    normal = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    area = np.linalg.norm(normal, axis=1)
    up = normal[:, 2] > _UP * np.maximum(area, 1e-300)
    z, weight = tris[up][:, :, 2].mean(1), area[up] / 2
    if hint is not None:
        near = np.abs(z - hint) <= FLOOR_SEARCH
        if not near.any():
            raise SceneFormatError(
                f"{where}: no floor within {FLOOR_SEARCH} m of height {hint:.3f} "
                f"(upward surfaces span {z.min(initial=np.inf):.2f} to "
                f"{z.max(initial=-np.inf):.2f} m)"
            )
        z, weight = z[near], weight[near]
    elif len(z):
        bins = np.floor(z / 0.05).astype(np.int64)
        levels, inverse = np.unique(bins, return_inverse=True)
        best = levels[np.argmax(np.bincount(inverse, weights=weight))]
        keep = np.abs(bins - best) <= 2
        z, weight = z[keep], weight[keep]
    else:
        raise SceneFormatError(f"{where}: the mesh has no upward-facing surface to drive on")
    order = np.argsort(z, kind="stable")
    cum = np.cumsum(weight[order])
    return float(z[order][np.searchsorted(cum, cum[-1] / 2)])


def _stage_semantics(
    spec: SceneSpec, render_tris: np.ndarray, strict: bool
) -> tuple[list[SemanticRow], np.ndarray, dict[int, str]]:
    """The table rows, each stage render triangle's habitat id (0 = unknown), and the room
    types the descriptor itself names per region (MP3D's labels; HM3D has none)."""
    n = len(render_tris)
    if spec.descriptor is None:
        return [], np.zeros(n, dtype=np.int64), {}
    if spec.descriptor.suffix == ".house":
        from astra_sim.scenes.habitat.house import house_semantics

        return house_semantics(spec, render_tris)
    if spec.descriptor.name == replica.INFO_NAME:
        rows, sem_tris, sem_ids = replica.replica_semantics(spec, strict)
        if sem_tris is None:
            return rows, np.full(n, replica.UNKNOWN, dtype=np.int64), {}
        return rows, _transfer(render_tris, sem_tris, sem_ids), {}
    rows = read_semantic_txt(spec.descriptor)
    if spec.semantic is None:
        return rows, np.zeros(n, dtype=np.int64), {}
    sem_tris, sem_colours = _semantic_mesh(spec)
    sem_ids = ids_of_colours(sem_colours, rows)
    present = set(np.unique(sem_colours).tolist())
    missing = [r for r in rows if r.colour not in present]
    if missing and strict:
        shown = ", ".join(f"line {r.line}: id {r.id} {r.colour:06X}" for r in missing[:5])
        raise SceneFormatError(
            f"{spec.descriptor}: {len(missing)} of {len(rows)} rows name colours that "
            f"{spec.semantic.name} does not have ({shown}); is the table from another scan?"
        )
    return rows, _transfer(render_tris, sem_tris, sem_ids), {}


def _label_rooms(rooms: list[Room], region_room: dict[int, int], labels: dict[int, str]) -> None:
    """Room types and names from the descriptor's own region labels, where it has them."""
    counts: dict[str, int] = {}
    for region, room_id in sorted(region_room.items(), key=lambda kv: kv[1]):
        room = rooms[room_id]
        room.type = labels.get(region, room.type)
        counts[room.type] = counts.get(room.type, 0) + 1
        room.name = f"{room.type.replace('_', ' ')} {counts[room.type]}"


def _semantic_mesh(spec: SceneSpec) -> tuple[np.ndarray, np.ndarray]:
    """Semantic triangles (T, 3, 3) in our frame and their sRGB colours (T,)."""
    if spec.semantic.suffix.lower() not in (".glb", ".gltf"):
        raise SceneFormatError(f"{spec.semantic}: semantic meshes must be glTF (.glb)")
    place = spec.stage
    if spec.semantic_up is not None:
        place = dataclasses.replace(place, up=spec.semantic_up, front=spec.semantic_front)
    tris, colours = [], []
    for prim in Gltf(spec.semantic).primitives():
        if prim.colors is None:
            raise SceneFormatError(
                f"{spec.semantic}: a primitive has no vertex colours (COLOR_0), which "
                "semantic meshes need"
            )
        tris.append(prim.positions[prim.faces])
        colours.append(linear_to_srgb_int(prim.colors[prim.faces[:, 0]]))
    if not tris:
        raise SceneFormatError(f"{spec.semantic}: holds no triangles")
    linear, offset = meshes.placement_matrix(place)
    return np.concatenate(tris) @ linear.T + offset, np.concatenate(colours)


def _transfer(render: np.ndarray, semantic: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Semantic id of each render triangle: one to one when both meshes hold the same
    triangles in the same order, else that of the nearest semantic triangle facing the same
    way (among the TRANSFER_CANDIDATES nearest centroids), so a floor triangle at a wall's
    foot does not take the wall's id."""
    if render.shape == semantic.shape and np.allclose(render, semantic, atol=1e-5):
        return ids.copy()
    k = min(TRANSFER_CANDIDATES, len(semantic))
    dist, near = cKDTree(semantic.mean(1)).query(render.mean(1), k=k, workers=-1)
    dist, near = dist.reshape(len(render), k), near.reshape(len(render), k)
    n_r, n_s = _unit_normals(render), _unit_normals(semantic)
    facing = np.abs(np.einsum("nj,nkj->nk", n_r, n_s[near]))
    score = dist + (facing < _SAME_FACING) * 1e3  # any same-facing candidate wins
    return ids[near[np.arange(len(render)), np.argmin(score, axis=1)]]


def _unit_normals(tris: np.ndarray) -> np.ndarray:
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)


def _instance_table(rows: list[SemanticRow], spec: SceneSpec):
    """Instances 1..N for the table rows (sorted by habitat id, so N consecutive ids keep
    their numbers), then one per placed object; and each one's habitat region."""
    instances = [Instance(id=VOID_INSTANCE, category="void")]
    regions: list[int] = []
    for row in rows:
        category = "_".join(row.category.lower().split()) or "unknown"
        attrs = {"habitat_id": str(row.id), "semantic_colour": f"{row.colour:06X}"}
        instances.append(
            Instance(id=len(instances), category=category, name=row.category, attributes=attrs)
        )
        regions.append(row.region)
    for obj in spec.objects:
        instances.append(Instance(id=len(instances), category=obj.name, name=obj.name))
        regions.append(-1)
    return instances, regions


def _assemble(parts: list[meshes.Part], face_instance: np.ndarray, floor: float):
    """Concatenate parts into scene arrays, floor at z = 0, with every vertex used and owned
    by one instance, in the order a saved scene reads back in (see ``io``)."""
    vertices, faces, uv, face_inst, face_mat = [], [], [], [], []
    first, base = 0, 0
    for m, part in enumerate(parts):
        count = len(part.faces)
        inst = np.asarray(face_instance[first : first + count], dtype=np.int64)
        first += count
        n_inst = int(inst.max()) + 1 if count else 1
        key = part.faces.reshape(-1) * n_inst + np.repeat(inst, 3)
        used, inverse = np.unique(key, return_inverse=True)
        v = part.vertices[used // n_inst]
        vertices.append(v)
        uv.append(part.uv[used // n_inst])
        faces.append(inverse.reshape(-1, 3) + base)
        face_inst.append(inst)
        face_mat.append(np.full(count, m, dtype=np.int32))
        base += len(v)
    v = np.concatenate(vertices)
    v[:, 2] -= floor
    return (
        v.astype(np.float32),
        np.concatenate(faces),
        np.concatenate(uv).astype(np.float32),
        np.concatenate(face_inst),
        np.concatenate(face_mat),
    )


def _footprints(v: np.ndarray, f: np.ndarray, face_inst: np.ndarray, n: int) -> np.ndarray:
    """(n, 6) per instance: xmin, ymin, xmax, ymax, zmin, zmax; NaN without triangles."""
    tris = v[f].astype(np.float64)
    lo, hi = tris.min(1), tris.max(1)
    box_lo = np.full((n, 3), np.inf)
    box_hi = np.full((n, 3), -np.inf)
    np.minimum.at(box_lo, face_inst, lo)
    np.maximum.at(box_hi, face_inst, hi)
    out = np.concatenate([box_lo[:, :2], box_hi[:, :2], box_lo[:, 2:], box_hi[:, 2:]], axis=1)
    out[~np.isfinite(box_lo).all(1)] = np.nan
    return out


def _place_instances(instances: list[Instance], footprints: np.ndarray) -> None:
    """Footprint centre (at its lowest point) and extent of each instance, from its
    triangles, rounded to 1e-4 m as generated scenes are."""
    for inst, (x0, y0, x1, y1, z0, z1) in zip(instances[1:], footprints[1:], strict=True):
        if not np.isfinite(x0):
            continue
        inst.position = tuple(round(float(c), 4) + 0.0 for c in ((x0 + x1) / 2, (y0 + y1) / 2, z0))
        inst.size = tuple(round(float(s), 4) + 0.0 for s in (x1 - x0, y1 - y0, z1 - z0))


def _restore(saved, instances, rooms, materials, spec):
    """Tables an astra-sim export kept in ``user_defined``, where they fit the files."""
    try:
        saved_instances = [Instance.from_json(d) for d in saved["instances"]]
        saved_rooms = [Room.from_json(d) for d in saved["rooms"]]
        saved_materials = saved["materials"]
        saved_nav = NavConfig(**saved["nav_config"])
    except (KeyError, TypeError, ValueError) as e:
        raise SceneFormatError(f"{spec.source}: malformed user_defined.astra_sim ({e!r})") from e
    if len(saved_instances) == len(instances):
        instances, rooms = saved_instances, saved_rooms
    if len(saved_materials) == len(materials):
        materials = [
            Material(
                id=i, name=m["name"], kind=m["kind"], colour=m["colour"], tile=float(m["tile"]),
                image=mat.image, params=m.get("params", {}),
            )
            for i, (m, mat) in enumerate(zip(saved_materials, materials, strict=True))
        ]  # fmt: skip
    return instances, rooms, materials, dataclasses.replace(saved_nav, floor_z=0.0)


def scene_tables(scene: Scene) -> dict[str, Any]:
    """What an export keeps in ``user_defined.astra_sim`` for ``_restore``."""
    return {
        "format": "astra-sim-scene",
        "metadata": scene.metadata,
        "nav_config": asdict(scene.nav_config),
        "materials": [m.to_json() for m in scene.materials],
        "rooms": [r.to_json() for r in scene.rooms],
        "instances": [i.to_json() for i in scene.instances],
    }
