"""Camera rigs from YAML recipes, so a user describes a new robot's cameras without code.

A recipe lists cameras with their model, image size, field of view and mount::

    cameras:
      - {name: front, model: pinhole, width: 128, height: 128, hfov_deg: 90,
         xyz: [0, 0, 0.5], yaw_deg: 0, pitch_deg: 0}

Fisheye cameras take ``fov_deg``, ``lens`` (equidistant or kannala_brandt) and ``k``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from astra_sim.core.errors import UnknownNameError
from astra_sim.render.cameras import EquirectangularCamera, FisheyeCamera, PinholeCamera
from astra_sim.render.rig import RIG_NAMES, CameraMount, Rig

_MODELS = {
    "pinhole": (PinholeCamera, ("width", "height", "hfov_deg")),
    "fisheye": (FisheyeCamera, ("width", "height", "fov_deg", "lens", "k")),
    "equirectangular": (EquirectangularCamera, ("width", "height")),
}
_MOUNT_KEYS = ("name", "model", "xyz", "yaw_deg", "pitch_deg")


def rig_from_dict(data: dict[str, Any], where: str = "rig recipe") -> Rig:
    """Build a Rig from a parsed recipe; unknown keys and models are named in the error."""
    if not isinstance(data, dict) or not isinstance(data.get("cameras"), list):
        raise ValueError(f"{where}: expected a mapping with a 'cameras' list")
    extra = sorted(set(data) - {"cameras", "description"})
    if extra:
        raise ValueError(f"{where}: unknown key(s) {', '.join(extra)}")
    mounts = []
    for i, cam in enumerate(data["cameras"]):
        if not isinstance(cam, dict):
            raise ValueError(f"{where}: cameras[{i}] must be a mapping")
        model = cam.get("model", "pinhole")
        if model not in _MODELS:
            raise UnknownNameError("camera model", model, _MODELS)
        cls, fields = _MODELS[model]
        unknown = sorted(set(cam) - set(fields) - set(_MOUNT_KEYS))
        if unknown:
            raise ValueError(
                f"{where}: cameras[{i}] has unknown key(s) {', '.join(unknown)}; "
                f"a {model} camera takes {', '.join((*fields, *_MOUNT_KEYS))}"
            )
        args = {f: cam[f] for f in fields if f in cam}
        if "lens" in args:  # fisheye projection: equidistant or kannala_brandt
            args["model"] = args.pop("lens")
        if "k" in args:
            args["k"] = tuple(args["k"])
        mounts.append(
            CameraMount(
                cls(**args),
                xyz=tuple(cam.get("xyz", (0.0, 0.0, 0.5))),
                yaw=math.radians(cam.get("yaw_deg", 0.0)),
                pitch=math.radians(cam.get("pitch_deg", 0.0)),
                name=str(cam.get("name", "")),
            )
        )
    return Rig(tuple(mounts))


def load_rig(spec: str | Path | Rig) -> Rig:
    """A Rig from a built-in name (``default``, ``astra3``, ``equirect``) or a YAML path."""
    if isinstance(spec, Rig):
        return spec
    if isinstance(spec, str) and spec in RIG_NAMES:
        return Rig.from_name(spec)
    path = Path(spec)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise UnknownNameError("rig", str(spec), RIG_NAMES)
    if not path.is_file():
        raise FileNotFoundError(f"rig recipe {path} does not exist")
    return rig_from_dict(yaml.safe_load(path.read_text()), where=str(path))
