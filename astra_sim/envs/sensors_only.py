"""``SensorsOnly``: the env as a real robot sees it, for agents that must not peek.

The envs put privileged ground truth in ``info`` (true pose, geodesic distance, the
measures) because the evaluation needs it. A composed navigation agent must not read it:
a policy that works only because it reads the true pose will fail on a real robot, and
does so silently. ``SensorsOnly`` is the view such an agent gets: the observation, the
robot's own description (body, camera calibration, control rate, which building's map to
load) and nothing else. Reading anything hidden raises ``PrivilegedAccessError`` rather
than returning ``None``, so a leak shows up as a failing test, not a flattering score.
Ground truth an experiment grants on purpose (an ablation ladder: known goal, known start,
known pose, a perfect planner) comes through ``Oracle``, one named switch at a time. The
evaluation keeps the raw env and reads its measures there.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, NoReturn, SupportsFloat

import gymnasium as gym
import numpy as np

from astra_sim.core.errors import AstraSimError, UnknownNameError
from astra_sim.tasks.measures import MEASURES

PRIVILEGED_INFO_KEYS: frozenset[str] = frozenset(
    {"pose", "velocity", "collided", "geodesic_distance", *MEASURES}
    # The localization measure's fields, should a wrapper flatten them into info.
    | {"position_error", "heading_error", "within"}
    # Domain randomization draws: the true calibration errors, lighting, latency.
    | {"randomization"}
)
"""``info`` keys that hold ground truth: the state keys, every measure name, the draws."""

ORACLES = ("goal", "start", "pose", "planner")
"""The oracle switches, in ladder order (each grants more ground truth than the last)."""

_ORACLE_FOR = {"pose": "pose"}  # info keys with an oracle that gives the same fact


class PrivilegedAccessError(AstraSimError, PermissionError):
    """The agent read ground truth that a real robot would not have."""


def _hidden(what: str, oracle: str | None = None) -> PrivilegedAccessError:
    hint = f"pass oracles={{{oracle!r}}} to SensorsOnly" if oracle else "no oracle switch gives it"
    return PrivilegedAccessError(f"{what} is ground truth hidden from the agent; {hint}")


class SensorInfo(dict):
    """``info`` with the privileged keys removed; reading one raises PrivilegedAccessError.

    A privileged key is absent (``"pose" in info`` is False) and both ``info["pose"]`` and
    ``info.get("pose")`` raise: a silent ``None`` would let a leaking agent run on, wrong.
    Other missing keys behave as in a dict.
    """

    def __init__(self, info: dict[str, Any] | None = None):
        super().__init__((k, v) for k, v in (info or {}).items() if k not in PRIVILEGED_INFO_KEYS)

    def _check(self, key: object) -> None:
        if key in PRIVILEGED_INFO_KEYS and not dict.__contains__(self, key):
            raise _hidden(f"info[{key!r}]", _ORACLE_FOR.get(key))  # type: ignore[arg-type]

    def __getitem__(self, key: Any) -> Any:
        self._check(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._check(key)
        return super().get(key, default)


class Oracle:
    """Ground truth for the switches that are on; every method raises when its switch is off.

    Args:
        env: the raw env (gym-wrapped or not), whose ground truth the oracle reads.
        switches: names from ``ORACLES`` to turn on.

    Raises:
        UnknownNameError: (a ValueError) for a switch not in ``ORACLES``.
    """

    def __init__(self, env: gym.Env, switches: Iterable[str] = ()):
        switches = frozenset([switches] if isinstance(switches, str) else switches)
        for name in sorted(switches):
            if name not in ORACLES:
                raise UnknownNameError("oracle switch", name, ORACLES)
        self.switches: frozenset[str] = switches
        self._env = env
        self._start: np.ndarray | None = None

    def __contains__(self, name: object) -> bool:
        return name in self.switches

    def __repr__(self) -> str:
        return f"Oracle({sorted(self.switches, key=ORACLES.index)})"

    def _base(self, switch: str) -> Any:
        if switch not in self.switches:
            raise _hidden(f"oracle.{_METHOD[switch]}()", switch)
        return self._env.unwrapped

    def _episode(self, switch: str) -> Any:
        episode = self._base(switch).episode
        if episode is None:
            raise RuntimeError("call reset() first: the episode is drawn at reset")
        return episode

    def record_start(self) -> None:
        """Remember the true pose at reset (``SensorsOnly.reset`` calls this)."""
        self._start = np.array(self._env.unwrapped.sim.state.pose, dtype=np.float64)

    def goal_positions(self) -> np.ndarray:
        """'goal': the episode's goal positions, (G, 2) metres in the map frame."""
        return np.array(self._episode("goal").goal.positions, dtype=np.float64)

    def nearest_goal(self, xy: np.ndarray) -> np.ndarray:
        """'goal': the goal position geodesically nearest ``xy`` (the one the env's distance
        to goal measures from there); a straight-line pick can lie behind a wall."""
        base = self._base("goal")
        self._episode("goal")
        found = base.goal_distance.nearest_source(np.asarray(xy, np.float64)[:2])
        return self.goal_positions()[0] if found is None else np.asarray(found, np.float64)

    def start_pose(self) -> np.ndarray:
        """'start': the true (x, y, yaw) at reset, as if the robot were placed on a mark."""
        episode = self._episode("start")
        start = self._start if self._start is not None else episode.start
        return np.array(start, dtype=np.float64)

    def pose(self) -> np.ndarray:
        """'pose': the current true (x, y, yaw), a perfect localizer."""
        return np.array(self._base("pose").sim.state.pose, dtype=np.float64)

    def navgrid(self) -> Any:
        """'planner': the scene's true NavGrid, for a planner on a perfect map."""
        return self._base("planner").sim.scene.navgrid()


_METHOD = {
    "goal": "goal_positions / nearest_goal",
    "start": "start_pose",
    "pose": "pose",
    "planner": "navgrid",
}


class SensorsOnly(gym.Wrapper):
    """The env as the robot sees it: observations, its own description, no ground truth.

    ``reset`` and ``step`` pass the observation through unchanged and return ``info`` as a
    ``SensorInfo``. The view offers what the robot itself knows: ``action_space``,
    ``observation_space``, ``robot`` (its DiffDriveConfig), ``rig`` (camera calibration),
    ``control_dt``, ``building`` (which mapped building it is in), ``request_stop()`` and
    ``oracle``. The inner env is out of reach: ``env``, ``unwrapped``, ``get_wrapper_attr``,
    ``set_wrapper_attr``, ``np_random``, ``spec`` and any attribute of the inner env raise
    PrivilegedAccessError. ``render()`` still works, for the human watching: its frame
    draws the true pose and goals, so an agent must not use it. Wrappers that read ground
    truth from info (``DiscreteActions``) go inside this one.

    Args:
        env: the raw env (gym-wrapped or not); the evaluation keeps a reference to it.
        oracles: switches from ``ORACLES`` that grant ground truth through ``oracle``.
    """

    # np_random_seed and the like are inherited: they read ``self.env``, which raises.
    _BLOCKED = frozenset({"env", "unwrapped", "np_random", "np_random_seed", "spec"})

    def __init__(self, env: gym.Env, oracles: Iterable[str] = ()):
        if not isinstance(env, gym.Env):
            raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
        # Not Wrapper.__init__: it stores the inner env in the public ``self.env``.
        self._raw = env
        self._action_space = env.action_space
        self._observation_space = env.observation_space
        self._metadata = dict(env.metadata)
        self._cached_spec = None
        self.oracle = Oracle(env, oracles)

    # -------------------------------------------------------------- gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, SensorInfo]:
        obs, info = self._raw.reset(seed=seed, options=options)
        self.oracle.record_start()
        return obs, SensorInfo(info)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, SensorInfo]:
        obs, reward, terminated, truncated, info = self._raw.step(action)
        return obs, reward, terminated, truncated, SensorInfo(info)

    def render(self) -> Any:
        return self._raw.render()

    def close(self) -> None:
        self._raw.close()

    @property
    def render_mode(self) -> str | None:
        return self._raw.render_mode

    def __str__(self) -> str:
        return f"<SensorsOnly{self._raw}>"

    # -------------------------------------------------------------- what the robot knows
    @property
    def robot(self) -> Any:
        """The body's DiffDriveConfig (footprint radius, speed limits): the robot's spec."""
        return self._raw.unwrapped.sim_config.robot

    @property
    def rig(self) -> Any:
        """The camera rig calibration (intrinsics and mounts), as a robot's calibration file
        (without the errors a domain randomization of the cameras draws)."""
        return self._raw.unwrapped.sim.calibrated_rig

    @property
    def control_dt(self) -> float:
        """Seconds per step (1 / control_hz): the robot's own control period."""
        return 1.0 / float(self._raw.unwrapped.sim_config.control_hz)

    @property
    def building(self) -> dict[str, Any]:
        """Which mapped building the robot is in: ``{"kind", "seed", "params"}``.

        A deployed robot knows which building's map to load; this names it without giving
        the map itself (build it, e.g. with a mapping run, or grant the 'planner' oracle).
        """
        episode = self._raw.unwrapped.episode
        if episode is None:
            raise RuntimeError("call reset() first: the env picks the building at reset")
        params = copy.deepcopy(dict(episode.scene_params))
        return {"kind": episode.scene_kind, "seed": episode.scene_seed, "params": params}

    def request_stop(self) -> None:
        """Make the next step an explicit stop (the robot's stop button)."""
        self._raw.unwrapped.request_stop()

    # -------------------------------------------------------------- the wall
    @property
    def env(self) -> NoReturn:
        raise _hidden("the inner env (view.env)")

    @property
    def unwrapped(self) -> NoReturn:
        raise _hidden("the simulated env (view.unwrapped)")

    @property
    def np_random(self) -> NoReturn:
        raise _hidden("the env's generator (view.np_random), which draws the episodes")

    @property
    def spec(self) -> NoReturn:
        raise _hidden("the env spec (view.spec), whose kwargs may name episode files")

    def has_wrapper_attr(self, name: str) -> bool:
        """Whether the view itself offers ``name`` (the inner env's attributes do not count)."""
        if name.startswith("_") or name in self._BLOCKED:
            return False
        return name in self.__dict__ or hasattr(type(self), name)

    def get_wrapper_attr(self, name: str) -> Any:
        if self.has_wrapper_attr(name):
            return getattr(self, name)
        raise _hidden(f"get_wrapper_attr({name!r}), which reaches into the inner env")

    def set_wrapper_attr(self, name: str, value: Any, *, force: bool = True) -> bool:
        raise _hidden(f"set_wrapper_attr({name!r}), which reaches into the inner env")

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: say so loudly if the inner env has it.
        raw = self.__dict__.get("_raw")
        if raw is not None and not name.startswith("__") and raw.has_wrapper_attr(name):
            raise _hidden(f"{name!r}, an attribute of the inner env,")
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
