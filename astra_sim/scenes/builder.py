"""SceneBuilder: boxes, quads and signs in, a textured semantic ``Scene`` out.

Generators think in furniture and walls; the builder turns those into triangles with
UVs in real-world texture tiles, per-triangle instance and material ids, and one sign
atlas that carries every sign's text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from astra_sim.core.seeding import make_rng
from astra_sim.scenes.model import VOID_INSTANCE, Instance, Material, Room, Scene
from astra_sim.scenes.navigation import NavConfig
from astra_sim.scenes.textures import SignAtlas, make_texture

UV_QUANTUM = 1.0 / 1024.0
"""UVs are stored on this lattice so the glTF V-flip (v -> 1 - v) round-trips exactly."""

BOX_FACES = ("+x", "-x", "+y", "-y", "top", "bottom")
SIDES_AND_TOP = ("+x", "-x", "+y", "-y", "top")


def _box_face(face: str, hx: float, hy: float, sz: float) -> tuple[np.ndarray, ...]:
    """Origin and the two edge vectors of a box face, with ``eu x ev`` pointing outward."""
    table = {
        "+x": ((hx, -hy, 0), (0, 2 * hy, 0), (0, 0, sz)),
        "-x": ((-hx, hy, 0), (0, -2 * hy, 0), (0, 0, sz)),
        "+y": ((hx, hy, 0), (-2 * hx, 0, 0), (0, 0, sz)),
        "-y": ((-hx, -hy, 0), (2 * hx, 0, 0), (0, 0, sz)),
        "top": ((-hx, -hy, sz), (2 * hx, 0, 0), (0, 2 * hy, 0)),
        "bottom": ((-hx, hy, 0), (2 * hx, 0, 0), (0, -2 * hy, 0)),
    }
    return tuple(np.asarray(v, dtype=np.float64) for v in table[face])


def _rot_z(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _r(x: float) -> float:
    """Round table values so scene.json is short and round-trips exactly."""
    return round(float(x), 4) + 0.0


class SceneBuilder:
    """Accumulates geometry and tables; ``build()`` makes textures and the Scene."""

    def __init__(
        self,
        kind: str,
        seed: int,
        params: dict[str, Any] | None = None,
        nav_config: NavConfig | None = None,
        texture_size: int = 128,
    ):
        self.kind = kind
        self.seed = seed
        self.params = dict(params or {})
        self.nav_config = nav_config or NavConfig()
        self.texture_size = texture_size
        self.instances: list[Instance] = [Instance(id=VOID_INSTANCE, category="void")]
        self.rooms: list[Room] = []
        self._materials: dict[tuple[str, str, float], int] = {}
        self._quads: list[tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int]] = []
        self._sign_texts: list[str] = []

    # ------------------------------------------------------------ tables
    def material(self, kind: str, colour: str, tile: float = 1.0) -> int:
        """Id of the material with this texture kind, colour name and tile size."""
        key = (kind, colour, float(tile))
        if key not in self._materials:
            self._materials[key] = len(self._materials)
        return self._materials[key]

    def instance(
        self,
        category: str,
        *,
        room: int = -1,
        name: str = "",
        attributes: dict[str, str] | None = None,
        description: str = "",
        text: str = "",
        landmark: bool = False,
        position: tuple[float, float, float] = (0.0, 0.0, 0.0),
        size: tuple[float, float, float] = (0.0, 0.0, 0.0),
        yaw: float = 0.0,
    ) -> int:
        inst = Instance(
            id=len(self.instances),
            category=category,
            room=int(room),
            name=name or category,
            attributes=dict(attributes or {}),
            description=description,
            text=text,
            landmark=landmark,
            position=tuple(_r(v) for v in position),
            size=tuple(_r(v) for v in size),
            yaw=_r(np.arctan2(np.sin(yaw), np.cos(yaw))),
        )
        self.instances.append(inst)
        return inst.id

    def room(self, type_: str, name: str, polygon: list[tuple[float, float]]) -> int:
        room_id = len(self.rooms)
        poly = [(_r(x), _r(y)) for x, y in polygon]
        self.rooms.append(Room(id=room_id, type=type_, name=name, polygon=poly))
        return room_id

    # ------------------------------------------------------------ geometry
    def quad(
        self,
        inst: int,
        mat: int,
        origin: np.ndarray,
        eu: np.ndarray,
        ev: np.ndarray,
        sign_text: int = -1,
    ) -> None:
        """A rectangle; its normal is ``eu x ev``. ``sign_text`` >= 0 maps it to an atlas cell."""
        self._quads.append((origin, eu, ev, inst, mat, sign_text))

    def box(
        self,
        inst: int,
        mat: int,
        center: tuple[float, float],
        z0: float,
        size: tuple[float, float, float],
        yaw: float = 0.0,
        faces: tuple[str, ...] = SIDES_AND_TOP,
    ) -> None:
        """An upright box standing at height ``z0``; ``size`` is along its own axes."""
        sx, sy, sz = size
        if min(size) <= 0:
            raise ValueError(f"box size must be positive, got {size}")
        rot = _rot_z(yaw)
        base = np.array([center[0], center[1], z0], dtype=np.float64)
        for face in faces:
            o, eu, ev = _box_face(face, sx / 2, sy / 2, sz)
            self.quad(inst, mat, base + rot @ o, rot @ eu, rot @ ev)

    def sign(
        self,
        inst: int,
        center: tuple[float, float, float],
        width: float,
        height: float,
        facing: float,
        text: str,
        depth: float = 0.03,
    ) -> None:
        """A plate whose front (normal towards ``facing`` yaw) shows ``text``, readable."""
        text_index = len(self._sign_texts)
        self._sign_texts.append(text)
        rot = _rot_z(facing)
        base = np.array([center[0], center[1], center[2] - height / 2], dtype=np.float64)
        # The plate's back sits on the wall plane at the centre, its front ``depth`` ahead.
        base = base + rot @ np.array([depth / 2, 0.0, 0.0])
        for face in BOX_FACES:
            o, eu, ev = _box_face(face, depth / 2, width / 2, height)
            cell = text_index if face == "+x" else -2
            self.quad(inst, -1, base + rot @ o, rot @ eu, rot @ ev, sign_text=cell)

    # ------------------------------------------------------------ build
    def build(self, metadata: dict[str, Any] | None = None) -> Scene:
        """Make textures and the sign atlas, and pack the quads into a Scene."""
        materials = self._make_materials()
        atlas_id = len(materials)
        atlas = SignAtlas.build(self._sign_texts)
        materials.append(
            Material(
                id=atlas_id,
                name="sign_atlas",
                kind="sign_atlas",
                colour="white",
                tile=1.0,
                image=atlas.image,
                params={"texts": list(self._sign_texts)},
            )
        )
        n = len(self._quads)
        verts = np.empty((n, 4, 3), dtype=np.float64)
        uv = np.empty((n, 4, 2), dtype=np.float64)
        quad_inst = np.empty(n, dtype=np.int32)
        quad_mat = np.empty(n, dtype=np.int32)
        unit = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
        tiles = {mid: m.tile for mid, m in enumerate(materials)}
        for q, (o, eu, ev, inst, mat, sign_text) in enumerate(self._quads):
            verts[q] = o + unit[:, :1] * eu + unit[:, 1:] * ev
            quad_inst[q] = inst
            if sign_text == -1:
                quad_mat[q] = mat
                lengths = np.array([np.linalg.norm(eu), np.linalg.norm(ev)]) / tiles[mat]
                uv[q] = unit * lengths
            else:
                quad_mat[q] = atlas_id
                if sign_text >= 0:
                    u0, v0, u1, v1 = atlas.rect(sign_text)
                    uv[q] = np.array([u0, v0]) + unit * np.array([u1 - u0, v1 - v0])
                else:
                    u0, v0, u1, v1 = atlas.rects[0]
                    uv[q] = np.array([(u0 + u1) / 2, (v0 + v1) / 2])
        # Drop materials no triangle uses (a file could not carry their textures).
        used = np.unique(quad_mat)
        remap = np.full(len(materials), -1, dtype=np.int32)
        remap[used] = np.arange(len(used), dtype=np.int32)
        quad_mat = remap[quad_mat]
        materials = [materials[i] for i in used]
        for new_id, mat in enumerate(materials):
            mat.id = new_id
        order = np.argsort(quad_mat, kind="stable")
        verts, uv = verts[order].reshape(-1, 3), uv[order].reshape(-1, 2)
        uv = np.round(uv / UV_QUANTUM) * UV_QUANTUM
        base = 4 * np.arange(n, dtype=np.int32)[:, None]
        corners = np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int32)
        faces = (base[:, None, :] + corners[None]).reshape(-1, 3)
        meta = {
            "kind": self.kind,
            "seed": self.seed,
            "params": self.params,
            "generator": "astra_sim.scenes.generators",
            "format_version": 1,
            "units": "metres, z up",
        }
        meta.update(metadata or {})
        return Scene(
            vertices=verts.astype(np.float32),
            faces=faces,
            uv=uv.astype(np.float32),
            face_instance=np.repeat(quad_inst[order], 2),
            face_material=np.repeat(quad_mat[order], 2),
            instances=self.instances,
            rooms=self.rooms,
            materials=materials,
            metadata=meta,
            nav_config=self.nav_config,
        )

    def _make_materials(self) -> list[Material]:
        out = []
        for (kind, colour, tile), mid in sorted(self._materials.items(), key=lambda kv: kv[1]):
            name = f"{kind}_{colour.replace(' ', '_')}_{tile:g}m"
            rng = make_rng(self.seed, f"texture/{name}")
            image = make_texture(kind, colour, rng, size=self.texture_size)
            out.append(
                Material(id=mid, name=name, kind=kind, colour=colour, tile=tile, image=image)
            )
        return out
