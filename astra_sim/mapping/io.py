"""Save and load maps: ``map.json`` plus one PNG per node, camera and kind of image.

Layout of a map directory::

    map.json                          nodes (pose, landmark ids), edges, landmarks, metadata
    images/node_00012_cam0.png        RGB, 8-bit
    images/node_00012_cam0_depth.png  depth, 16-bit grey, millimetres (0 = no hit)

PNGs keep the images viewable and lossless; map.json is written last, so a directory without
it is an interrupted save, never mistaken for a map.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from astra_sim.core.errors import AstraSimError
from astra_sim.core.fileio import atomic_write
from astra_sim.mapping.graph import Landmark, Node, TopoSemanticMap, depth_to_mm, mm_to_depth

FORMAT_VERSION = 1
MAP_FILE = "map.json"
IMAGE_DIR = "images"
_MAX_COORD = 1e6  # metres: past this a coordinate is a corrupted file, not a building


class MapFormatError(AstraSimError, ValueError):
    """A map directory is missing, malformed, or inconsistent with its images."""


def image_name(node_id: int, camera: int, depth: bool = False) -> str:
    """File name of a node's image, e.g. ``node_00012_cam0.png``."""
    return f"node_{node_id:05d}_cam{camera}{'_depth' if depth else ''}.png"


def save_map(tmap: TopoSemanticMap, directory: str | Path) -> Path:
    """Write ``tmap`` into ``directory`` (created if needed); returns the map.json path."""
    directory = Path(directory)
    for node in tmap.nodes:
        for c in range(node.rgb.shape[0]):
            atomic_write(directory / IMAGE_DIR / image_name(node.id, c), _png(node.rgb[c]))
            mm = depth_to_mm(node.depth[c])
            atomic_write(directory / IMAGE_DIR / image_name(node.id, c, True), _png(mm))
    doc = {
        "format_version": FORMAT_VERSION,
        "metadata": tmap.metadata,
        "nodes": [_node_json(node) for node in tmap.nodes],
        "edges": tmap.edges.tolist(),
        "landmarks": [_landmark_json(m) for m in tmap.landmarks],
    }
    text = json.dumps(doc, indent=1, allow_nan=False)
    path = atomic_write(directory / MAP_FILE, text.encode("utf-8"))
    written = {
        image_name(node.id, c, d)
        for node in tmap.nodes
        for c in range(node.rgb.shape[0])
        for d in (False, True)
    }
    for stale in (directory / IMAGE_DIR).glob("node_*.png"):
        if stale.name not in written:  # left by an earlier, larger map in this directory
            stale.unlink()
    return path


def load_map(directory: str | Path) -> TopoSemanticMap:
    """Load a map saved by `save_map`.

    Raises:
        MapFormatError: naming the file and what is wrong with it.
    """
    directory = Path(directory)
    path = directory / MAP_FILE
    if not directory.is_dir():
        raise MapFormatError(f"{directory}: no such map directory")
    if not path.is_file():
        raise MapFormatError(f"{path}: missing; {directory} is not a saved map")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MapFormatError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(doc, dict):
        raise MapFormatError(f"{path}: expected a JSON object at the top level")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise MapFormatError(f"{path}: format_version {version!r}, expected {FORMAT_VERSION}")
    try:
        nodes = [_node_from(d, directory) for d in doc["nodes"]]
        landmarks = [_landmark_from(d) for d in doc["landmarks"]]
        edges = np.asarray(doc["edges"], dtype=np.int64).reshape(-1, 2)
        return TopoSemanticMap(nodes, edges, landmarks, doc["metadata"])
    except MapFormatError:
        raise
    except KeyError as e:
        raise MapFormatError(f"{path}: missing key {e}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as e:
        raise MapFormatError(f"{path}: malformed map ({e})") from None


# ------------------------------------------------------------------------ helpers
def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    # Level 3 is within 1 % of the default's size at less than half its time.
    Image.fromarray(image).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def _read_png(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    if not path.is_file():
        raise MapFormatError(f"{path}: missing image")
    try:
        with Image.open(path) as img:
            arr = np.asarray(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        # PIL reports some broken chunks as SyntaxError and absurd sizes as a "bomb".
        raise MapFormatError(f"{path}: unreadable image ({e})") from None
    if arr.dtype.kind not in "ui" or arr.shape != shape:
        raise MapFormatError(f"{path}: expected a {shape} image, got {arr.shape} {arr.dtype}")
    return arr


def _node_json(node: Node) -> dict[str, Any]:
    return {
        "id": node.id,
        "pose": [float(v) for v in node.pose],
        "cameras": int(node.rgb.shape[0]),
        "image_size": [int(node.rgb.shape[1]), int(node.rgb.shape[2])],
        "landmarks": list(node.landmarks),
        "landmark_pixels": list(node.landmark_pixels),
        "step": node.step,
        "timestamp": node.timestamp,
    }


def _node_from(d: dict[str, Any], directory: Path) -> Node:
    node_id, cameras = int(d["id"]), int(d["cameras"])
    h, w = (int(v) for v in d["image_size"])
    pose = np.asarray(d["pose"], dtype=np.float64)
    if pose.shape != (6,) or not (np.abs(pose) <= _MAX_COORD).all():  # NaN fails too
        raise ValueError(f"node {node_id}: pose must be 6 finite numbers, got {d['pose']!r}")
    images = directory / IMAGE_DIR
    rgb = [_read_png(images / image_name(node_id, c), (h, w, 3)) for c in range(cameras)]
    mm = [_read_png(images / image_name(node_id, c, True), (h, w)) for c in range(cameras)]
    timestamp = float(d["timestamp"])
    if not math.isfinite(timestamp):
        raise ValueError(f"node {node_id}: timestamp must be finite")
    return Node(
        id=node_id,
        pose=pose,
        rgb=np.stack(rgb).astype(np.uint8),
        depth=mm_to_depth(np.stack(mm)),
        landmarks=tuple(int(v) for v in d["landmarks"]),
        landmark_pixels=tuple(int(v) for v in d["landmark_pixels"]),
        step=int(d["step"]),
        timestamp=timestamp,
    )


def _landmark_json(m: Landmark) -> dict[str, Any]:
    return {
        "id": m.id,
        "instance_id": m.instance_id,
        "category": m.category,
        "name": m.name,
        "attributes": dict(m.attributes),
        "description": m.description,
        "text": m.text,
        "position": [float(v) for v in m.position],
        "nodes": list(m.nodes),
        "room": m.room,
    }


def _landmark_from(d: dict[str, Any]) -> Landmark:
    position = tuple(float(v) for v in d["position"])
    if len(position) != 3 or not all(abs(v) <= _MAX_COORD for v in position):
        raise ValueError(f"landmark {d.get('id')}: position must be 3 finite numbers")
    attributes = d["attributes"]
    if not isinstance(attributes, dict):
        raise ValueError(f"landmark {d.get('id')}: attributes must be an object")
    return Landmark(
        id=int(d["id"]),
        instance_id=int(d["instance_id"]),
        category=str(d["category"]),
        name=str(d["name"]),
        attributes={str(k): str(v) for k, v in attributes.items()},
        description=str(d["description"]),
        text=str(d["text"]),
        position=position,  # type: ignore[arg-type]
        nodes=tuple(int(v) for v in d["nodes"]),
        room=str(d.get("room", "")),  # maps saved before rooms were kept have none
    )


save = save_map
"""Alias of `save_map`: ``mapping.io.save(map, dir)``."""
load = load_map
"""Alias of `load_map`: ``mapping.io.load(dir)``."""
