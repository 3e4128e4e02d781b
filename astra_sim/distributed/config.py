"""Recipe schemas of collection and closed-loop evaluation (``train/collect_*.yaml``, ...).

Both run the same episodes: an env spec says which task, scenes and seeds; an agent spec
says who drives; a Ray spec says where it runs. Every field has a default, a recipe sets
some, and ``key=value`` overrides set the rest (see ``astra_sim.core.recipe``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from astra_sim.agents.astra.config import AstraConfig
from astra_sim.core.errors import UnknownNameError
from astra_sim.core.seeding import check_seed

TASKS = {
    "pointnav": "AstraSim/PointNav-v0",
    "imagenav": "AstraSim/ImageNav-v0",
    "languagenav": "AstraSim/LanguageNav-v0",
}
AGENTS = ("expert", "random", "sb3", "rllib", "planner", "planner_fallback", "astra")
AGENT_ALIASES = {
    "planner": "astra_sim.agents.astra_local.planner_agent:PlannerAgent",
    "planner_fallback": "astra_sim.agents.astra_local.planner_agent:PlannerAgentFallback",
    "astra": "astra_sim.agents.astra.agent:AstraAgent",
}
"""Short names of agents that live elsewhere (Astra-Local planners, the composed agent)."""
FEATURES = ("rgb", "depth", "semantic", "imu", "wheel", "goal", "goal_image")
"""Observation keys a dataset may hold (those the task's observation has)."""


@dataclass
class EnvConfig:
    """Which episodes to run.

    Attributes:
        task: pointnav, imagenav or languagenav.
        scenes: scene kinds; episode i plays in ``scenes[i % len(scenes)]``.
        scene_seeds: scene seeds each episode draws its scene from (seeded per episode).
        scene_params: generator parameters per scene kind, e.g. ``{office: {meeting_rooms: 1}}``.
        rig: camera rig name or recipe path.
        body: body backend (kinematic or pybullet).
        max_steps: control steps before an episode is truncated.
        success_distance: metres from the goal within which a stop succeeds.
        min_geodesic: shortest start-goal geodesic of sampled episodes (m).
        max_geodesic: longest start-goal geodesic (m); null for no limit.
        render_threads: ray-casting threads per env (1 per worker: workers fill the cores).
        episodes: how many episodes (with ``episodes_file``: the first n, 0 for all).
        episodes_file: a saved episode set (JSON) to play instead of sampling.
        split: with ``episodes_file``: keep only train, val or test episodes.
        seed: the campaign seed; episode i's seeds derive from (seed, i) alone.
        randomize: domain randomization, drawn per episode from its seed (see
            ``astra_sim.sim.randomization``): groups of knob ranges, e.g.
            ``{lighting: {ambient: [0.4, 0.6]}, camera: default}``, or ``default`` for
            every knob; null for none. Datasets record each episode's draws.
    """

    task: str = "pointnav"
    scenes: list[str] = field(default_factory=lambda: ["home"])
    scene_seeds: list[int] = field(default_factory=lambda: [0])
    scene_params: dict[str, Any] = field(default_factory=dict)
    rig: str = "default"
    body: str = "kinematic"
    max_steps: int = 500
    success_distance: float = 0.5
    min_geodesic: float = 1.0
    max_geodesic: float | None = None
    render_threads: int = 1
    episodes: int = 8
    episodes_file: str | None = None
    split: str | None = None
    seed: int = 0
    randomize: dict[str, Any] | str | None = None

    def __post_init__(self) -> None:
        from astra_sim.scenes import SCENE_KINDS
        from astra_sim.sim.randomization import parse_randomize

        parse_randomize(self.randomize, where="env.randomize")  # names a bad key now

        if self.task not in TASKS:
            raise UnknownNameError("task", self.task, TASKS)
        if not self.scenes:
            raise ValueError("env.scenes must name at least one scene kind")
        for kind in [*self.scenes, *self.scene_params]:
            if kind not in SCENE_KINDS:
                raise UnknownNameError("scene kind", kind, SCENE_KINDS)
        if not self.scene_seeds:
            raise ValueError("env.scene_seeds must hold at least one seed")
        for s in self.scene_seeds:
            check_seed(s, "env.scene_seeds entry")
        check_seed(self.seed, "env.seed")
        if self.max_steps < 1:
            raise ValueError(f"env.max_steps must be >= 1, got {self.max_steps}")
        if self.episodes < 0 or (self.episodes == 0 and self.episodes_file is None):
            raise ValueError(f"env.episodes must be >= 1 (0 only with a file), got {self.episodes}")
        if self.split not in (None, "train", "val", "test"):
            raise ValueError(f"env.split must be train, val, test or null, got {self.split!r}")
        if self.split is not None and self.episodes_file is None:
            raise ValueError("env.split needs env.episodes_file")


@dataclass
class AgentConfig:
    """Who drives.

    Attributes:
        name: expert, random, sb3 or rllib; or ``package.module:Class``, a class built
            with this config that has the interface of ``astra_sim.agents.base.Agent``
            (how other agents plug in); ``astra`` is the composed agent (``astra`` block).
        checkpoint: an SB3 ``.zip`` or an RLlib checkpoint directory (sb3, rllib).
        algo: the SB3 algorithm class of the checkpoint (ppo, sac, a2c, td3, ddpg, dqn).
        discrete: the checkpoint acts through ``DiscreteActions`` (sb3, rllib).
        action_noise: std of Gaussian noise added to the expert's (v, w), for diversity.
        recovery_prob: per-step chance that the expert is pushed off course by random
            actions for ``recovery_steps`` steps, then recovers (DART-style demonstrations:
            the dataset's ``action.expert`` holds the expert's corrective command).
        recovery_steps: length of one push off course, in control steps.
        astra: settings of the composed Astra agent (``agent.name=astra``).
    """

    name: str = "expert"
    checkpoint: str | None = None
    algo: str = "ppo"
    discrete: bool = False
    action_noise: list[float] = field(default_factory=lambda: [0.0, 0.0])
    recovery_prob: float = 0.0
    recovery_steps: int = 5
    astra: AstraConfig = field(default_factory=AstraConfig)

    def __post_init__(self) -> None:
        if self.name not in AGENTS and ":" not in self.name:
            raise UnknownNameError("agent", self.name, (*AGENTS, "package.module:Class"))
        needs_checkpoint = ("sb3", "rllib", "planner", "planner_fallback")
        if self.name in needs_checkpoint and not self.checkpoint:
            raise ValueError(f"agent {self.name!r} needs agent.checkpoint=PATH")
        if len(self.action_noise) != 2 or min(self.action_noise) < 0:
            raise ValueError(f"agent.action_noise must be two stds >= 0, got {self.action_noise}")
        if not 0.0 <= self.recovery_prob <= 1.0:
            raise ValueError(f"agent.recovery_prob must be in [0, 1], got {self.recovery_prob}")
        if self.recovery_steps < 1:
            raise ValueError(f"agent.recovery_steps must be >= 1, got {self.recovery_steps}")
        diverse = self.recovery_prob > 0 or max(self.action_noise) > 0
        if diverse and self.name != "expert":
            raise ValueError("agent.action_noise and agent.recovery_prob apply to the expert only")


@dataclass
class RayConfig:
    """Where it runs.

    Attributes:
        address: null starts a local Ray (``ray.init()``); ``auto`` joins a running cluster.
        num_cpus: CPUs of a local Ray (null: all of the machine's).
        workers: actors, one env each; 0 runs everything in this process without Ray.
        max_restarts: times Ray restarts a crashed actor.
        max_retries: attempts of one episode before the run gives up.
    """

    address: str | None = None
    num_cpus: int | None = None
    workers: int = 2
    max_restarts: int = 3
    max_retries: int = 3

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError(f"ray.workers must be >= 0, got {self.workers}")
        if self.max_restarts < 0 or self.max_retries < 1:
            raise ValueError("ray.max_restarts must be >= 0 and ray.max_retries >= 1")


@dataclass
class FaultConfig:
    """Test hook: make actors die on purpose, to exercise recovery.

    Attributes:
        crash_episodes: episode indices whose first attempt kills its actor process.
        crash_step: the step of the episode at which it dies.
    """

    crash_episodes: list[int] = field(default_factory=list)
    crash_step: int = 3


@dataclass
class CollectConfig:
    """``astra-sim collect``: demonstrations written as a dataset.

    Attributes:
        out: dataset folder.
        features: observation keys to store (rgb, depth, semantic, imu, wheel, goal,
            goal_image); the task's observation must have them.
        env, agent, ray, fault: see their classes.
    """

    out: str = "outputs/data/pointnav"
    features: list[str] = field(default_factory=lambda: ["rgb", "depth", "imu", "wheel", "goal"])
    env: EnvConfig = field(default_factory=EnvConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    ray: RayConfig = field(default_factory=RayConfig)
    fault: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        for name in self.features:
            if name not in FEATURES:
                raise UnknownNameError("feature", name, FEATURES)
        if len(set(self.features)) != len(self.features):
            raise ValueError(f"features lists a key twice: {self.features}")


@dataclass
class EvalConfig:
    """``astra-sim eval nav``: closed-loop episodes and a report folder.

    Attributes:
        out: report folder (episodes.jsonl, summary.json, summary.md, plots).
        plots: draw the plots.
        env, agent, ray, fault: see their classes.
    """

    out: str = "outputs/eval/nav"
    plots: bool = True
    env: EnvConfig = field(default_factory=EnvConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    ray: RayConfig = field(default_factory=RayConfig)
    fault: FaultConfig = field(default_factory=FaultConfig)


def _astra_env() -> EnvConfig:
    return EnvConfig(
        task="languagenav",
        scenes=["warehouse", "office", "home"],
        scene_seeds=[8, 9],
        rig="default_hires",
        max_steps=1000,
        episodes=3,
        seed=0,
    )


@dataclass
class EvalAstraConfig:
    """``astra-sim eval astra``: the composed agent in closed loop, with its oracle ladder.

    Attributes:
        out: report folder (summary.json, summary.md, episodes.jsonl, ladder.png, pictures/).
        ladder: attribution rows to run, each the same episodes (``none`` is the result;
            the others read ground truth, see ``astra.config.ORACLE_LADDER``).
        pictures: the first n episodes of the ``none`` row get a picture and an animation.
        env: the episodes (LanguageNav or ImageNav; the robot's rig must be an integer
            multiple of the map's, e.g. ``default_hires``).
        agent: ``astra`` (its settings under ``agent.astra``).
        ray, fault: see their classes.
    """

    out: str = "outputs/eval/astra"
    ladder: list[str] = field(
        default_factory=lambda: ["none", "goal", "goal+start", "goal+start+pose", "all"]
    )
    pictures: int = 0
    env: EnvConfig = field(default_factory=_astra_env)
    agent: AgentConfig = field(default_factory=lambda: AgentConfig(name="astra"))
    ray: RayConfig = field(default_factory=RayConfig)
    fault: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        from astra_sim.agents.astra.config import ORACLE_LADDER, OracleConfig

        if self.env.task not in ("languagenav", "imagenav"):
            raise ValueError(
                f"eval astra runs languagenav or imagenav episodes, got env.task={self.env.task!r}"
            )
        if self.agent.name != "astra":
            raise ValueError(f"eval astra drives agent.name=astra, got {self.agent.name!r}")
        if not self.ladder:
            raise ValueError(f"ladder must name at least one row of {list(ORACLE_LADDER)}")
        for row in self.ladder:
            OracleConfig.from_row(row)
        if len(set(self.ladder)) != len(self.ladder):
            raise ValueError(f"ladder names a row twice: {self.ladder}")
        if self.pictures < 0:
            raise ValueError(f"pictures must be >= 0, got {self.pictures}")
