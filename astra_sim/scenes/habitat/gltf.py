"""The few glTF 2.0 pieces trimesh does not give exactly: raw vertex colours, KTX2 images.

habitat-sim reads a semantic mesh's ``COLOR_0`` as linear floats and converts them to sRGB
bytes before matching the hex colours of the ``.semantic.txt`` (``BaseMesh::
convertMeshColors``). trimesh rounds colours to 8-bit linear on load, which merges distinct
dark sRGB colours, so semantic meshes are read here, accessor by accessor. The writer
makes the same kind of file: one triangle mesh with float ``COLOR_0``. Render meshes
(textures, materials, UVs) still go through trimesh.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.errors import SceneFormatError

_GLB_MAGIC = 0x46546C67  # "glTF"
_CHUNK_JSON, _CHUNK_BIN = 0x4E4F534A, 0x004E4942
_COMPONENTS = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16,
               5125: np.uint32, 5126: np.float32}  # fmt: skip
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_TRIANGLES = 4


@dataclass
class Primitive:
    """One triangle primitive in the asset's frame (node transforms applied).

    Attributes:
        positions: (N, 3) float64.
        faces: (F, 3) int64 vertex indices.
        colors: (N, 3) float64 linear RGB in [0, 1] from ``COLOR_0``, or None.
    """

    positions: np.ndarray
    faces: np.ndarray
    colors: np.ndarray | None


class Gltf:
    """A parsed glTF file: its JSON and the bytes of each buffer."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            data = self.path.read_bytes()
        except OSError as e:
            raise SceneFormatError(f"{self.path}: cannot read ({e.strerror})") from e
        binary = b""
        if len(data) >= 12 and struct.unpack_from("<I", data)[0] == _GLB_MAGIC:
            self.json, binary = self._split_glb(data)
        else:
            try:
                self.json = json.loads(data)
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise SceneFormatError(f"{self.path}: neither a GLB nor glTF JSON ({e})") from e
        self.buffers = [self._buffer(b, binary) for b in self.json.get("buffers", [])]

    def _split_glb(self, data: bytes) -> tuple[dict[str, Any], bytes]:
        _, version, length = struct.unpack_from("<III", data)
        if version != 2 or length > len(data):
            raise SceneFormatError(
                f"{self.path}: GLB version {version}, length {length} of {len(data)} bytes: "
                "only complete glTF 2.0 files are read"
            )
        offset, doc, binary = 12, None, b""
        while offset + 8 <= length:
            size, kind = struct.unpack_from("<II", data, offset)
            chunk = data[offset + 8 : offset + 8 + size]
            if kind == _CHUNK_JSON:
                try:
                    doc = json.loads(chunk)
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise SceneFormatError(f"{self.path}: broken GLB JSON chunk ({e})") from e
            elif kind == _CHUNK_BIN and not binary:
                binary = chunk
            offset += 8 + size
        if doc is None:
            raise SceneFormatError(f"{self.path}: GLB without a JSON chunk")
        return doc, binary

    def _buffer(self, spec: dict[str, Any], binary: bytes) -> bytes:
        uri = spec.get("uri")
        if uri is None:
            return binary
        if uri.startswith("data:"):
            return base64.b64decode(uri.split(",", 1)[1])
        try:
            return (self.path.parent / uri).read_bytes()
        except OSError as e:
            raise SceneFormatError(f"{self.path}: buffer {uri!r} is unreadable ({e})") from e

    def accessor(self, index: int) -> np.ndarray:
        """Accessor ``index`` as an (count, width) array of its component type."""
        acc = self.json["accessors"][index]
        if "sparse" in acc:
            raise SceneFormatError(f"{self.path}: sparse accessor {index} is not supported")
        dtype = np.dtype(_COMPONENTS[acc["componentType"]])
        width, count = _WIDTH[acc["type"]], int(acc["count"])
        if "bufferView" not in acc:
            return np.zeros((count, width), dtype)
        view = self.json["bufferViews"][acc["bufferView"]]
        buf = self.buffers[view.get("buffer", 0)]
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
        stride = view.get("byteStride") or dtype.itemsize * width
        if count and start + stride * (count - 1) + dtype.itemsize * width > len(buf):
            raise SceneFormatError(f"{self.path}: accessor {index} runs past its buffer")
        raw = np.frombuffer(buf, np.uint8, count * stride if count else 0, start)
        rows = raw.reshape(count, stride)[:, : dtype.itemsize * width] if count else raw
        return np.ascontiguousarray(rows).view(dtype).reshape(count, width)

    def primitives(self) -> list[Primitive]:
        """Every triangle primitive of the default scene, in the asset's frame."""
        out: list[Primitive] = []
        scenes = self.json.get("scenes") or [
            {"nodes": list(range(len(self.json.get("nodes", []))))}
        ]
        roots = scenes[self.json.get("scene", 0)].get("nodes", [])
        stack = [(int(n), np.eye(4)) for n in roots]
        while stack:
            index, parent = stack.pop()
            node = self.json["nodes"][index]
            world = parent @ _node_matrix(node)
            if "mesh" in node:
                out += self._mesh(int(node["mesh"]), world)
            stack += [(int(c), world) for c in node.get("children", [])]
        return out

    def _mesh(self, index: int, world: np.ndarray) -> list[Primitive]:
        out = []
        for prim in self.json["meshes"][index].get("primitives", []):
            if prim.get("mode", _TRIANGLES) != _TRIANGLES or "POSITION" not in prim["attributes"]:
                continue
            pos = self.accessor(prim["attributes"]["POSITION"]).astype(np.float64)
            pos = pos @ world[:3, :3].T + world[:3, 3]
            if "indices" in prim:
                faces = self.accessor(prim["indices"]).astype(np.int64).reshape(-1, 3)
            else:
                faces = np.arange(len(pos) - len(pos) % 3, dtype=np.int64).reshape(-1, 3)
            if len(faces) and (faces.min() < 0 or faces.max() >= len(pos)):
                raise SceneFormatError(f"{self.path}: mesh {index} indexes missing vertices")
            colors = None
            if "COLOR_0" in prim["attributes"]:
                raw = self.accessor(prim["attributes"]["COLOR_0"])
                colors = _normalised(raw)[:, :3]
            out.append(Primitive(pos, faces, colors))
        return out


def _normalised(raw: np.ndarray) -> np.ndarray:
    if raw.dtype == np.float32:
        return raw.astype(np.float64)
    return raw.astype(np.float64) / float(np.iinfo(raw.dtype).max)


def _node_matrix(node: dict[str, Any]) -> np.ndarray:
    if "matrix" in node:
        return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T  # column-major
    m = np.eye(4)
    x, y, z, w = node.get("rotation", (0.0, 0.0, 0.0, 1.0))
    rot = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    m[:3, :3] = rot * np.asarray(node.get("scale", (1.0, 1.0, 1.0)), dtype=np.float64)
    m[:3, 3] = node.get("translation", (0.0, 0.0, 0.0))
    return m


def vertex_colour_glb(positions: np.ndarray, faces: np.ndarray, colors: np.ndarray) -> bytes:
    """A GLB of one triangle mesh with float ``COLOR_0`` (linear RGB), as semantic meshes are.

    Args:
        positions: (N, 3) vertex positions, written as float32.
        faces: (F, 3) vertex indices, written as uint32.
        colors: (N, 3) linear RGB in [0, 1], written as float32.
    """
    pos = np.ascontiguousarray(positions, dtype=np.float32)
    idx = np.ascontiguousarray(faces, dtype=np.uint32)
    col = np.ascontiguousarray(colors, dtype=np.float32)
    if pos.ndim != 2 or pos.shape[1] != 3 or col.shape != pos.shape:
        raise ValueError(f"positions and colors must both be (N, 3), got {pos.shape}, {col.shape}")
    if idx.ndim != 2 or idx.shape[1] != 3 or (idx.size and idx.max() >= len(pos)):
        raise ValueError(f"faces must be (F, 3) indices below {len(pos)}, got {idx.shape}")
    blobs = [pos.tobytes(), col.tobytes(), idx.tobytes()]
    offsets = np.cumsum([0] + [len(b) for b in blobs])
    lo, hi = (pos.min(0), pos.max(0)) if len(pos) else (np.zeros(3), np.zeros(3))
    doc = {
        "asset": {"version": "2.0", "generator": "astra-sim"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "semantic"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "COLOR_0": 1},
                                    "indices": 2, "mode": _TRIANGLES}]}],
        "buffers": [{"byteLength": int(offsets[-1])}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": int(o), "byteLength": len(b), "target": t}
            for o, b, t in zip(offsets, blobs, (34962, 34962, 34963), strict=False)
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(pos), "type": "VEC3",
             "min": [float(v) for v in lo], "max": [float(v) for v in hi]},
            {"bufferView": 1, "componentType": 5126, "count": len(col), "type": "VEC3"},
            {"bufferView": 2, "componentType": 5125, "count": int(idx.size), "type": "SCALAR"},
        ],
    }  # fmt: skip
    text = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    binary = b"".join(blobs)
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return b"".join(
        [
            struct.pack("<III", _GLB_MAGIC, 2, total),
            struct.pack("<II", len(text), _CHUNK_JSON),
            text,
            struct.pack("<II", len(binary), _CHUNK_BIN),
            binary,
        ]
    )


def gltf_json(path: str | Path) -> dict[str, Any]:
    """Only the JSON of a GLB or glTF file (a large scan's binary chunk is not read)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(20)
            if len(head) == 20 and struct.unpack_from("<I", head)[0] == _GLB_MAGIC:
                size, kind = struct.unpack_from("<II", head, 12)
                if kind != _CHUNK_JSON:
                    raise SceneFormatError(f"{path}: the first GLB chunk is not JSON")
                return json.loads(f.read(size))
            return json.loads(head + f.read())
    except OSError as e:
        raise SceneFormatError(f"{path}: cannot read ({e.strerror})") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SceneFormatError(f"{path}: broken glTF JSON ({e})") from e


def ktx2_images(doc: dict[str, Any]) -> int:
    """How many images of a glTF JSON are KTX2 (Basis) textures, which trimesh cannot decode."""
    images = doc.get("images", [])
    ktx = sum(
        1
        for im in images
        if im.get("mimeType") == "image/ktx2" or str(im.get("uri", "")).lower().endswith(".ktx2")
    )
    if not ktx and "KHR_texture_basisu" in doc.get("extensionsUsed", []):
        ktx = len(images)
    return ktx
