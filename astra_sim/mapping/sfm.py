"""Structure-from-motion poses for the map's keyframes, with COLMAP (``pycolmap``).

Astra builds its map offline from a video with SfM, so its node poses carry SfM error; this
module lets the simulated map do the same, so that the error's effect can be measured.

How COLMAP is set up, and why:

- Intrinsics are known (the rig's pinhole cameras), so every rig camera gets one fixed
  ``PINHOLE`` camera (f, f, cx, cy) and bundle adjustment never refines it: 128-pixel images
  with few features would otherwise let the focal length drift.
- The rig is known too: the images of one keyframe form one COLMAP *frame* of a rig whose
  camera extrinsics come from the ``CameraMount``\\ s and stay fixed. COLMAP then registers a
  keyframe's cameras together, which is what makes it work here: the default rig's four
  90-degree cameras do not overlap, so without the rig they would be four separate, weak
  problems.
- Sequential matching: the frames are a tour in time order, so each is matched with its
  next few frames, every camera against every camera (a turn brings the left camera's view
  to the front), and verified with the rig's geometry. This grows linearly with the tour;
  exhaustive or loop-closing matching (quadratic overlap) paired look-alike places (tiled
  floors, symmetric hallways) and folded the reconstruction.
- Seeded and single-threaded by default, so a run repeats exactly.

COLMAP's camera frame is x right, y down, z forward; ours (REP-103) is x forward, y left,
z up: ``_CV_FROM_OURS`` converts. Reconstructions have an arbitrary frame and scale;
``align_to_map`` expresses them in the map frame with a similarity (Umeyama) fitted to the
ground-truth positions of the registered keyframes.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astra_sim.render.cameras import PinholeCamera
from astra_sim.render.rig import Rig

_CV_FROM_OURS = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
"""Rotation from our camera frame (x forward, y left, z up) to COLMAP's (x right, y down,
z forward)."""


def import_pycolmap():
    """pycolmap, or an ImportError that says how to install it."""
    try:
        import pycolmap
    except ImportError as exc:
        raise ImportError("SfM poses need pycolmap: pip install 'astra-sim[vision]'") from exc
    return pycolmap


@dataclass
class SfmResult:
    """Per-frame rig poses from SfM, in the reconstruction's own frame and scale.

    Attributes:
        world_from_base: (N, 4, 4) pose of each frame's rig base (at the floor, below the
            cameras) in the SfM frame; NaN for frames SfM did not register.
        registered: (N,) bool, frames in the largest reconstruction.
        registered_images: images (one per camera and frame) registered, of ``num_images``.
        num_images: images given to COLMAP.
        num_points: 3D points in the reconstruction.
        num_models: reconstructions COLMAP made; only the largest is used (frames in the
            others count as not registered: their scale and frame are unrelated).
        mean_reprojection_error: pixels, over all observations.
        seconds: wall time of the whole SfM run.
    """

    world_from_base: np.ndarray
    registered: np.ndarray
    registered_images: int
    num_images: int
    num_points: int
    num_models: int
    mean_reprojection_error: float
    seconds: float


def _base_from_cv(mount) -> np.ndarray:
    """4x4 pose of a mount's camera (COLMAP axes) in the base frame."""
    t = np.eye(4)
    t[:3, :3] = mount.rotation @ _CV_FROM_OURS.T
    t[:3, 3] = mount.xyz
    return t


@dataclass(frozen=True)
class SfmOptions:
    """COLMAP settings; the defaults are what worked on 128-pixel renders of the homes.

    Attributes:
        overlap: each frame is matched with this many following ones (every camera against
            every camera). Wider windows found more pairs but also more false ones between
            look-alike views (tiled floors, symmetric hallways) that folded the model.
        peak_threshold: SIFT's contrast threshold; COLMAP's default (0.0067) is meant for
            megapixel photos and finds ~40 features in a 128-pixel render, 0.001 ~150.
        min_inliers: fewest verified matches for a pair, an initial pair (twice this) and a
            registration; at COLMAP's 15 the whole-home tour broke into twice the pieces.
        max_error: pixels of RANSAC and reprojection error allowed: the renders are noise
            free, so COLMAP's 4 (12 for registration) mostly lets wrong matches in.
        seed: COLMAP's random seed.
        num_threads: COLMAP's threads; with 1 a run repeats exactly, with more it does not.
    """

    overlap: int = 3
    peak_threshold: float = 0.001
    min_inliers: int = 10
    max_error: float = 2.0
    seed: int = 0
    num_threads: int = 1


def sfm_poses(
    frames_rgb: list[np.ndarray],
    rig: Rig,
    options: SfmOptions | None = None,
    workdir: str | Path | None = None,
) -> SfmResult:
    """Run SIFT + sequential matching + incremental mapping on a tour's frames.

    Args:
        frames_rgb: per frame, in time order, the rig's (C, H, W, 3) uint8 images.
        rig: the rig that took them: pinhole cameras only (their intrinsics and extrinsics
            are given to COLMAP and held fixed).
        options: COLMAP settings; ``SfmOptions()`` if None.
        workdir: folder for the images, database and models; a temporary one if None.

    Raises:
        ImportError: without pycolmap. ValueError: for a non-pinhole rig or a frame whose
        shape is not the rig's.
    """
    pycolmap = import_pycolmap()
    opt = options or SfmOptions()
    for m in rig.mounts:
        if not isinstance(m.camera, PinholeCamera):
            raise ValueError(f"SfM needs pinhole cameras, the rig has {type(m.camera).__name__}")
    for k, rgb in enumerate(frames_rgb):
        if np.shape(rgb) != (*rig.shape, 3):
            raise ValueError(f"frames_rgb[{k}] has shape {np.shape(rgb)}, not {(*rig.shape, 3)}")
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="astra_sfm_") as tmp:
            return sfm_poses(frames_rgb, rig, opt, tmp)
    level = pycolmap.logging.minloglevel
    pycolmap.logging.minloglevel = 2  # COLMAP logs megabytes at INFO
    try:
        return _run(pycolmap, frames_rgb, rig, opt, Path(workdir))
    finally:
        pycolmap.logging.minloglevel = level


def _run(pycolmap, frames_rgb: list[np.ndarray], rig: Rig, opt: SfmOptions, work: Path):
    import cv2

    t0 = time.perf_counter()
    images, db_path = work / "images", work / "database.db"
    names = [f"cam{c}" for c in range(len(rig.mounts))]  # rig names may hold any character
    for c, name in enumerate(names):
        (images / name).mkdir(parents=True, exist_ok=True)
        for k, rgb in enumerate(frames_rgb):
            bgr = np.ascontiguousarray(rgb[c, ..., ::-1])
            cv2.imwrite(str(images / name / f"{k:06d}.png"), bgr)

    # One fixed PINHOLE camera per rig camera (all mounts share a size, see Rig). COLMAP puts
    # pixel centres at +0.5, as our cameras do, so the principal point is the image centre.
    cam, device = rig.mounts[0].camera, pycolmap.Device.cpu
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = "PINHOLE"
    reader.camera_params = f"{cam.focal_px},{cam.focal_px},{cam.width / 2},{cam.height / 2}"
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.num_threads, extraction.use_gpu = opt.num_threads, False
    extraction.sift.peak_threshold = opt.peak_threshold
    pycolmap.extract_features(
        db_path, images, camera_mode=pycolmap.CameraMode.PER_FOLDER,
        reader_options=reader, extraction_options=extraction, device=device,
    )  # fmt: skip

    # The rig: camera 0 is the reference sensor, the others are fixed relative to it.
    base_from_cv = [_base_from_cv(m) for m in rig.mounts]
    rig_cameras = [
        pycolmap.RigConfigCamera(
            ref_sensor=c == 0,
            image_prefix=f"{name}/",
            cam_from_rig=None
            if c == 0
            else pycolmap.Rigid3d((np.linalg.inv(base_from_cv[c]) @ base_from_cv[0])[:3]),
        )
        for c, name in enumerate(names)
    ]
    with pycolmap.Database.open(db_path) as db:
        pycolmap.apply_rig_config([pycolmap.RigConfig(cameras=rig_cameras)], db)

    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads, matching.use_gpu = opt.num_threads, False
    matching.rig_verification = True  # verify a pair of frames with the whole rig's geometry
    matching.skip_image_pairs_in_same_frame = True  # the rig's views do not overlap
    pairing = pycolmap.SequentialPairingOptions()
    pairing.overlap, pairing.quadratic_overlap = opt.overlap, False
    pairing.num_threads = opt.num_threads
    verification = pycolmap.TwoViewGeometryOptions()
    verification.ransac.max_error = opt.max_error
    verification.ransac.random_seed = opt.seed
    verification.detect_watermark = False
    verification.min_num_inliers = opt.min_inliers
    pycolmap.match_sequential(db_path, matching, pairing, verification, device=device)

    options = pycolmap.IncrementalPipelineOptions()
    options.num_threads = options.mapper.num_threads = opt.num_threads
    options.random_seed = options.mapper.random_seed = opt.seed
    options.triangulation.random_seed = opt.seed
    options.ba_refine_focal_length = options.ba_refine_principal_point = False
    options.ba_refine_extra_params = options.ba_refine_sensor_from_rig = False
    options.mapper.abs_pose_refine_focal_length = False
    options.mapper.abs_pose_refine_extra_params = False
    # Registering from 2D-2D matches alone flipped frames by 180 degrees in hallways.
    options.structure_less_registration_fallback = False
    options.min_num_matches = options.mapper.abs_pose_min_num_inliers = opt.min_inliers
    options.mapper.init_min_num_inliers = 2 * opt.min_inliers
    options.mapper.init_max_error = options.mapper.filter_max_reproj_error = opt.max_error
    options.mapper.abs_pose_max_error = 2 * opt.max_error
    models = pycolmap.incremental_mapping(db_path, images, work / "sparse", options)
    seconds = time.perf_counter() - t0
    return _result(models, len(frames_rgb), len(names), base_from_cv[0], seconds)


def _result(models, n: int, cams: int, base_from_cv0: np.ndarray, seconds: float) -> SfmResult:
    """The base poses of the largest reconstruction's frames."""
    world_from_base = np.full((n, 4, 4), np.nan)
    registered = np.zeros(n, dtype=bool)
    best = max(models.values(), key=lambda r: r.num_reg_images(), default=None)
    if best is None:
        return SfmResult(world_from_base, registered, 0, n * cams, 0, 0, math.nan, seconds)
    cv0_from_base = np.linalg.inv(base_from_cv0)
    for image in best.images.values():
        if image.has_pose and image.is_ref_in_frame:
            k = int(Path(image.name).stem)
            rig_from_world = np.eye(4)
            rig_from_world[:3] = image.frame.rig_from_world.matrix()
            world_from_base[k] = np.linalg.inv(rig_from_world) @ cv0_from_base
            registered[k] = True
    return SfmResult(
        world_from_base=world_from_base,
        registered=registered,
        registered_images=int(best.num_reg_images()),
        num_images=n * cams,
        num_points=int(best.num_points3D()),
        num_models=len(models),
        mean_reprojection_error=float(best.compute_mean_reprojection_error()),
        seconds=seconds,
    )


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The similarity (s, R, t) minimising sum ||dst - (s R src + t)||^2 (Umeyama 1991).

    Args:
        src, dst: (N, D) corresponding points, N >= 2, not all coincident.

    Returns:
        scale s, (D, D) rotation R (det +1), (D,) translation t.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or len(src) < 2:
        raise ValueError(f"need two (N, D) arrays with N >= 2, got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    var_s = (a**2).sum() / len(src)
    if var_s <= 0:
        raise ValueError("the source points all coincide: no similarity is defined")
    u, d, vt = np.linalg.svd(b.T @ a / len(src))
    flip = np.ones(len(d))
    flip[-1] = np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0
    r = u @ np.diag(flip) @ vt
    s = float((d * flip).sum() / var_s)
    return s, r, mu_d - s * r @ mu_s


def align_to_map(
    sfm_xyz: np.ndarray, gt_xyz: np.ndarray, up: np.ndarray | None = None
) -> tuple[np.ndarray, tuple[float, np.ndarray, np.ndarray]]:
    """Put SfM positions in the map frame: the similarity fitted to ground truth, applied.

    SfM has no metric scale and an arbitrary frame; fitting the whole reconstruction to the
    true positions (as SLAM and SfM benchmarks do before computing ATE) keeps the shape of
    the SfM trajectory, so what error remains is SfM's own, not the alignment's.

    Args:
        sfm_xyz, gt_xyz: (N, 3) corresponding positions.
        up: the map's +z as seen in the SfM frame, if known. A robot's positions lie in a
            plane, on a straight stretch on a line, leaving the rotation about it free; with
            ``up`` the SfM frame is levelled first and only scale, heading and translation
            are fitted in the plane (4 degrees of freedom, as VIO aligns with gravity known).

    Returns:
        (N, 3) aligned positions, and the similarity (s, R, t) as from ``umeyama``.
    """
    src, dst = np.asarray(sfm_xyz, np.float64), np.asarray(gt_xyz, np.float64)
    if up is None:
        s, r, t = umeyama(src, dst)
    else:
        level = _rotation_to_z(np.asarray(up, np.float64))
        s, r2, t2 = umeyama((src @ level.T)[:, :2], dst[:, :2])
        r3 = np.eye(3)
        r3[:2, :2] = r2
        r = r3 @ level
        t = np.r_[t2, np.mean(dst[:, 2] - s * (src @ r.T)[:, 2])]
    return s * src @ r.T + t, (s, r, t)


def _rotation_to_z(v: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction ``v`` to +z."""
    from scipy.spatial.transform import Rotation

    return Rotation.align_vectors([[0.0, 0.0, 1.0]], [v])[0].as_matrix()


def aligned_planar_poses(
    result: SfmResult, gt_xy: np.ndarray
) -> tuple[np.ndarray, tuple[float, np.ndarray, np.ndarray]]:
    """Planar map-frame poses of the registered frames, aligned on all of them.

    The map's up direction in the SfM frame is the mean of the registered bases' z axes (the
    robot drives upright on a flat floor), so ``align_to_map`` fits in the plane.

    Args:
        result: from ``sfm_poses``.
        gt_xy: (N, 2) ground-truth positions of the same frames; only the registered ones
            are used, for the alignment. The base origin is on the floor, so z = 0.

    Returns:
        (N, 3) (x, y, yaw), NaN rows for frames not registered; and the similarity.

    Raises:
        RuntimeError: with fewer than 3 registered frames (no alignment is defined).
    """
    reg = result.registered
    if reg.sum() < 3:
        raise RuntimeError(f"SfM registered {int(reg.sum())} frames; 3 are needed to align")
    dst = np.c_[np.asarray(gt_xy, np.float64)[reg], np.zeros(int(reg.sum()))]
    up = result.world_from_base[reg, :3, 2].mean(axis=0)
    aligned, (s, r, t) = align_to_map(result.world_from_base[reg, :3, 3], dst, up=up)
    rot = r @ result.world_from_base[reg, :3, :3]  # base axes in the map frame
    out = np.full((len(reg), 3), np.nan)
    out[reg, :2] = aligned[:, :2]
    out[reg, 2] = np.arctan2(rot[:, 1, 0], rot[:, 0, 0])
    return out, (s, r, t)
