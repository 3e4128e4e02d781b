"""``astra-sim scene show SCENE --randomize N``: what N domain randomization draws look like.

One row per draw (the first row is the scene without randomization), each the rig's
camera images side by side from the most open spot of the scene, rendered through the
simulator exactly as an env's first observation of an episode would be, and captioned
with the draw's main values. The picture in docs/sim_to_real.md comes from here.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from astra_sim.core.fileio import atomic_write
from astra_sim.core.recipe import read_yaml
from astra_sim.core.seeding import make_rng
from astra_sim.sim.randomization import RandomizeConfig, parse_randomize

CAPTION_PX = 16


def load_block(path: Path | None) -> RandomizeConfig:
    """The ``randomize`` block of a YAML file (an env recipe's ``randomize:`` key or the
    block itself); every knob at its default range without a file."""
    if path is None:
        return parse_randomize("default")
    if not path.is_file():
        raise FileNotFoundError(f"randomize recipe {path} does not exist")
    data = read_yaml(path)
    if isinstance(data, dict) and set(data) == {"randomize"}:
        data = data["randomize"]
    config = parse_randomize(data, where=f"{path}: randomize")
    if config is None:
        raise ValueError(f"{path}: the randomize block is empty; nothing would change")
    return config


def caption(index: int, draw: dict[str, Any] | None) -> str:
    """A one-line summary of a draw: lighting, the first camera's offsets, image noise."""
    if draw is None:
        return "no randomization"
    parts = [f"draw {index}"]
    light = draw.get("lighting", {})
    names = (("ambient", "amb", "{:.2f}"), ("azimuth_deg", "az", "{:.0f}"),
             ("elevation_deg", "el", "{:.0f}"), ("intensity", "int", "{:.2f}"))  # fmt: skip
    shown = [f"{short} {fmt.format(light[k])}" for k, short, fmt in names if k in light]
    if shown:
        parts.append("light " + " ".join(shown))
    cameras = draw.get("camera", {})
    if cameras:
        name, cam = next(iter(cameras.items()))
        bits = [f"yaw {cam['yaw_deg']:+.1f}" if "yaw_deg" in cam else "",
                f"pitch {cam['pitch_deg']:+.1f}" if "pitch_deg" in cam else "",
                f"f x{cam['focal_scale']:.3f}" if "focal_scale" in cam else ""]  # fmt: skip
        parts.append(f"{name} " + " ".join(b for b in bits if b))
    noise = draw.get("image_noise", {})
    if "rgb_sigma" in noise:
        parts.append(f"rgb noise {noise['rgb_sigma']:.1f}")
    return " | ".join(parts)


def randomized_views(
    scene: Any, n: int, config: RandomizeConfig, seed: int = 0, rig: str = "default"
) -> np.ndarray:
    """(rows * (CAPTION_PX + H), C * W, 3) uint8: the scene unrandomized, then ``n`` draws."""
    from PIL import Image, ImageDraw

    from astra_sim.sim import SimConfig, Simulator
    from astra_sim.sim.randomization.apply import check_supported, draw_for

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"--randomize must be a positive number of draws, got {n!r}")
    grid = scene.navgrid()
    rng = make_rng(seed, "scene-show", "pose")
    spots = grid.sample_navigable(rng, 64)
    xy = spots[np.argmax(grid.esdf_at(spots))]  # the most open spot of 64
    pose = np.array([xy[0], xy[1], float(rng.uniform(-np.pi, np.pi))])
    rows = []
    with Simulator(scene, SimConfig(rig=rig)) as sim:
        check_supported(config, sim)
        for i in range(n + 1):
            draw = None
            episode_seed = int(make_rng(seed, "scene-show", "draw", i).integers(2**31 - 1))
            if i:
                draw = draw_for(config, sim, episode_seed)
            obs = sim.reset(pose, seed=episode_seed, randomization=draw)
            images = np.concatenate(list(obs["rgb"]), axis=1)
            strip = Image.new("RGB", (images.shape[1], CAPTION_PX), (255, 255, 255))
            text = caption(i, None if draw is None else draw.to_json())
            ImageDraw.Draw(strip).text((3, 2), text, fill=(0, 0, 0))
            rows += [np.asarray(strip), images]
    return np.concatenate(rows, axis=0)


def save_randomized_views(
    scene: Any, path: Path, n: int, config: RandomizeConfig, seed: int = 0, rig: str = "default"
) -> Path:
    """``randomized_views`` written as a PNG, atomically."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(randomized_views(scene, n, config, seed, rig)).save(buf, format="PNG")
    return atomic_write(Path(path), buf.getvalue())
