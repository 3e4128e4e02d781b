"""Scene files: ``scene.glb`` (textured geometry) + ``scene.json`` (semantics), or a plain mesh.

The GLB follows glTF's y-up convention so any glTF viewer shows the scene upright; we
rotate to our z-up frame on the way in and out (an exact permutation and sign flip).
Each material is one mesh in the GLB, and a custom vertex attribute ``_INSTANCE`` carries
the semantic instance id, so the file alone still knows which triangle is which object.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.errors import SceneFormatError
from astra_sim.core.fileio import atomic_write
from astra_sim.scenes.model import VOID_INSTANCE, Instance, Material, Room, Scene
from astra_sim.scenes.navigation import NavConfig

FORMAT = "astra-sim-scene"
FORMAT_VERSION = 1
GLB_NAME = "scene.glb"
JSON_NAME = "scene.json"
MESH_SUFFIXES = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off")


def _zup_to_yup(v: np.ndarray) -> np.ndarray:
    return np.stack([v[:, 0], v[:, 2], -v[:, 1]], axis=1)


def _yup_to_zup(v: np.ndarray) -> np.ndarray:
    return np.stack([v[:, 0], -v[:, 2], v[:, 1]], axis=1)


def mesh_digest(scene: Scene) -> str:
    """SHA-256 over the geometry arrays: ties a scene.json to the scene.glb it was saved with."""
    h = hashlib.sha256()
    for arr in (scene.vertices, scene.faces, scene.uv, scene.face_instance, scene.face_material):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def scene_to_json(scene: Scene) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "metadata": scene.metadata,
        "nav_config": asdict(scene.nav_config),
        "mesh": {
            "file": GLB_NAME,
            "vertices": len(scene.vertices),
            "faces": len(scene.faces),
            "sha256": mesh_digest(scene),
        },
        "materials": [m.to_json() for m in scene.materials],
        "rooms": [r.to_json() for r in scene.rooms],
        "instances": [i.to_json() for i in scene.instances],
    }


def _glb_bytes(scene: Scene) -> bytes:
    import trimesh
    from PIL import Image

    out = trimesh.Scene()
    for mat in scene.materials:
        sel = np.flatnonzero(scene.face_material == mat.id)
        if len(sel) == 0:
            continue
        used, local = np.unique(scene.faces[sel], return_inverse=True)
        local = local.reshape(-1)  # numpy 2 keeps the input's shape
        inst = np.zeros(len(used), dtype=np.int64) - 1
        inst[local] = np.repeat(scene.face_instance[sel], 3)
        if not np.array_equal(inst[local], np.repeat(scene.face_instance[sel], 3)):
            raise ValueError(
                f"material {mat.name}: a vertex is shared by two instances; "
                "the GLB stores instance ids per vertex"
            )
        visual = trimesh.visual.TextureVisuals(
            uv=scene.uv[used],
            material=trimesh.visual.material.PBRMaterial(
                name=mat.name,
                baseColorTexture=Image.fromarray(mat.image),
                metallicFactor=0.0,
                roughnessFactor=1.0,
            ),
        )
        mesh = trimesh.Trimesh(
            vertices=_zup_to_yup(scene.vertices[used]),
            faces=local.reshape(-1, 3),
            visual=visual,
            process=False,
        )
        mesh.vertex_attributes["_INSTANCE"] = inst.astype(np.float32)
        name = f"material_{mat.id:04d}"
        out.add_geometry(mesh, node_name=name, geom_name=name)
    return out.export(file_type="glb")


def save_scene(scene: Scene, directory: str | Path) -> Path:
    """Write ``scene.glb`` and ``scene.json`` into ``directory``; returns the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    glb = _glb_bytes(scene)
    text = json.dumps(scene_to_json(scene), indent=1, sort_keys=True) + "\n"
    atomic_write(directory / GLB_NAME, glb)
    atomic_write(directory / JSON_NAME, text.encode("utf-8"))
    return directory


def load_scene(path: str | Path) -> Scene:
    """Load a scene directory (scene.json + scene.glb) or a plain mesh file."""
    path = Path(path)
    if path.is_dir():
        return _load_dir(path)
    if path.suffix.lower() in MESH_SUFFIXES and path.is_file():
        return load_mesh(path)
    if not path.exists():
        raise SceneFormatError(f"{path}: no such scene directory or mesh file")
    raise SceneFormatError(
        f"{path}: not a scene directory or a mesh file ({', '.join(MESH_SUFFIXES)})"
    )


def _require(d: dict[str, Any], key: str, where: Path) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise SceneFormatError(f"{where}: missing key {key!r}")
    return d[key]


def _load_dir(directory: Path) -> Scene:
    jpath, gpath = directory / JSON_NAME, directory / GLB_NAME
    if not jpath.is_file():
        hint = f"; to load the bare mesh use {gpath}" if gpath.is_file() else ""
        raise SceneFormatError(f"{directory}: no {JSON_NAME} in this directory{hint}")
    try:
        data = json.loads(jpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise SceneFormatError(f"{jpath}: corrupted scene.json ({e})") from e
    try:
        return _parse_dir(directory, data)
    except SceneFormatError:
        raise
    except (TypeError, KeyError, ValueError, AttributeError, IndexError, OverflowError) as e:
        # A value of the wrong type or shape anywhere in the sidecar: name the file.
        raise SceneFormatError(f"{jpath}: malformed entry ({type(e).__name__}: {e})") from e


def _parse_dir(directory: Path, data: Any) -> Scene:
    jpath, gpath = directory / JSON_NAME, directory / GLB_NAME
    if _require(data, "format", jpath) != FORMAT:
        raise SceneFormatError(f"{jpath}: format is {data['format']!r}, expected {FORMAT!r}")
    version = _require(data, "format_version", jpath)
    if isinstance(version, bool) or not isinstance(version, int):
        raise SceneFormatError(f"{jpath}: format_version must be an integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise SceneFormatError(
            f"{jpath}: format_version {data['format_version']} is newer "
            f"than this astra-sim reads ({FORMAT_VERSION})"
        )
    mesh_info = _require(data, "mesh", jpath)
    if not gpath.is_file():
        raise SceneFormatError(f"{directory}: {JSON_NAME} refers to {GLB_NAME}, which is missing")
    try:
        materials_json = _require(data, "materials", jpath)
        instances = [Instance.from_json(d) for d in _require(data, "instances", jpath)]
        rooms = [Room.from_json(d) for d in _require(data, "rooms", jpath)]
        nav = NavConfig(**_require(data, "nav_config", jpath))
        metadata = _require(data, "metadata", jpath)
    except (TypeError, KeyError, ValueError) as e:
        if isinstance(e, SceneFormatError):
            raise
        raise SceneFormatError(f"{jpath}: malformed entry ({e!r})") from e
    parts = _read_glb(gpath)
    vertices, faces, uv, face_inst, face_mat, materials = [], [], [], [], [], []
    offset = 0
    for m in materials_json:
        mid = int(_require(m, "id", jpath))
        image = None
        if f"material_{mid:04d}" in parts:
            v, f, t, inst, image = parts[f"material_{mid:04d}"]
            vertices.append(v)
            faces.append(f + offset)
            uv.append(t)
            face_inst.append(inst[f[:, 0]])
            face_mat.append(np.full(len(f), mid, dtype=np.int32))
            offset += len(v)
        if image is None:
            image = np.zeros(tuple(m.get("image_shape", (1, 1, 3))), dtype=np.uint8)
        materials.append(
            Material(
                id=mid,
                name=m["name"],
                kind=m["kind"],
                colour=m["colour"],
                tile=float(m["tile"]),
                image=image,
                params=m.get("params", {}),
            )
        )
    try:
        scene = Scene(
            vertices=np.concatenate(vertices) if vertices else np.zeros((0, 3)),
            faces=np.concatenate(faces) if faces else np.zeros((0, 3)),
            uv=np.concatenate(uv) if uv else np.zeros((0, 2)),
            face_instance=np.concatenate(face_inst) if face_inst else np.zeros(0),
            face_material=np.concatenate(face_mat) if face_mat else np.zeros(0),
            instances=instances,
            rooms=rooms,
            materials=materials,
            metadata=metadata,
            nav_config=nav,
        )
    except ValueError as e:
        raise SceneFormatError(f"{directory}: {e}") from e
    if mesh_digest(scene) != mesh_info.get("sha256"):
        raise SceneFormatError(
            f"{directory}: {GLB_NAME} does not match {JSON_NAME} "
            "(mesh checksum differs); re-save the scene"
        )
    return scene


def _read_glb(path: Path) -> dict[str, tuple[np.ndarray, ...]]:
    """Per GLB node name: z-up vertices, faces, uv, per-vertex instance ids, texture."""
    import trimesh

    try:
        loaded = trimesh.load(path, force="scene", process=False)
    except Exception as e:  # trimesh raises many types on a broken file
        raise SceneFormatError(f"{path}: cannot read the mesh ({e})") from e
    out = {}
    for node in loaded.graph.nodes_geometry:
        transform, geom_name = loaded.graph[node]
        mesh = loaded.geometry[geom_name].copy()
        if not np.allclose(transform, np.eye(4)):
            mesh.apply_transform(transform)
        out[node] = _mesh_arrays(mesh)
    return out


def _mesh_arrays(mesh: Any) -> tuple[np.ndarray, ...]:
    v = _yup_to_zup(np.asarray(mesh.vertices, dtype=np.float64)).astype(np.float32)
    f = np.asarray(mesh.faces, dtype=np.int32)
    uv = getattr(mesh.visual, "uv", None)
    uv = np.zeros((len(v), 2), np.float32) if uv is None else np.asarray(uv, np.float32)
    inst = mesh.vertex_attributes.get("_INSTANCE")
    inst = np.zeros(len(v), np.int32) if inst is None else np.rint(inst).astype(np.int32).ravel()
    return v, f, uv, inst, _mesh_image(mesh)


def _mesh_image(mesh: Any) -> np.ndarray:
    """The base-colour texture, or a small swatch of the mesh's flat colour."""
    material = getattr(mesh.visual, "material", None)
    tex = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
    if tex is not None:
        return np.asarray(tex.convert("RGB"), dtype=np.uint8).copy()
    colour = np.array([180, 180, 180], dtype=np.uint8)
    if material is not None and getattr(material, "baseColorFactor", None) is not None:
        colour = np.asarray(material.baseColorFactor, dtype=np.uint8)[:3]
    elif getattr(mesh.visual, "kind", None) in ("face", "vertex"):
        colour = np.asarray(mesh.visual.face_colors, dtype=np.float64)[:, :3].mean(0)
        colour = colour.astype(np.uint8)
    return np.broadcast_to(colour, (4, 4, 3)).copy()


def load_mesh(path: str | Path, up: str = "auto") -> Scene:
    """A plain mesh as a Scene with no semantics: one material per mesh, instance 0 everywhere.

    Args:
        path: a GLB/glTF/OBJ/PLY/STL/OFF file.
        up: the file's up axis, ``"y"`` or ``"z"``; ``"auto"`` is y for glTF, z otherwise.
    """
    import trimesh

    path = Path(path)
    if up == "auto":
        up = "y" if path.suffix.lower() in (".glb", ".gltf") else "z"
    if up not in ("y", "z"):
        raise ValueError(f"up must be 'y', 'z' or 'auto', got {up!r}")
    try:
        loaded = trimesh.load(path, force="scene", process=False)
        meshes = loaded.dump(concatenate=False)
    except Exception as e:
        raise SceneFormatError(f"{path}: cannot read the mesh ({e})") from e
    meshes = [m for m in meshes if isinstance(m, trimesh.Trimesh) and len(m.faces)]
    if not meshes:
        raise SceneFormatError(f"{path}: holds no triangles")
    vertices, faces, uv, face_mat, materials, offset = [], [], [], [], [], 0
    for i, mesh in enumerate(meshes):
        v, f, t, _, image = _mesh_arrays(mesh)
        if up == "z":
            v = np.asarray(mesh.vertices, dtype=np.float32)
        vertices.append(v)
        faces.append(f + offset)
        uv.append(t)
        face_mat.append(np.full(len(f), i, np.int32))
        materials.append(
            Material(id=i, name=f"mesh_{i}", kind="mesh", colour="", tile=1.0, image=image)
        )
        offset += len(v)
    return Scene(
        vertices=np.concatenate(vertices),
        faces=np.concatenate(faces),
        uv=np.concatenate(uv),
        face_instance=np.full(sum(len(f) for f in faces), VOID_INSTANCE),
        face_material=np.concatenate(face_mat),
        instances=[Instance(id=VOID_INSTANCE, category="void")],
        rooms=[],
        materials=materials,
        metadata={"kind": "mesh", "seed": None, "source": str(path), "up_axis": up},
    )
