"""Golden rollouts: a short reference episode per env id, its observations hashed and its
measures kept exactly, so that a change of a dependency or of our code that changes what
the envs produce is caught and has to be acknowledged.

Hashes are of rounded values (colour to 16 levels, depth to 1 cm, IMU to 1e-3, wheel and
goal to 1e-4): the renderer's last bits may differ between CPUs (Embree and numpy pick SIMD
code by instruction set), the scene and the task do not. Measures (distance, path length,
SPL, reward, ...) are kept exactly, as the float64 numbers the env reported: they come from
plain float64 arithmetic on the poses, the same on every x86-64 machine CI runs on.

Regenerate after an intended change (say why in the commit)::

    ASTRA_SIM_UPDATE_GOLDEN=1 python -m pytest tests/golden
    python tests/golden/golden.py          # the same, without pytest
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

FIXTURE = Path(__file__).with_name("rollouts.json")
VERSION = 1
STEPS = 12
UPDATE_ENV = "ASTRA_SIM_UPDATE_GOLDEN"
# One scene kind per env id (small layouts, as in the tests), a 4 x 16 px panorama.
CASES: dict[str, dict[str, Any]] = {
    "AstraSim/PointNav-v0": {"scene": "home", "scene_params": {}, "seed": 3},
    "AstraSim/ImageNav-v0": {
        "scene": "office",
        "scene_params": {"rooms_per_side": 4, "meeting_rooms": 1},
        "seed": 4,
    },
    "AstraSim/LanguageNav-v0": {
        "scene": "warehouse",
        "scene_params": {"racks": 2, "bays": 4, "docks": 2, "workstations": 2},
        "seed": 5,
    },
    "AstraSim/Localization-v0": {"scene": "home", "scene_params": {}, "seed": 6},
}
ROUNDING = {
    "rgb": 16,
    "depth": 0.01,
    "semantic": None,
    "imu": 1e-3,
    "wheel": 1e-4,
    "goal": 1e-4,
    "goal_image": 16,
}
MEASURES = (
    "distance_to_goal",
    "geodesic_distance",
    "path_length",
    "success",
    "spl",
    "soft_spl",
    "collisions",
    "time",
    "nav_reward",
    "localization_error",
)


def obs_hash(key: str, value: Any) -> str:
    """sha256 (first 16 hex) of an observation, rounded as ROUNDING says."""
    if key == "instruction":
        return hashlib.sha256(str(value).encode()).hexdigest()[:16]
    array = np.asarray(value)
    step = ROUNDING.get(key)
    if step is None:
        coarse = array.astype(np.int64)
    elif array.dtype == np.uint8:
        coarse = (array // step).astype(np.int64)
    else:
        coarse = np.round(array.astype(np.float64) / step).astype(np.int64)
    head = f"{key}:{coarse.shape}".encode()
    return hashlib.sha256(head + np.ascontiguousarray(coarse).tobytes()).hexdigest()[:16]


def measures(info: dict[str, Any], reward: float) -> dict[str, Any]:
    """The measures of one step, exactly as reported."""
    out: dict[str, Any] = {"reward": float(reward)}
    for key in MEASURES:
        if key in info:
            value = info[key]
            out[key] = {k: v for k, v in value.items()} if isinstance(value, dict) else value
    return _plain(out)


def _plain(value: Any) -> Any:
    """JSON-ready: infinite errors (no estimate yet) as the string "inf", the rest exact."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    return value.item() if isinstance(value, np.generic) else value


def rollout(env_id: str, rig: str) -> dict[str, Any]:
    """The reference episode of ``env_id``: reset with the case's seed, then STEPS actions
    drawn from a generator of that seed (a localization estimate of the true start)."""
    import gymnasium as gym

    import astra_sim  # noqa: F401  (registers the ids)

    case = CASES[env_id]
    env = gym.make(
        env_id, scene=case["scene"], scene_params=case["scene_params"], rig=rig, max_geodesic=6.0
    )
    rng = np.random.default_rng(case["seed"])
    try:
        obs, info = env.reset(seed=case["seed"])
        start = np.asarray(info["pose"], np.float64)
        record = {
            "episode_id": info["episode_id"],
            "reset": {
                "obs": {k: obs_hash(k, v) for k, v in sorted(obs.items())},
                "measures": measures(info, 0.0),
            },
            "steps": [],
        }
        robot = env.unwrapped.sim_config.robot
        for _ in range(STEPS):
            command = rng.uniform([-0.2, -1.0], [robot.max_linear, 1.0])
            action = np.r_[command, start] if env.action_space.shape == (5,) else command
            obs, reward, terminated, truncated, info = env.step(action.astype(np.float32))
            record["steps"].append(
                {
                    "obs": {k: obs_hash(k, v) for k, v in sorted(obs.items())},
                    "measures": measures(info, reward),
                    "terminated": bool(terminated),
                }
            )
            if terminated or truncated:
                break
    finally:
        env.close()
    return record


def rig_file(directory: Path) -> str:
    """The golden rollouts' rig: four 16 x 16 pinhole cameras at 90-degree steps."""
    from conftest import write_panorama_rig

    return write_panorama_rig(directory / "golden_rig.yaml", 16)


def all_rollouts(directory: Path) -> dict[str, Any]:
    rig = rig_file(directory)
    return {
        "version": VERSION,
        "steps": STEPS,
        "regenerate": f"{UPDATE_ENV}=1 python -m pytest tests/golden",
        "rollouts": {e: rollout(e, rig) for e in CASES},
    }


def differences(expected: dict[str, Any], got: dict[str, Any], limit: int = 6) -> list[str]:
    """Human-readable first differences between two rollouts of one env id."""
    out: list[str] = []
    if expected["episode_id"] != got["episode_id"]:
        out.append(f"episode {expected['episode_id']} -> {got['episode_id']}")
    steps = [("reset", expected["reset"], got["reset"])]
    steps += [
        (f"step {i + 1}", a, b)
        for i, (a, b) in enumerate(zip(expected["steps"], got["steps"], strict=False))
    ]
    if len(expected["steps"]) != len(got["steps"]):
        out.append(f"{len(expected['steps'])} steps -> {len(got['steps'])}")
    for name, a, b in steps:
        for key in sorted(set(a["obs"]) | set(b["obs"])):
            if a["obs"].get(key) != b["obs"].get(key):
                out.append(f"{name}: observation {key!r} changed")
        for key in sorted(set(a["measures"]) | set(b["measures"])):
            if a["measures"].get(key) != b["measures"].get(key):
                out.append(
                    f"{name}: {key} {a['measures'].get(key)!r} -> {b['measures'].get(key)!r}"
                )
        if len(out) >= limit:
            break
    return out[:limit]


def write(data: dict[str, Any]) -> None:
    from astra_sim.core.fileio import atomic_write

    atomic_write(FIXTURE, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())


if __name__ == "__main__":
    here = Path(__file__).resolve()
    sys.path[:0] = [str(here.parents[2]), str(here.parents[1])]  # the package; conftest
    with tempfile.TemporaryDirectory() as tmp:
        write(all_rollouts(Path(tmp)))
    print(f"wrote {FIXTURE}")
