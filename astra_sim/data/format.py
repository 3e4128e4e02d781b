"""The episode dataset format: one Parquet row per step, images as PNG, in LeRobot's shape.

Layout of a dataset folder::

    meta/info.json       features (dtype, shape, encoding), rates, rig, scenes, seeds, recipe
    meta/stats.json      per-feature count, mean, std, min, max (for normalisation)
    meta/episodes.jsonl  one line per episode: length, scene, episode id, success, spl, ...
    data/chunk-000/episode_000000.parquet   one shard per episode

Row columns: ``episode_index``, ``frame_index``, ``timestamp`` (s since the episode start),
``observation.<key>`` for each stored sensor, ``action`` (the executed (v, w)),
``action.expert`` (the expert's own command, expert runs only), ``info.pose`` (x, y, yaw),
``info.collided``, ``next.reward``, ``next.done``, ``next.success``. Arrays are flattened
into fixed-size lists; their shapes are in ``info.json``. Camera images are one PNG per
camera: RGB 8-bit, depth 16-bit in millimetres (so 0-65.535 m, misses 0), semantic ids
16-bit. A row holds the observation the action was taken from; the last observation of
an episode (after its last action) is not stored.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

CODEBASE_VERSION = "astra-sim-episodes/1"
CHUNK_SIZE = 1000
"""Episodes per ``data/chunk-NNN`` folder, so no folder grows past a thousand files."""
DEPTH_SCALE = 0.001
"""Metres per depth PNG level."""
IMAGE_KEYS = ("rgb", "goal_image", "depth", "semantic")


def shard_name(episode_index: int) -> str:
    """Relative path of an episode's shard."""
    return f"data/chunk-{episode_index // CHUNK_SIZE:03d}/episode_{episode_index:06d}.parquet"


def encode_png(image: np.ndarray) -> bytes:
    """One camera's image as PNG: (H, W, 3) uint8, or (H, W) uint16."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """The array ``encode_png`` wrote (uint8 RGB or uint16 single channel)."""
    with Image.open(io.BytesIO(data)) as im:
        array = np.asarray(im)
    return array.astype(np.uint16) if array.ndim == 2 else array


def quantize_depth(depth: np.ndarray) -> np.ndarray:
    """Metres -> uint16 millimetres (clipped to 65.535 m)."""
    return np.clip(np.rint(np.asarray(depth) / DEPTH_SCALE), 0, 65535).astype(np.uint16)


def encode_images(key: str, array: np.ndarray) -> list[bytes]:
    """A (C, H, W[, 3]) camera stack as C PNGs."""
    if key == "depth":
        array = quantize_depth(array)
    elif key == "semantic":
        if array.size and (array.min() < 0 or array.max() > 65535):
            raise ValueError(
                f"semantic ids must lie in [0, 65535] to store as 16-bit PNG, got "
                f"[{array.min()}, {array.max()}]"
            )
        array = array.astype(np.uint16)
    return [encode_png(np.ascontiguousarray(a)) for a in array]


def decode_images(key: str, pngs: list[bytes]) -> np.ndarray:
    """C PNGs back to the stored array: depth in float32 metres, semantic int32."""
    array = np.stack([decode_png(p) for p in pngs])
    if key == "depth":
        return array.astype(np.float32) * np.float32(DEPTH_SCALE)
    if key == "semantic":
        return array.astype(np.int32)
    return array


def stored_value(key: str, array: np.ndarray) -> np.ndarray:
    """What a reader will get back for an observation (depth is quantised to 1 mm)."""
    if key == "depth":
        return quantize_depth(array).astype(np.float32) * np.float32(DEPTH_SCALE)
    return np.asarray(array)


def feature_spec(obs_space: Any, features: list[str], expert_label: bool) -> dict[str, Any]:
    """``info.json``'s features: per column its dtype, shape and encoding."""
    spec: dict[str, Any] = {
        "episode_index": {"dtype": "int64", "shape": [1]},
        "frame_index": {"dtype": "int64", "shape": [1]},
        "timestamp": {"dtype": "float32", "shape": [1]},
    }
    missing = [k for k in features if k not in obs_space.spaces]
    if missing:
        raise ValueError(
            f"feature(s) {', '.join(missing)} are not in this task's observation "
            f"(it has {', '.join(obs_space.spaces)})"
        )
    for key in features:
        space = obs_space.spaces[key]
        shape = list(space.shape)
        if key in IMAGE_KEYS:
            dtype = {"depth": "float32", "semantic": "int32"}.get(key, "uint8")
            spec[f"observation.{key}"] = {
                "dtype": dtype,
                "shape": shape,
                "encoding": "png16" if key in ("depth", "semantic") else "png",
                "names": ["camera", "height", "width", "channel"][: len(shape)],
                **({"scale": DEPTH_SCALE, "unit": "m"} if key == "depth" else {}),
            }
        else:
            spec[f"observation.{key}"] = {"dtype": "float32", "shape": shape}
    spec["action"] = {"dtype": "float32", "shape": [2], "names": ["linear", "angular"]}
    if expert_label:
        spec["action.expert"] = {"dtype": "float32", "shape": [2], "names": ["linear", "angular"]}
    spec["info.pose"] = {"dtype": "float32", "shape": [3], "names": ["x", "y", "yaw"]}
    spec["info.collided"] = {"dtype": "bool", "shape": [1]}
    spec["next.reward"] = {"dtype": "float32", "shape": [1]}
    spec["next.done"] = {"dtype": "bool", "shape": [1]}
    spec["next.success"] = {"dtype": "bool", "shape": [1]}
    return spec
