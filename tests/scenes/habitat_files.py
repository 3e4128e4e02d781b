"""Small habitat-format files written the way other tools write them (trimesh for GLBs, by
hand for JSON and tables), so the readers are tested against files they did not write.

The room, in our frame (x forward, y left, z up): a 6 x 4 m floor at z = 0 with walls, a
0.4 x 0.4 x 1 m pillar centred at (2, 1) and a refrigerator at (5, 3). Files are y-up
(habitat's world: x, z, -y), optionally raised by ``lift`` metres.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

PILLAR_XY = (2.0, 1.0)
FRIDGE_XY = (5.0, 3.0)
# name, category, region, linear vertex colour bytes of the semantic mesh
PARTS = (
    ("floor", "floor", 0, (200, 200, 30)),
    ("walls", "wall", 0, (30, 30, 200)),
    ("pillar", "pillar", 0, (200, 30, 30)),
    ("fridge", "refrigerator", 1, (30, 200, 30)),
)
OURS_TO_HABITAT = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], float)


def _box(lo, hi) -> trimesh.Trimesh:
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return trimesh.creation.box(
        extents=hi - lo, transform=trimesh.transformations.translation_matrix((lo + hi) / 2)
    )


def room_meshes() -> dict[str, trimesh.Trimesh]:
    """The room's parts in our z-up frame."""
    floor = trimesh.Trimesh(
        vertices=[[0, 0, 0], [6, 0, 0], [6, 4, 0], [0, 4, 0]],
        faces=[[0, 1, 2], [0, 2, 3]],
        process=False,
    )
    walls = trimesh.util.concatenate(
        [_box((-0.1, -0.1, 0), (6.1, 0, 2.5)), _box((-0.1, 4, 0), (6.1, 4.1, 2.5)),
         _box((-0.1, 0, 0), (0, 4, 2.5)), _box((6, 0, 0), (6.1, 4, 2.5))]
    )  # fmt: skip
    px, py = PILLAR_XY
    fx, fy = FRIDGE_XY
    return {
        "floor": floor,
        "walls": walls,
        "pillar": _box((px - 0.2, py - 0.2, 0), (px + 0.2, py + 0.2, 1.0)),
        "fridge": _box((fx - 0.3, fy - 0.3, 0), (fx + 0.3, fy + 0.3, 1.8)),
    }


def _yup(mesh: trimesh.Trimesh, lift: float) -> trimesh.Trimesh:
    m = mesh.copy()
    m.apply_transform(OURS_TO_HABITAT)
    m.apply_translation((0, lift, 0))
    return m


def srgb_hex(linear_bytes: tuple[int, int, int]) -> str:
    """The sRGB hex habitat matches for linear 8-bit vertex colours (its toSrgb)."""
    out = []
    for b in linear_bytes:
        c = b / 255
        s = 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
        out.append(round(s * 255))
    return "".join(f"{v:02X}" for v in out)


def write_render_glb(path: Path, lift: float = 0.0) -> Path:
    """Textured floor, grey vertex-coloured walls and objects, y-up."""
    parts = room_meshes()
    scene = trimesh.Scene()
    checker = np.kron([[1, 0], [0, 1]], np.ones((8, 8)))[..., None] * np.array([120, 60, 20])
    image = Image.fromarray((checker + 60).astype(np.uint8))
    floor = _yup(parts["floor"], lift)
    floor.visual = trimesh.visual.TextureVisuals(uv=[[0, 0], [3, 0], [3, 2], [0, 2]], image=image)
    scene.add_geometry(floor, node_name="floor", geom_name="floor")
    for name in ("walls", "pillar", "fridge"):
        m = _yup(parts[name], lift)
        m.visual.vertex_colors = np.tile([150, 150, 150, 255], (len(m.vertices), 1))
        scene.add_geometry(m, node_name=name, geom_name=name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(scene.export(file_type="glb"))
    return path


def write_semantic(folder: Path, name: str, lift: float = 0.0, extra_row: bool = False):
    """``name.semantic.glb`` (trimesh, uint8 COLOR_0) and ``name.semantic.txt``."""
    parts = room_meshes()
    meshes, lines = [], ["HM3D Semantic Annotations"]
    for i, (part, category, region, colour) in enumerate(PARTS, start=1):
        m = _yup(parts[part], lift)
        m.visual = trimesh.visual.ColorVisuals(
            m, vertex_colors=np.tile([*colour, 255], (len(m.vertices), 1))
        )
        meshes.append(m)
        lines.append(f'{i},{srgb_hex(colour)},"{category}",{region}')
    if extra_row:
        lines.append('5,123456,"ghost, with comma",1')
    folder.mkdir(parents=True, exist_ok=True)
    merged = trimesh.util.concatenate(meshes)
    (folder / f"{name}.semantic.glb").write_bytes(merged.export(file_type="glb"))
    (folder / f"{name}.semantic.txt").write_text("\n".join(lines) + "\n")


def write_room_dataset(
    root: Path, lift: float = 0.0, extra_row: bool = False, render_name: str | None = None
) -> Path:
    """A scene dataset with one stage config (y-up, HM3D semantics); returns the config."""
    folder = root / "room"
    write_render_glb(folder / "room.glb", lift)
    write_semantic(folder, "room", lift, extra_row)
    stage = {
        "render_asset": render_name or "room.glb",
        "semantic_asset": "room.semantic.glb",
        "semantic_descriptor_filename": "room.semantic.txt",
        "up": [0, 1, 0],
        "front": [0, 0, -1],
    }
    (folder / "room.stage_config.json").write_text(json.dumps(stage))
    config = {"stages": {"paths": {".json": ["room"]}}}
    path = root / "test.scene_dataset_config.json"
    path.write_text(json.dumps(config))
    return path


def write_episodes(path: Path, episodes: list[dict], **top) -> Path:
    """A habitat-lab episode file (gzip JSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"episodes": episodes, **top}).encode()))
    return path


def pointnav_episode(
    eid: str,
    start_xy,
    goal_xy,
    yaw_t: float = 0.0,
    height: float = 0.0,
    scene: str = "room/room.glb",
) -> dict:
    """A PointNav-v1 episode in habitat coordinates from our (x, y) points; the agent turned
    by ``yaw_t`` about +y."""
    return {
        "episode_id": eid,
        "scene_id": scene,
        "start_position": [start_xy[0], height, -start_xy[1]],
        "start_rotation": [0.0, float(np.sin(yaw_t / 2)), 0.0, float(np.cos(yaw_t / 2))],
        "info": {"geodesic_distance": float(np.hypot(*np.subtract(goal_xy, start_xy)))},
        "goals": [{"position": [goal_xy[0], height, -goal_xy[1]], "radius": None}],
    }


def write_dense_scan(
    folder: Path,
    scene,
    max_edge: float = 0.15,
    jitter: float = 0.002,
    seed: int = 0,
    semantic_edge: float | None = None,
):
    """A generated scene resampled like a scan: every triangle split until no edge exceeds
    ``max_edge`` (0.15 m gives ~290k triangles for a home), vertices jittered by ``jitter``
    metres, vertex colours instead of textures; written as bare ``scan.glb`` (y-up) with
    HM3D ``scan.semantic.glb`` + ``scan.semantic.txt`` beside it. With ``semantic_edge``
    the semantic mesh is triangulated on its own (as a scan's may be), unjittered.

    Returns:
        (path of scan.glb, per-triangle instance ids of the dense mesh).
    """
    from astra_sim.scenes.habitat.export import semantic_rows
    from astra_sim.scenes.habitat.gltf import vertex_colour_glb
    from astra_sim.scenes.habitat.semantics import (
        colour_of_id,
        semantic_txt_bytes,
        srgb_int_to_linear,
    )

    v, f, index = trimesh.remesh.subdivide_to_size(
        scene.vertices.astype(np.float64),
        scene.faces,
        max_edge=max_edge,
        max_iter=12,
        return_index=True,
    )
    v = v + np.random.default_rng(seed).normal(0.0, jitter, v.shape)
    face_instance = scene.face_instance[index]
    tint = np.array([m.image.reshape(-1, 3).mean(0) for m in scene.materials])
    colours = np.zeros((len(v), 4), np.uint8)
    colours[:, 3] = 255
    colours[f.reshape(-1), :3] = np.repeat(tint[scene.face_material[index]], 3, axis=0)
    yup = v @ OURS_TO_HABITAT[:3, :3].T
    folder.mkdir(parents=True, exist_ok=True)
    render = trimesh.Trimesh(yup, f, vertex_colors=colours, process=False)
    (folder / "scan.glb").write_bytes(render.export(file_type="glb"))
    sv, sf, sem_instance = yup, f, face_instance
    if semantic_edge is not None:
        sv, sf, sidx = trimesh.remesh.subdivide_to_size(
            scene.vertices.astype(np.float64), scene.faces, semantic_edge, 12, return_index=True
        )
        sv, sem_instance = sv @ OURS_TO_HABITAT[:3, :3].T, scene.face_instance[sidx]
    vertex_instance = np.zeros(len(sv), np.int64)
    vertex_instance[sf.reshape(-1)] = np.repeat(sem_instance, 3)  # one instance per vertex
    linear = srgb_int_to_linear(colour_of_id(vertex_instance))
    (folder / "scan.semantic.glb").write_bytes(vertex_colour_glb(sv, sf, linear))
    (folder / "scan.semantic.txt").write_bytes(semantic_txt_bytes(semantic_rows(scene)))
    return folder / "scan.glb", face_instance
