"""The ``randomize:`` block of an env recipe: which knobs vary per episode, within which ranges.

Every knob is a range ``[low, high]`` that a per-episode value is drawn from uniformly (a
single number is a fixed value). The knobs live in groups, one per thing a real robot
meets that the simulator would otherwise hold fixed (appearance, lighting, camera
calibration, image noise, IMU, wheels, actuation). A knob that is not named keeps the
simulator's own value, so a block changes what it names and nothing else; a group named
without knobs (``lighting:`` or ``lighting: default``) takes every knob of the group at
its default range, and ``randomize: default`` takes every group.

The table ``KNOBS`` is the schema: each knob's default range and the values it may take.
Bad input (an unknown group or knob, an inverted range, a negative noise level) raises a
``RandomizeError`` that names the dotted key, e.g. ``randomize.lighting.ambient``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from astra_sim.core.errors import AstraSimError
from astra_sim.render.shading import Shading

Range = tuple[float, float]


class RandomizeError(AstraSimError, ValueError):
    """A ``randomize`` block names an unknown key or gives a range a knob cannot take."""


@dataclass(frozen=True)
class Knob:
    """One randomized quantity.

    Attributes:
        default: the range used when the knob is asked for without one.
        low: smallest value allowed (None: unbounded).
        high: largest value allowed (None: unbounded).
        low_open: ``low`` itself is not allowed (a scale error of -1 would zero a reading).
        what: one line for error messages and the docs.
    """

    default: Range
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    what: str = ""


_NOISE = "a noise level"
KNOBS: dict[str, dict[str, Knob]] = {
    "appearance": {
        "texture_redraw": Knob((0.25, 0.75), 0.0, 1.0, what="share of materials whose texture "
                               "pattern is redrawn (same kind, same mean colour)"),
        "texture_kind_swap": Knob((0.0, 0.25), 0.0, 1.0, what="share of redrawn textures that "
                                  "also take another kind (wood -> fabric, same colour)"),
        "colour_gain": Knob((0.85, 1.15), 0.0, what="per material and channel colour factor"),
        "brightness": Knob((0.8, 1.2), 0.0, what="per material brightness factor"),
    },
    "lighting": {
        "ambient": Knob((0.4, 0.65), 0.0, 1.0, what="light factor of surfaces facing away"),
        "diffuse": Knob((0.25, 0.35), 0.0, 1.0, what="extra factor of surfaces facing the light"),
        "azimuth_deg": Knob((-180.0, 180.0), what="light direction about z, degrees"),
        "elevation_deg": Knob((35.0, 85.0), -90.0, 90.0, what="light elevation, degrees"),
        "intensity": Knob((0.75, 1.25), 0.0, what="exposure gain on every colour (saturates)"),
        "attenuation": Knob((0.0, 0.06), 0.0, what="distance fall-off per metre"),
    },
    "camera": {
        "focal_scale": Knob((0.95, 1.05), 0.0, low_open=True, what="per camera focal length "
                            "factor (pinhole and fisheye)"),
        "principal_px": Knob((-2.0, 2.0), what="per camera principal point offset (cx, cy), px "
                             "(pinhole)"),
        "xyz_m": Knob((-0.01, 0.01), what="per camera mount offset on each axis, metres"),
        "yaw_deg": Knob((-2.0, 2.0), what="per camera mount yaw offset, degrees"),
        "pitch_deg": Knob((-2.0, 2.0), what="per camera mount pitch offset, degrees"),
    },
    "image_noise": {
        "rgb_sigma": Knob((0.0, 4.0), 0.0, what="Gaussian RGB noise, 8-bit levels"),
        "depth_scale": Knob((0.0, 1.5), 0.0, what="Redwood depth noise scale (0 = none)"),
    },
    "imu": {
        "noise_scale": Knob((0.5, 2.0), 0.0, what="factor on every IMU noise figure"),
        "accel_scale_error": Knob((-0.01, 0.01), -1.0, low_open=True,
                                  what="accelerometer scale factor error"),
        "gyro_scale_error": Knob((-0.01, 0.01), -1.0, low_open=True,
                                 what="gyroscope scale factor error"),
    },
    "wheel": {
        "noise_scale": Knob((0.5, 2.0), 0.0, what="factor on the encoder reading noise"),
        "radius_error": Knob((-0.02, 0.02), -1.0, low_open=True, what="per wheel: true radius "
                             "over the calibrated one, minus 1"),
        "track_width_error": Knob((-0.03, 0.03), -1.0, low_open=True, what="true track width "
                                  "over the calibrated one, minus 1"),
        "slip_event_rate": Knob((0.0, 0.3), 0.0, what="slip events per second per wheel"),
        "slip_event_std": Knob((0.1, 0.4), 0.0, what="size of a slip event (std of its fraction)"),
    },
    "actuation": {
        "latency_s": Knob((0.0, 0.06), 0.0, 1.0, what="command latency, seconds (whole physics "
                          "ticks)"),
        "linear_gain": Knob((0.95, 1.05), 0.0, what="executed over commanded linear speed"),
        "angular_gain": Knob((0.95, 1.05), 0.0, what="executed over commanded angular speed"),
        "linear_noise": Knob((0.0, 0.02), 0.0, what="std of per-step linear speed noise, m/s"),
        "angular_noise": Knob((0.0, 0.05), 0.0, what="std of per-step angular speed noise, rad/s"),
    },
}  # fmt: skip
"""Every group and knob a ``randomize`` block may name, with default ranges and bounds."""

NOISE_KNOBS = {
    ("image_noise", "rgb_sigma"),
    ("image_noise", "depth_scale"),
    ("imu", "noise_scale"),
    ("wheel", "noise_scale"),
    ("wheel", "slip_event_std"),
    ("actuation", "linear_noise"),
    ("actuation", "angular_noise"),
}
"""Knobs whose values are noise levels: a negative one is called that in the error."""

GROUPS: tuple[str, ...] = tuple(KNOBS)


@dataclass(frozen=True)
class RandomizeConfig:
    """A checked ``randomize`` block: group -> knob -> (low, high), only what was asked for.

    Build it with ``parse_randomize``; ``ranges`` holds the named knobs alone, so a knob
    that is absent keeps the simulator's value.
    """

    ranges: Mapping[str, Mapping[str, Range]]

    def range(self, group: str, knob: str) -> Range | None:
        """The knob's range, or None when the block leaves it at the simulator's value."""
        return self.ranges.get(group, {}).get(knob)

    def has(self, group: str) -> bool:
        return bool(self.ranges.get(group))

    def to_json(self) -> dict[str, dict[str, list[float]]]:
        """The block with every range spelled out: what datasets record."""
        return {
            group: {k: [lo, hi] for k, (lo, hi) in knobs.items()}
            for group, knobs in self.ranges.items()
        }


def parse_randomize(value: Any, where: str = "randomize") -> RandomizeConfig | None:
    """A ``randomize`` block (mapping, ``"default"``/True, a RandomizeConfig or None) checked.

    Returns None for no randomization (None, False or an empty mapping), so the simulator
    runs exactly as without a block.

    Raises:
        RandomizeError: naming the dotted key that is unknown or out of bounds.
    """
    if value is None or value is False:
        return None
    if isinstance(value, RandomizeConfig):
        return value if value.ranges else None
    if value is True or value == "default":
        return RandomizeConfig({g: _defaults(g) for g in GROUPS})
    if not isinstance(value, Mapping):
        raise RandomizeError(
            f"{where} must be a mapping of groups ({', '.join(GROUPS)}), 'default' or null, "
            f"got {value!r}"
        )
    ranges: dict[str, dict[str, Range]] = {}
    for group, knobs in value.items():
        if group not in KNOBS:
            raise RandomizeError(
                f"{where}.{group}: unknown group; valid groups are: {', '.join(GROUPS)}"
            )
        ranges[group] = _parse_group(group, knobs, f"{where}.{group}")
    _check_lighting(ranges.get("lighting", {}), f"{where}.lighting")
    return RandomizeConfig(ranges) if ranges else None


def _defaults(group: str) -> dict[str, Range]:
    return {name: knob.default for name, knob in KNOBS[group].items()}


def _parse_group(group: str, knobs: Any, where: str) -> dict[str, Range]:
    if knobs is None or knobs == "default" or knobs == {}:
        return _defaults(group)
    if not isinstance(knobs, Mapping):
        raise RandomizeError(
            f"{where} must be a mapping of knobs ({', '.join(KNOBS[group])}) or 'default', "
            f"got {knobs!r}"
        )
    out = {}
    for name, value in knobs.items():
        if name not in KNOBS[group]:
            raise RandomizeError(
                f"{where}.{name}: unknown key; valid keys of {group} are: {', '.join(KNOBS[group])}"
            )
        out[name] = _parse_range(KNOBS[group][name], value, f"{where}.{name}",
                                 (group, name) in NOISE_KNOBS)  # fmt: skip
    return out


def _number(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _parse_range(knob: Knob, value: Any, where: str, noise: bool) -> Range:
    if value is None or value == "default":
        return knob.default
    if _number(value):
        lo = hi = float(value)
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(_number(v) for v in value):
        lo, hi = float(value[0]), float(value[1])
    else:
        raise RandomizeError(
            f"{where} must be a range [low, high] of two finite numbers or one number, "
            f"got {value!r}"
        )
    if lo > hi:
        raise RandomizeError(f"{where}: range [{lo:g}, {hi:g}] is inverted (low > high)")
    shown = f"[{lo:g}, {hi:g}]"
    if knob.low is not None and (lo < knob.low or (knob.low_open and lo == knob.low)):
        if noise:
            raise RandomizeError(f"{where}: {shown} goes below 0; {_NOISE} must be >= 0")
        bound = ">" if knob.low_open else ">="
        raise RandomizeError(f"{where}: {shown} must be {bound} {knob.low:g} ({knob.what})")
    if knob.high is not None and hi > knob.high:
        raise RandomizeError(f"{where}: {shown} must be <= {knob.high:g} ({knob.what})")
    return lo, hi


def _check_lighting(knobs: Mapping[str, Range], where: str) -> None:
    """ambient + diffuse must stay <= 1 at the top of both ranges, or colours would clip
    (``Shading``); the knob left out keeps the renderer's default."""
    nominal = Shading()
    ambient = knobs.get("ambient", (nominal.ambient,) * 2)[1]
    diffuse = knobs.get("diffuse", (nominal.diffuse,) * 2)[1]
    if ambient + diffuse > 1.0 + 1e-9:
        raise RandomizeError(
            f"{where}: ambient high ({ambient:g}) + diffuse high ({diffuse:g}) must be <= 1 "
            f"(the renderer's light factor; the knob not given keeps its default "
            f"{nominal.ambient:g} / {nominal.diffuse:g})"
        )
