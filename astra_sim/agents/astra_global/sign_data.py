"""Training data for the pixel sign reader, cut from simulator renders.

Ground truth is exact and free: every sign plate is a box of triangles textured from the
scene's sign atlas, and the atlas cell a triangle's UVs fall in says which sign (and so which
text) it is. Casting the rig's rays gives per-pixel cell ids, hence plate masks for a
detector and labelled crops for a recognizer, with no hand labelling.

Scenes hold few distinct texts (a warehouse repeats ``A-001`` ... ``D-008``), so a reader
trained on them alone would learn a lexicon, not letters. ``randomize_sign_texts`` redraws
the atlas with random texts of the same formats before rendering, which keeps the geometry,
lighting and plate look of real scenes while making every character position vary.
"""

from __future__ import annotations

import dataclasses
import math
import string
from dataclasses import dataclass

import cv2
import numpy as np

from astra_sim.render.cameras import PinholeCamera
from astra_sim.render.embree import EmbreeRenderer
from astra_sim.render.rig import CameraMount, Rig
from astra_sim.scenes.model import Scene
from astra_sim.scenes.textures import ATLAS_COLUMNS, SignAtlas

CHARSET = string.ascii_uppercase + string.digits + "- "
"""Characters the recognizer reads; texts are upper-cased first (matching is case-blind)."""

QUERY_RESOLUTION = 384
"""Default image edge of the query rig: a 0.5 m shelf plate at 2 m is ~48 x 21 px here."""

CROP_SIZE = (32, 128)
"""(height, width) every plate crop is resized to before recognition."""


def normalize_text(text: str) -> str:
    """Upper-case ``text`` and drop characters outside ``CHARSET`` (labels and reads alike)."""
    return "".join(c for c in text.upper() if c in CHARSET).strip()


def query_rig(resolution: int = QUERY_RESOLUTION, cameras: int = 4) -> Rig:
    """The default rig's cameras (90-degree pinholes, 0.5 m up, evenly spread) at a higher size.

    The 128 px default rig cannot resolve sign text; only the pixel count changes here, so
    the views are those the agent already gets, just sharper.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 32:
        raise ValueError(f"resolution must be an integer >= 32, got {resolution!r}")
    cam = PinholeCamera(resolution, resolution, hfov_deg=90.0)
    names = ("front", "left", "back", "right") if cameras == 4 else ()
    return Rig(
        tuple(
            CameraMount(
                cam,
                xyz=(0.0, 0.0, 0.5),
                yaw=2 * math.pi * i / cameras,
                name=names[i] if names else f"cam{i}",
            )
            for i in range(cameras)
        )
    )


def atlas_material(scene: Scene) -> int:
    """Row of the scene's ``sign_atlas`` material, or -1 when it has none."""
    for m in scene.materials:
        if m.kind == "sign_atlas":
            return m.id
    return -1


def face_cells(scene: Scene) -> np.ndarray:
    """(F,) int32 per triangle: -1 off the atlas, 0 on a plate's blank back/edges, k on the
    front of sign text ``k - 1`` (read off the atlas cell holding the triangle's UVs)."""
    out = np.full(len(scene.faces), -1, dtype=np.int32)
    mid = atlas_material(scene)
    if mid < 0:
        return out
    cells = len(scene.materials[mid].params.get("texts", [])) + 1
    rows = 1 << max(0, -(-cells // ATLAS_COLUMNS) - 1).bit_length()
    on = np.flatnonzero(scene.face_material == mid)
    uv = scene.uv[scene.faces[on]].mean(axis=1)
    col = np.clip((uv[:, 0] * ATLAS_COLUMNS).astype(int), 0, ATLAS_COLUMNS - 1)
    row = np.clip(((1.0 - uv[:, 1]) * rows).astype(int), 0, rows - 1)
    out[on] = row * ATLAS_COLUMNS + col
    return out


def sign_texts(scene: Scene) -> list[str]:
    """The texts of the atlas cells, in cell order (index k - 1 for cell k)."""
    mid = atlas_material(scene)
    return list(scene.materials[mid].params.get("texts", [])) if mid >= 0 else []


def _random_text(rng: np.random.Generator) -> str:
    letters = string.ascii_uppercase
    kind = rng.integers(6)
    n = int(rng.integers(1, 13))
    if kind <= 1:  # shelf codes, mostly low bay numbers like the generator's
        num = rng.integers(1, 30) if rng.random() < 0.6 else rng.integers(0, 1000)
        return f"{letters[rng.integers(26)]}-{num:03d}"
    if kind == 2:
        return f"{rng.choice(['DOCK', 'STATION', 'GATE', 'ZONE', 'AISLE'])} {n}"
    if kind == 3:
        return f"Room {rng.integers(1, 10)}{rng.integers(0, 10)}{rng.integers(0, 10)}"
    words = [
        "".join(rng.choice(list(letters), size=int(rng.integers(3, 8))))
        for _ in range(int(rng.integers(1, 3)))
    ]
    text = " ".join(words)
    return text.title() if rng.random() < 0.5 else text


def randomize_sign_texts(scene: Scene, rng: np.random.Generator) -> Scene:
    """A copy of ``scene`` whose signs show random texts (same plates, same atlas cells)."""
    mid = atlas_material(scene)
    if mid < 0:
        return scene
    texts = [_random_text(rng) for _ in sign_texts(scene)]
    atlas = SignAtlas.build(texts)
    old = scene.materials[mid]
    if atlas.image.shape != old.image.shape:  # cell size differs: keep the scene's own
        return scene
    mats = list(scene.materials)
    mats[mid] = dataclasses.replace(old, image=atlas.image, params={**old.params, "texts": texts})
    return dataclasses.replace(scene, materials=mats)


@dataclass
class GTSign:
    """One sign front seen by one camera: its text, pixel box ``(x0, y0, x1, y1)`` (exclusive
    end), front-face pixel count, and whether the box touches the image border (cut off)."""

    camera: int
    cell: int
    text: str
    bbox: tuple[int, int, int, int]
    pixels: int
    cut: bool


def ground_truth(
    renderer: EmbreeRenderer, rig: Rig, pose: tuple[float, float, float], cells: np.ndarray
) -> np.ndarray:
    """(C, H, W) int32 cell map for a pose (see ``face_cells``; -1 off plates and on misses)."""
    origins, dirs = rig.rays(pose)
    prim, _, _, _ = renderer.cast(origins, dirs)
    values = np.where(prim >= 0, cells[np.maximum(prim, 0)], -1)
    out = np.full(rig.valid.shape, -1, dtype=np.int32)
    out[rig.valid] = values
    return out


def visible_signs(cell_map: np.ndarray, texts: list[str], min_pixels: int = 1) -> list[GTSign]:
    """Every sign front with at least ``min_pixels`` pixels in a camera of ``cell_map``."""
    out = []
    for c, cam in enumerate(cell_map):
        h, w = cam.shape
        for k in np.unique(cam[cam > 0]):
            ys, xs = np.nonzero(cam == k)
            if len(ys) < min_pixels:
                continue
            box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            cut = box[0] == 0 or box[1] == 0 or box[2] == w or box[3] == h
            out.append(GTSign(c, int(k), texts[k - 1], box, len(ys), cut))
    return out


def crop(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The ``box`` of an (H, W, 3) image resized to ``CROP_SIZE`` (clipped to the image)."""
    h, w = image.shape[:2]
    x0, y0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    x1, y1 = min(w, math.ceil(box[2])), min(h, math.ceil(box[3]))
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    patch = np.ascontiguousarray(image[y0:y1, x0:x1])
    return cv2.resize(patch, (CROP_SIZE[1], CROP_SIZE[0]), interpolation=cv2.INTER_LINEAR)


def jitter_box(box: tuple[int, ...], rng: np.random.Generator, amount: float) -> tuple[float, ...]:
    """``box`` with each side moved by up to ``amount`` of its size, biased outwards, the
    kind of error a detector's coarse mask makes."""
    x0, y0, x1, y1 = (float(v) for v in box)
    bw, bh = max(x1 - x0, 2.0), max(y1 - y0, 2.0)
    d = rng.uniform(-0.5 * amount, amount, size=4)
    return (x0 - d[0] * bw, y0 - d[1] * bh, x1 + d[2] * bw, y1 + d[3] * bh)


def sign_poses(scene: Scene, rng: np.random.Generator, n: int, max_dist: float = 5.0) -> np.ndarray:
    """(n, 3) navigable poses whose camera 0 looks roughly at a random sign front."""
    cells = face_cells(scene)
    grid = scene.navgrid()
    fronts = np.unique(cells[cells > 0])
    if len(fronts) == 0:
        return np.zeros((0, 3))
    out: list[tuple[float, float, float]] = []
    for _ in range(50 * n):
        if len(out) == n:
            break
        faces = scene.faces[cells == rng.choice(fronts)]
        tri = scene.vertices[faces].astype(np.float64)
        centre = tri.reshape(-1, 3).mean(axis=0)
        normal = np.cross(tri[0, 1] - tri[0, 0], tri[0, 2] - tri[0, 0])[:2]
        normal = normal / max(np.linalg.norm(normal), 1e-9) * rng.choice([-1.0, 1.0])
        d = rng.uniform(0.7, max_dist)
        lateral = rng.uniform(-0.8, 0.8) * d
        xy = centre[:2] + d * normal + lateral * np.array([-normal[1], normal[0]])
        if not (grid.is_navigable(xy[None])[0] and grid.esdf_at(xy[None])[0] > 0.25):
            continue
        to = centre[:2] - xy
        yaw = math.atan2(to[1], to[0]) + rng.uniform(-0.6, 0.6)
        out.append((float(xy[0]), float(xy[1]), yaw))
    return np.asarray(out, dtype=np.float64).reshape(-1, 3)


def random_poses(scene: Scene, rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 3) area-uniform navigable poses with uniform headings."""
    xy = scene.navgrid().sample_navigable(rng, n)
    return np.concatenate([xy, rng.uniform(-math.pi, math.pi, (n, 1))], axis=1)


@dataclass
class SignSamples:
    """Detector and recognizer training data.

    Attributes:
        images: (N, H, W, 3) uint8 single-camera views.
        masks: (N, H, W) bool plate pixels (fronts, backs and edges) of ``images``.
        crops: (M, *CROP_SIZE, 3) uint8 jittered plate crops, plus background crops.
        labels: M normalized texts; "" for background crops (read as "no sign").
    """

    images: np.ndarray
    masks: np.ndarray
    crops: np.ndarray
    labels: list[str]


def _negative_boxes(mask: np.ndarray, rng: np.random.Generator, n: int) -> list[tuple]:
    """Up to n plate-shaped boxes holding (almost) no plate pixels."""
    h, w = mask.shape
    out = []
    for _ in range(10 * n):
        if len(out) == n:
            break
        bw = rng.uniform(12, min(160, w - 1))
        bh = bw / rng.uniform(1.2, 4.0)
        x0, y0 = rng.uniform(0, w - bw), rng.uniform(0, max(1, h - bh))
        box = (x0, y0, x0 + bw, y0 + bh)
        if mask[int(y0) : int(y0 + bh) + 1, int(x0) : int(x0 + bw) + 1].mean() < 0.05:
            out.append(box)
    return out


def collect_samples(
    kinds: tuple[str, ...],
    seeds: tuple[int, ...] | range,
    views_per_scene: int = 16,
    resolution: int = QUERY_RESOLUTION,
    seed: int = 0,
    randomized: float = 0.5,
    aimed: float = 0.75,
    jitters: int = 3,
    jitter: float = 0.2,
    negatives: int = 2,
    min_crop_pixels: int = 60,
    progress: bool = False,
) -> SignSamples:
    """Render single-camera views of generated scenes and cut detector/recognizer samples.

    Args:
        kinds, seeds: the scenes (use training seeds only, e.g. 100-199).
        views_per_scene: views per scene; ``randomized`` of them show random texts.
        aimed: fraction of views aimed at a sign (the rest are random poses).
        jitters, jitter: crops per visible sign and how far their sides wander.
        negatives: background crops per view, labelled "".
        min_crop_pixels: smaller sign fronts give no crop (unreadable even to a person).
    """
    from tqdm import tqdm

    from astra_sim.core.seeding import make_rng
    from astra_sim.scenes.generators import generate_scene

    rig = query_rig(resolution, cameras=1)
    images, masks, crops, labels = [], [], [], []
    jobs = [(k, s) for k in kinds for s in seeds]
    for kind, s in tqdm(jobs, desc="sign data", disable=not progress):
        scene = generate_scene(kind, int(s))
        rng = make_rng(seed, "sign-data", kind, int(s))
        cells = face_cells(scene)
        n_rand = round(views_per_scene * randomized)
        for shown, n in ((scene, views_per_scene - n_rand), (None, n_rand)):
            if n == 0:
                continue
            shown = shown or randomize_sign_texts(scene, rng)
            texts = sign_texts(shown)
            n_aim = round(n * aimed) if len(texts) else 0
            poses = sign_poses(scene, rng, n_aim)
            poses = np.concatenate([poses, random_poses(scene, rng, n - len(poses))])
            with EmbreeRenderer(shown, threads=1) as r:
                for pose in poses:
                    rgb = r.render(rig, pose, depth=False, semantic=False).rgb[0]
                    cmap = ground_truth(r, rig, tuple(pose), cells)[0]
                    images.append(rgb)
                    masks.append(cmap >= 0)
                    for g in visible_signs(cmap[None], texts, min_crop_pixels):
                        if not g.cut:
                            for _ in range(jitters):
                                crops.append(crop(rgb, jitter_box(g.bbox, rng, jitter)))
                                labels.append(normalize_text(g.text))
                    for box in _negative_boxes(masks[-1], rng, negatives):
                        crops.append(crop(rgb, box))
                        labels.append("")
    h = w = resolution
    return SignSamples(
        images=np.stack(images) if images else np.zeros((0, h, w, 3), np.uint8),
        masks=np.stack(masks) if masks else np.zeros((0, h, w), bool),
        crops=np.stack(crops) if crops else np.zeros((0, *CROP_SIZE, 3), np.uint8),
        labels=labels,
    )
