"""The same camera views rendered by pybullet's software renderer, as a speed reference.

pybullet's TinyRenderer is the renderer a pip-only robotics user has at hand without a
GPU, so the benchmark reports our renderer's speed as a ratio against it on the same
textured scene and the same views.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from astra_sim.scenes.model import Scene

MAX_VERTICES = 100_000  # pybullet refuses in-memory meshes above 131,072 vertices


class PybulletCameraScene:
    """A scene's textured triangles loaded as static visual shapes in a DIRECT client."""

    def __init__(self, scene: Scene, near: float = 0.05, far: float = 50.0):
        import pybullet as p

        self.p = p
        self.near, self.far = near, far
        self.client = p.connect(p.DIRECT)
        self._tmp = tempfile.TemporaryDirectory(prefix="astra_pb_")
        from PIL import Image

        for mat in scene.materials:
            sel = np.flatnonzero(scene.face_material == mat.id)
            if len(sel) == 0:
                continue
            tex_path = Path(self._tmp.name) / f"m{mat.id}.png"
            Image.fromarray(mat.image).save(tex_path)
            tex = p.loadTexture(str(tex_path), physicsClientId=self.client)
            for start in range(0, len(sel), MAX_VERTICES // 3):
                chunk = sel[start : start + MAX_VERTICES // 3]
                used, local = np.unique(scene.faces[chunk], return_inverse=True)
                uv = scene.uv[used].astype(np.float64)
                shape = p.createVisualShape(
                    p.GEOM_MESH,
                    vertices=scene.vertices[used].astype(np.float64).tolist(),
                    indices=local.reshape(-1).astype(int).tolist(),
                    uvs=np.stack([uv[:, 0], 1.0 - uv[:, 1]], axis=1).tolist(),
                    physicsClientId=self.client,
                )
                body = p.createMultiBody(baseVisualShapeIndex=shape, physicsClientId=self.client)
                p.changeVisualShape(body, -1, textureUniqueId=tex, physicsClientId=self.client)

    def render(
        self, eye: np.ndarray, forward: np.ndarray, width: int, height: int, vfov_deg: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RGB, metric depth and segmentation of one pinhole view (TinyRenderer)."""
        p = self.p
        view = p.computeViewMatrix(eye.tolist(), (eye + forward).tolist(), [0, 0, 1])
        proj = p.computeProjectionMatrixFOV(vfov_deg, width / height, self.near, self.far)
        _, _, rgba, zbuf, seg = p.getCameraImage(
            width,
            height,
            view,
            proj,
            renderer=p.ER_TINY_RENDERER,
            physicsClientId=self.client,
        )
        rgba = np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)
        zbuf = np.asarray(zbuf, dtype=np.float32).reshape(height, width)
        depth = self.far * self.near / (self.far - (self.far - self.near) * zbuf)
        return rgba[..., :3], depth, np.asarray(seg).reshape(height, width)

    def close(self) -> None:
        if self.client is not None:
            self.p.disconnect(physicsClientId=self.client)
            self.client = None
            self._tmp.cleanup()
