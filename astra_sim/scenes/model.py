"""The Scene: textured triangles with semantics, rooms, and lazily built navigability.

A scene is plain arrays plus small tables, so the renderer, the navigation code and the
map builder can all read it without going through a mesh library, and so it saves and
loads back bit for bit (see ``astra_sim.scenes.io``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.scenes.navigation import NavConfig, NavGrid

VOID_INSTANCE = 0
"""Instance id of triangles with no semantics (plain meshes); always row 0 of the table."""


_INSTANCE_FIELDS: dict[str, type] = {
    "id": int, "category": str, "room": int, "name": str, "attributes": dict,
    "description": str, "text": str, "landmark": bool,
}  # fmt: skip
_MAX_COORD = 1e6  # metres: past this a coordinate is a corrupted file, not a building


def _numbers(values: Any, n: int, where: str) -> tuple[float, ...]:
    """n finite numbers within +-_MAX_COORD as floats, or a ValueError naming ``where``."""
    ok = isinstance(values, (list, tuple)) and len(values) == n
    ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not ok or not all(abs(v) <= _MAX_COORD for v in values):  # NaN fails this too
        raise ValueError(f"{where} must be {n} finite numbers, got {values!r}")
    return tuple(float(v) for v in values)


@dataclass
class Instance:
    """One semantic object: what it is, where it is, and what a language goal may call it.

    ``position`` is the centre of the object's footprint at floor level and ``size`` its
    extent along its own axes (x along ``yaw``), so goals and labels need no mesh access.
    """

    id: int
    category: str
    room: int = -1
    name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    description: str = ""
    text: str = ""
    landmark: bool = False
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    size: tuple[float, float, float] = (0.0, 0.0, 0.0)
    yaw: float = 0.0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["position"] = list(self.position)
        d["size"] = list(self.size)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Instance:
        """Inverse of `to_json`; ValueError naming the first field of a wrong type."""
        if not isinstance(d, dict):
            raise ValueError(f"an instance must be an object, got {type(d).__name__}")
        d = dict(d)
        where = f"instance {d.get('id')!r}"
        for name, kind in _INSTANCE_FIELDS.items():
            if name in d and (isinstance(d[name], bool) != (kind is bool)
                              or not isinstance(d[name], kind)):  # fmt: skip
                raise ValueError(f"{where}: {name} must be {kind.__name__}, got {d[name]!r}")
        attributes = d.get("attributes", {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()):
            raise ValueError(f"{where}: attributes must map text to text, got {attributes!r}")
        d["position"] = _numbers(d.get("position", (0, 0, 0)), 3, f"{where}: position")
        d["size"] = _numbers(d.get("size", (0, 0, 0)), 3, f"{where}: size")
        d["yaw"] = _numbers([d.get("yaw", 0.0)], 1, f"{where}: yaw")[0]
        return cls(**d)


@dataclass
class Room:
    """A room (or zone of an open hall) as a polygon with a type such as ``kitchen``."""

    id: int
    type: str
    name: str
    polygon: list[tuple[float, float]]

    @property
    def centroid(self) -> tuple[float, float]:
        p = np.asarray(self.polygon, dtype=np.float64)
        return float(p[:, 0].mean()), float(p[:, 1].mean())

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """Even-odd point-in-polygon test for points ``(..., 2)``."""
        xy = np.asarray(xy, dtype=np.float64)
        x, y = xy[..., 0], xy[..., 1]
        poly = np.asarray(self.polygon, dtype=np.float64)
        inside = np.zeros(x.shape, dtype=bool)
        for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0), strict=True):
            crosses = (y0 > y) != (y1 > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_cross = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            inside ^= crosses & (x < x_cross)
        return inside

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "name": self.name, "polygon": self.polygon}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Room:
        """Inverse of `to_json`; ValueError naming the first field of a wrong type."""
        if not isinstance(d, dict):
            raise ValueError(f"a room must be an object, got {type(d).__name__}")
        where = f"room {d.get('id')!r}"
        if isinstance(d["id"], bool) or not isinstance(d["id"], int):
            raise ValueError(f"{where}: id must be an integer")
        if not (isinstance(d["type"], str) and isinstance(d["name"], str)):
            raise ValueError(f"{where}: type and name must be text")
        points = d["polygon"]
        if not isinstance(points, list) or len(points) < 3:
            raise ValueError(f"{where}: polygon must be a list of at least 3 points")
        poly = [_numbers(p, 2, f"{where}: polygon point") for p in points]
        return cls(id=d["id"], type=d["type"], name=d["name"], polygon=poly)


@dataclass(eq=False)
class Material:
    """A surface look: a texture image tiled every ``tile`` metres.

    ``kind`` is a texture kind (wood, carpet, ...) or ``sign_atlas`` for the atlas that
    holds every sign's text; ``params`` keeps what is needed to explain the texture.
    """

    id: int
    name: str
    kind: str
    colour: str
    tile: float
    image: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "colour": self.colour,
            "tile": self.tile,
            "image_shape": list(self.image.shape),
            "params": self.params,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Material):
            return NotImplemented
        return self.to_json() == other.to_json() and np.array_equal(self.image, other.image)


@dataclass(eq=False)
class Scene:
    """Triangles with per-triangle instance and material ids, plus the tables they index.

    Vertices are float32 in metres (z up); every triangle has its own UVs (in texture
    tiles, OpenGL convention), its instance id (row of ``instances``) and its material id
    (row of ``materials``). Triangles are stored grouped by material.
    """

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    face_instance: np.ndarray
    face_material: np.ndarray
    instances: list[Instance]
    rooms: list[Room]
    materials: list[Material]
    metadata: dict[str, Any] = field(default_factory=dict)
    nav_config: NavConfig = field(default_factory=NavConfig)

    def __post_init__(self) -> None:
        self.vertices = np.ascontiguousarray(self.vertices, dtype=np.float32)
        self.faces = np.ascontiguousarray(self.faces, dtype=np.int32)
        self.uv = np.ascontiguousarray(self.uv, dtype=np.float32)
        self.face_instance = np.ascontiguousarray(self.face_instance, dtype=np.int32)
        self.face_material = np.ascontiguousarray(self.face_material, dtype=np.int32)
        self._navgrids: dict[NavConfig, NavGrid] = {}
        self.validate()

    def validate(self) -> None:
        """Raise ValueError if the arrays and tables disagree; loaders rely on this."""
        n_v, n_f = len(self.vertices), len(self.faces)
        problems = []
        if self.vertices.ndim != 2 or self.vertices.shape[1] != 3:
            problems.append(f"vertices must be (V, 3), got {self.vertices.shape}")
        if self.faces.ndim != 2 or self.faces.shape[1] != 3:
            problems.append(f"faces must be (F, 3), got {self.faces.shape}")
        elif n_f and (self.faces.min() < 0 or self.faces.max() >= n_v):
            problems.append(f"faces index vertices outside [0, {n_v})")
        if self.uv.shape != (n_v, 2):
            problems.append(f"uv must be ({n_v}, 2), got {self.uv.shape}")
        for name, arr, table in (
            ("face_instance", self.face_instance, self.instances),
            ("face_material", self.face_material, self.materials),
        ):
            if arr.shape != (n_f,):
                problems.append(f"{name} must be ({n_f},), got {arr.shape}")
            elif n_f and (arr.min() < 0 or arr.max() >= len(table)):
                problems.append(f"{name} holds ids outside the table of {len(table)} rows")
        for i, inst in enumerate(self.instances):
            if inst.id != i:
                problems.append(f"instance row {i} has id {inst.id}")
                break
        for i, mat in enumerate(self.materials):
            if mat.id != i:
                problems.append(f"material row {i} has id {mat.id}")
                break
        if problems:
            raise ValueError("inconsistent scene: " + "; ".join(problems))

    # ----------------------------------------------------------------- queries
    @property
    def kind(self) -> str:
        return str(self.metadata.get("kind", "mesh"))

    @property
    def seed(self) -> int | None:
        return self.metadata.get("seed")

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) array: min and max corner of the geometry."""
        return np.stack([self.vertices.min(axis=0), self.vertices.max(axis=0)])

    def landmarks(self) -> list[Instance]:
        return [inst for inst in self.instances if inst.landmark]

    def find(self, category: str | None = None, text: str | None = None) -> list[Instance]:
        """Instances by category and/or exact sign text (case-insensitive)."""
        out = []
        for inst in self.instances:
            if category is not None and inst.category != category:
                continue
            if text is not None and inst.text.lower() != text.lower():
                continue
            out.append(inst)
        return out

    def room_at(self, xy: np.ndarray) -> np.ndarray:
        """Room id for each point ``(..., 2)``, -1 where no room polygon holds it."""
        xy = np.asarray(xy, dtype=np.float64)
        out = np.full(xy.shape[:-1], -1, dtype=np.int32)
        for room in self.rooms:
            out[(out == -1) & room.contains(xy)] = room.id
        return out

    def navgrid(self, config: NavConfig | None = None, **overrides: Any) -> NavGrid:
        """The navigability map for a robot; built on first use and cached per config.

        Args:
            config: full navigation settings; defaults to the scene's ``nav_config``.
            **overrides: single fields to change, e.g. ``robot_radius=0.3``.
        """
        cfg = config or self.nav_config
        if overrides:
            cfg = NavConfig(**{**asdict(cfg), **overrides})
        if cfg not in self._navgrids:
            self._navgrids[cfg] = NavGrid.from_mesh(self.vertices, self.faces, cfg)
        return self._navgrids[cfg]

    # ----------------------------------------------------------------- IO
    def save(self, directory: str | Path) -> Path:
        """Write ``scene.glb`` and ``scene.json`` into ``directory`` (atomically each)."""
        from astra_sim.scenes.io import save_scene

        return save_scene(self, directory)

    @classmethod
    def load(cls, path: str | Path) -> Scene:
        """Load a saved scene directory, or a plain GLB/OBJ mesh without semantics."""
        from astra_sim.scenes.io import load_scene

        return load_scene(path)

    # ----------------------------------------------------------------- equality
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scene):
            return NotImplemented
        arrays = ("vertices", "faces", "uv", "face_instance", "face_material")
        return (
            all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays)
            and self.instances == other.instances
            and self.rooms == other.rooms
            and self.materials == other.materials
            and self.metadata == other.metadata
            and self.nav_config == other.nav_config
        )

    __hash__ = None  # type: ignore[assignment]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for inst in self.instances[1:]:
            counts[inst.category] = counts.get(inst.category, 0) + 1
        lo, hi = self.bounds
        return (
            f"{self.kind} scene (seed {self.seed}): {len(self.faces)} triangles, "
            f"{len(self.instances) - 1} instances ({len(self.landmarks())} landmarks), "
            f"{len(self.rooms)} rooms, {len(self.materials)} materials, "
            f"{hi[0] - lo[0]:.1f} x {hi[1] - lo[1]:.1f} m"
        )
