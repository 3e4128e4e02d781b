"""Fine stage of Astra-Global localization: the query's pose against reference nodes.

The paper hands reference node images with known poses and the query to the MLLM; here the
honest geometric stand-in does the same job: ORB features matched between the query's
images and a node's images, the node's matched keypoints lifted to 3D with the node's depth,
and the query camera's pose solved with PnP + RANSAC, then converted back to the base pose.

Frames, because three of them meet here:

- *ours* (the renderer's camera frame, REP-103): x forward, y left, z up.
- *OpenCV's* camera frame: x right, y down, z forward; so ``p_cv = CV_FROM_OURS @ p_ours``.
- the *base* frame on the floor under the robot: x forward, y left, z up; a mount's
  ``rotation`` takes camera (ours) to base, ``xyz`` is the camera centre in the base frame.

Pixels become bearings through ``camera.ray_directions()`` (interpolated at sub-pixel
keypoints), not through a pinhole matrix, so the same code serves fisheye rigs for rays in
front of the camera; PnP then runs on normalised coordinates with an identity intrinsic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from astra_sim.mapping.graph import Node
from astra_sim.render.rig import CameraMount, Rig

CV_FROM_OURS = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
"""Rotation from our camera frame (x fwd, y left, z up) to OpenCV's (x right, y down, z fwd)."""


def _cv2():
    """OpenCV, imported late so that the rest of the package works without it."""
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "pose refinement needs OpenCV: pip install 'astra-sim[vision]' (opencv-python-headless)"
        ) from exc
    return cv2


@dataclass(frozen=True)
class RefineConfig:
    """Knobs of the ORB + PnP refinement.

    Attributes:
        features: ORB keypoints per image at most.
        upscale: images are enlarged this many times before ORB: the rig's 128 px images
            are too small for ORB's 31 px patches otherwise.
        ratio: Lowe's ratio test threshold; lower keeps fewer, surer matches.
        min_inliers: PnP solutions with fewer inliers are rejected.
        reproj_px: RANSAC inlier threshold in (original) pixels.
        max_depth: node keypoints farther than this (metres) are not lifted (imprecise).
    """

    features: int = 800
    upscale: int = 2
    ratio: float = 0.8
    min_inliers: int = 8
    reproj_px: float = 2.0
    max_depth: float = 15.0

    def __post_init__(self) -> None:
        if not (isinstance(self.features, int) and self.features > 0):
            raise ValueError(f"RefineConfig.features must be a positive int, got {self.features!r}")
        if not (isinstance(self.upscale, int) and self.upscale >= 1):
            raise ValueError(f"RefineConfig.upscale must be an int >= 1, got {self.upscale!r}")
        if not (0.0 < self.ratio <= 1.0):
            raise ValueError(f"RefineConfig.ratio must be in (0, 1], got {self.ratio!r}")
        if not (isinstance(self.min_inliers, int) and self.min_inliers >= 4):
            raise ValueError(f"RefineConfig.min_inliers must be >= 4, got {self.min_inliers!r}")
        if not (self.reproj_px > 0 and self.max_depth > 0):
            raise ValueError("RefineConfig.reproj_px and max_depth must be > 0")


@dataclass
class Features:
    """ORB keypoints of one image: pixel coords (col, row) in the original image, descriptors."""

    uv: np.ndarray  # (N, 2) float
    desc: np.ndarray  # (N, 32) uint8


@dataclass
class RefineResult:
    """A refined base pose (x, y, yaw) and the evidence for it."""

    pose: np.ndarray
    node: int
    camera: int  # -1: all query cameras pooled
    inliers: int
    matches: int


def _rot_z(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _sample(grid: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear sample of an (H, W, ...) per-pixel grid at (col, row) sub-pixel points."""
    h, w = grid.shape[:2]
    u = np.clip(uv[:, 0], 0, w - 1.0)
    v = np.clip(uv[:, 1], 0, h - 1.0)
    u0, v0 = np.minimum(u.astype(int), w - 2), np.minimum(v.astype(int), h - 2)
    fu, fv = (u - u0)[:, None], (v - v0)[:, None]
    g = grid.reshape(h, w, -1)
    out = (
        g[v0, u0] * (1 - fu) * (1 - fv)
        + g[v0, u0 + 1] * fu * (1 - fv)
        + g[v0 + 1, u0] * (1 - fu) * fv
        + g[v0 + 1, u0 + 1] * fu * fv
    )
    return out.reshape((len(uv), *grid.shape[2:]))


class PoseRefiner:
    """Solve a query's base pose against candidate nodes with ORB + PnP RANSAC.

    Node features are cached per node id for the map last used, because a localizer asks
    about the same map many times and ORB on every node image is most of the cost.

    Args:
        rig: the rig the map was built with (and the query was taken with).
        config: refinement knobs.
    """

    def __init__(self, rig: Rig, config: RefineConfig | None = None) -> None:
        self.rig = rig
        self.config = config or RefineConfig()
        cv2 = _cv2()
        c = self.config
        self._orb = cv2.ORB_create(nfeatures=c.features, edgeThreshold=15, patchSize=15 * c.upscale)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self._dirs = [m.camera.ray_directions().astype(np.float64) for m in rig.mounts]
        self._cache_key: int | None = None
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    # ------------------------------------------------------------------ features
    def features(self, image: np.ndarray) -> Features:
        """ORB on one RGB image, keypoints mapped back to original pixel coordinates."""
        cv2 = _cv2()
        gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        s = self.config.upscale
        if s > 1:
            gray = cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
        kps, desc = self._orb.detectAndCompute(gray, None)
        if desc is None or not kps:
            return Features(np.zeros((0, 2)), np.zeros((0, 32), np.uint8))
        # OpenCV puts pixel centres at integers; undo the upscale in that convention.
        uv = (np.array([k.pt for k in kps]) + 0.5) / s - 0.5
        return Features(uv, desc)

    def _node_points(self, node: Node, cache_owner: object) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) world points and (N, 32) descriptors of a node's liftable keypoints."""
        if self._cache_key != id(cache_owner):
            self._cache_key, self._cache = id(cache_owner), {}
        if node.id not in self._cache:
            pts, descs = [], []
            x, y, yaw = (float(v) for v in node.pose2d)
            base_r = _rot_z(yaw)
            for cam, mount in enumerate(self.rig.mounts):
                f = self.features(node.rgb[cam])
                if not len(f.uv):
                    continue
                p_cam, ok = self._lift(cam, mount, f.uv, node.depth[cam])
                world = (p_cam @ mount.rotation.T + np.asarray(mount.xyz)) @ base_r.T
                world += np.array([x, y, 0.0])
                pts.append(world[ok])
                descs.append(f.desc[ok])
            if pts:
                self._cache[node.id] = (np.concatenate(pts), np.concatenate(descs))
            else:
                self._cache[node.id] = (np.zeros((0, 3)), np.zeros((0, 32), np.uint8))
        return self._cache[node.id]

    def _lift(
        self, cam: int, mount: CameraMount, uv: np.ndarray, depth: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Camera-frame (ours) 3D points of keypoints, and which are trustworthy.

        Depth is read at the nearest pixel, and a keypoint on a depth edge (3x3 spread over
        5 %) is dropped: corners sit on edges, and a bilinear mix there is a point in mid-air.
        """
        h, w = depth.shape
        col = np.clip(np.rint(uv[:, 0]).astype(int), 1, w - 2)
        row = np.clip(np.rint(uv[:, 1]).astype(int), 1, h - 2)
        patch = np.stack([depth[row + dr, col + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1)])
        d = depth[row, col].astype(np.float64)
        spread = patch.max(axis=0) - patch.min(axis=0)
        dirs = _sample(self._dirs[cam], uv)
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        valid = mount.camera.valid[row, col]
        ok = (d > 0.05) & (d < self.config.max_depth) & (spread < 0.05 * d) & valid
        # Pinhole depth is along the optical axis (x); wide-angle models store range.
        scale = d if mount.camera.depth_is_range else d / np.maximum(dirs[:, 0], 1e-6)
        return dirs * scale[:, None], ok & (dirs[:, 0] > 1e-3)

    # ------------------------------------------------------------------ solving
    def refine(
        self, query_rgb: np.ndarray, nodes: list[Node], cache_owner: object = None
    ) -> RefineResult | None:
        """The best planar pose over candidate nodes, or None when none is supported.

        Per candidate, every query camera's matches are pooled: per-camera PnP RANSAC (and
        the node's own pose) propose base poses, each is scored by the inliers it gets over
        *all* cameras with the base kept planar (a robot does not roll), and the best is
        polished by robust least squares on (x, y, yaw). The candidate with most inliers wins.

        Args:
            query_rgb: (C, H, W, 3) uint8 query images from the map's rig.
            nodes: candidate reference nodes.
            cache_owner: the map the nodes belong to (keys the node feature cache).
        """
        query = [self.features(img) for img in query_rgb]
        best: RefineResult | None = None
        for node in nodes:
            pts, descs = self._node_points(node, cache_owner if cache_owner is not None else nodes)
            if len(pts) < self.config.min_inliers:
                continue
            res = self._solve_node(query, pts, descs, node)
            if res is not None and (best is None or res.inliers > best.inliers):
                best = res
        return best

    def _solve_node(
        self, query: list[Features], pts: np.ndarray, descs: np.ndarray, node: Node
    ) -> RefineResult | None:
        cv2 = _cv2()
        c = self.config
        cams, bears, objs = [], [], []
        for cam, f in enumerate(query):
            if len(f.uv) < 2:
                continue
            pairs = self._matcher.knnMatch(f.desc, descs, k=2)
            good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < c.ratio * p[1].distance]
            if not good:
                continue
            qi = np.array([m.queryIdx for m in good])
            ti = np.array([m.trainIdx for m in good])
            b = _sample(self._dirs[cam], f.uv[qi])
            cams.append(np.full(len(good), cam))
            bears.append(b / np.linalg.norm(b, axis=1, keepdims=True))
            objs.append(pts[ti])
        if not cams or sum(len(a) for a in cams) < c.min_inliers:
            return None
        cam_ix, bear, obj = np.concatenate(cams), np.concatenate(bears), np.concatenate(objs)
        tol = c.reproj_px / self._focal(0)
        hypotheses = [np.asarray(node.pose2d, dtype=np.float64)]
        for cam in np.unique(cam_ix):
            sel = cam_ix == cam
            bcv = bear[sel] @ CV_FROM_OURS.T
            front = bcv[:, 2] > 0.1
            if front.sum() < 6:
                continue
            img = bcv[front, :2] / bcv[front, 2:]
            ok, rvec, tvec, inl = cv2.solvePnPRansac(
                obj[sel][front], img, np.eye(3), None, iterationsCount=200,
                reprojectionError=tol, confidence=0.999, flags=cv2.SOLVEPNP_EPNP,
            )  # fmt: skip
            if ok and inl is not None and len(inl) >= 6:
                hypotheses.append(self._base_pose(int(cam), cv2.Rodrigues(rvec)[0], tvec.ravel()))
        scored = [(self._angles(h, cam_ix, bear, obj) < tol).sum() for h in hypotheses]
        pose = hypotheses[int(np.argmax(scored))]
        for _ in range(2):  # polish on the inliers, then re-select them once
            inl = self._angles(pose, cam_ix, bear, obj) < 2 * tol
            if inl.sum() < c.min_inliers:
                return None
            pose = self._polish(pose, cam_ix[inl], bear[inl], obj[inl], tol)
        count = int((self._angles(pose, cam_ix, bear, obj) < tol).sum())
        if count < c.min_inliers:
            return None
        return RefineResult(pose, node.id, -1, count, len(bear))

    def _angles(
        self, pose: np.ndarray, cam_ix: np.ndarray, bear: np.ndarray, obj: np.ndarray
    ) -> np.ndarray:
        """Angle (rad) between each query bearing and the ray to its 3D point from ``pose``."""
        x, y, yaw = (float(v) for v in pose)
        base_r = _rot_z(yaw)
        out = np.empty(len(bear))
        for cam in np.unique(cam_ix):
            sel = cam_ix == cam
            mount = self.rig.mounts[int(cam)]
            r_wc = base_r @ mount.rotation
            centre = base_r @ np.asarray(mount.xyz) + np.array([x, y, 0.0])
            v = (obj[sel] - centre) @ r_wc  # world -> camera (ours)
            v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            out[sel] = np.arccos(np.clip((v * bear[sel]).sum(axis=1), -1.0, 1.0))
        return out

    def _polish(
        self, pose: np.ndarray, cam_ix: np.ndarray, bear: np.ndarray, obj: np.ndarray, tol: float
    ) -> np.ndarray:
        from scipy.optimize import least_squares

        sol = least_squares(
            lambda p: self._angles(p, cam_ix, bear, obj), pose, loss="huber", f_scale=tol
        )
        return sol.x if sol.success else pose

    def _focal(self, cam: int) -> float:
        """Pixels per unit of normalised image coordinate near the centre (any model)."""
        d = self._dirs[cam]
        h, w = d.shape[:2]
        a, b = d[h // 2, w // 2 - 1], d[h // 2, w // 2]
        return 1.0 / max(abs(a[1] / a[0] - b[1] / b[0]), 1e-9)

    def _base_pose(self, cam: int, r_cw: np.ndarray, t_cw: np.ndarray) -> np.ndarray:
        """Base (x, y, yaw) from OpenCV's world->camera (R, t) of query camera ``cam``.

        ``p_cv = R p_world + t`` and ``p_cv = CV_FROM_OURS p_cam``, so the camera (ours) to
        world rotation is ``R^T CV_FROM_OURS`` and its centre ``-R^T t``; the base follows by
        undoing the mount. Roll/pitch left in the solution are dropped: the base is planar.
        """
        mount = self.rig.mounts[cam]
        r_world_cam = r_cw.T @ CV_FROM_OURS
        centre = -r_cw.T @ t_cw
        r_world_base = r_world_cam @ mount.rotation.T
        yaw = math.atan2(r_world_base[1, 0], r_world_base[0, 0])
        xy = centre[:2] - _rot_z(yaw)[:2, :2] @ np.asarray(mount.xyz[:2])
        return np.array([xy[0], xy[1], yaw])
