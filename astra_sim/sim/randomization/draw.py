"""Per-episode draws of a ``randomize`` block: one value per knob, from the episode's seed.

Each knob draws from its own sub-stream of the seed (``make_rng(seed, "randomize", group,
knob)``), so naming one more knob never changes another's draws, and nothing here touches
the env's own generator: an env with a block samples the very same episodes (starts,
goals, sensor noise streams) as one without it. The result is plain JSON (what goes in
``info["randomization"]`` and a dataset's ``meta/episodes.jsonl``) and is all that
``apply`` needs, so a recorded draw can be replayed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from astra_sim.core.seeding import check_seed, make_rng
from astra_sim.render.cameras import EquirectangularCamera, PinholeCamera
from astra_sim.render.rig import Rig
from astra_sim.scenes.model import Material
from astra_sim.scenes.textures import COLOURS, TEXTURE_KINDS
from astra_sim.sim.randomization.config import RandomizeConfig

SIGN_ATLAS = "sign_atlas"
"""The material kind that holds sign text: appearance knobs leave it alone (lighting does
not), so signs stay as legible and their colours as true as without randomization."""


@dataclass(frozen=True)
class Randomization:
    """One episode's drawn values, group by group (only the knobs the block names).

    Attributes:
        seed: the episode seed the values were drawn from (also seeds redrawn textures).
        values: group -> knob -> value; per-camera knobs under the camera's name, per
            material knobs under ``materials`` and the material's name.
    """

    seed: int
    values: dict[str, Any] = field(default_factory=dict)

    def group(self, name: str) -> dict[str, Any]:
        return self.values.get(name, {})

    def to_json(self) -> dict[str, Any]:
        """A deep copy fit for ``json.dumps``: ``{"seed": s, group: {...}, ...}``."""
        return {"seed": self.seed, **copy.deepcopy(self.values)}

    def apply(self, sim: Any) -> None:
        """Configure the Simulator ``sim`` for this episode (``Simulator.reset`` calls it)."""
        from astra_sim.sim.randomization.apply import apply_randomization

        apply_randomization(self, sim)


def texture_changeable(material: Material) -> bool:
    """Whether a material's pattern can be redrawn: a procedural kind, a square power-of-two
    image and a named colour, as ``make_texture`` makes them."""
    h, w = material.image.shape[:2]
    return (
        material.kind in TEXTURE_KINDS
        and material.colour in COLOURS
        and h == w >= 16
        and not h & (h - 1)
    )


def draw_randomization(
    config: RandomizeConfig, rig: Rig, materials: list[Material], seed: int
) -> Randomization:
    """The values of every knob ``config`` names for the episode of ``seed``.

    Args:
        config: the checked block.
        rig: the simulator's calibrated rig (per-camera knobs draw one value per camera).
        materials: the scene's materials (per-material knobs draw one value per material).
        seed: the episode seed (the env draws it from its own generator once per reset).
    """
    seed = check_seed(seed, "randomization seed")
    values: dict[str, Any] = {}
    for group, knobs in config.ranges.items():
        if group == "appearance":
            values[group] = _appearance(knobs, materials, seed)
        elif group == "camera":
            values[group] = _camera(knobs, rig, seed)
        else:
            values[group] = {
                name: _uniform(seed, group, name, lohi, 2 if name == "radius_error" else None)
                for name, lohi in knobs.items()
            }
    return Randomization(seed, values)


def _uniform(seed: int, group: str, knob: str, lohi: tuple[float, float], size: Any = None) -> Any:
    """Uniform draws in [low, high] (exactly low when the range is one value)."""
    lo, hi = lohi
    out = make_rng(seed, "randomize", group, knob).uniform(lo, hi, size)
    return out.tolist() if isinstance(out, np.ndarray) else float(out)


def _camera(knobs: dict[str, tuple[float, float]], rig: Rig, seed: int) -> dict[str, Any]:
    """One value per camera and knob; a knob a camera model has no use for is left out
    (principal point: pinhole only; focal length: not equirectangular)."""
    sizes = {"principal_px": 2, "xyz_m": 3}
    n = len(rig.mounts)
    drawn = {
        name: np.asarray(_uniform(seed, "camera", name, lohi, (n, sizes.get(name, 1))))
        for name, lohi in knobs.items()
    }
    out = {}
    for i, (cam, mount) in enumerate(zip(rig.names, rig.mounts, strict=True)):
        row = {}
        for name, table in drawn.items():
            if name == "principal_px" and not isinstance(mount.camera, PinholeCamera):
                continue
            if name == "focal_scale" and isinstance(mount.camera, EquirectangularCamera):
                continue
            row[name] = table[i].tolist() if name in sizes else float(table[i, 0])
        out[cam] = row
    return out


def material_keys(materials: list[Material]) -> list[str]:
    """The name each material's draws go under: its name, with ``#id`` where names repeat."""
    names = [m.name for m in materials]
    return [m.name if names.count(m.name) == 1 else f"{m.name}#{m.id}" for m in materials]


def _appearance(
    knobs: dict[str, tuple[float, float]], materials: list[Material], seed: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    n = len(materials)
    redraw = np.zeros(n, bool)
    new_kind: list[str | None] = [None] * n
    if "texture_redraw" in knobs:
        share = _uniform(seed, "appearance", "texture_redraw", knobs["texture_redraw"])
        out["texture_redraw"] = share
        picks = make_rng(seed, "randomize", "appearance", "texture_redraw", "pick").random(n)
        redraw = (picks < share) & np.array([texture_changeable(m) for m in materials], bool)
        new_kind = [m.kind if r else None for m, r in zip(materials, redraw, strict=True)]
    if "texture_kind_swap" in knobs and redraw.any():
        share = _uniform(seed, "appearance", "texture_kind_swap", knobs["texture_kind_swap"])
        out["texture_kind_swap"] = share
        rng = make_rng(seed, "randomize", "appearance", "texture_kind_swap", "pick")
        swap, choice = rng.random(n), rng.integers(len(TEXTURE_KINDS) - 1, size=n)
        for i, m in enumerate(materials):
            if redraw[i] and swap[i] < share:
                others = [k for k in TEXTURE_KINDS if k != m.kind]
                new_kind[i] = others[int(choice[i])]
    gains = {
        name: np.asarray(_uniform(seed, "appearance", name, knobs[name], (n, size)))
        for name, size in (("colour_gain", 3), ("brightness", 1))
        if name in knobs
    }
    per_material = {}
    for i, (m, key) in enumerate(zip(materials, material_keys(materials), strict=True)):
        if m.kind == SIGN_ATLAS:
            continue
        row: dict[str, Any] = {}
        if "texture_redraw" in knobs:
            row["texture"] = new_kind[i]
        if "colour_gain" in gains:
            row["colour_gain"] = gains["colour_gain"][i].tolist()
        if "brightness" in gains:
            row["brightness"] = float(gains["brightness"][i, 0])
        per_material[key] = row
    out["materials"] = per_material
    return out
