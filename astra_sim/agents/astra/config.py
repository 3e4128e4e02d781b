"""Settings of the composed Astra agent (the ``agent.astra`` block of a recipe).

Plain dataclasses with no heavy imports, so recipes validate before any model loads.
Checkpoint paths are relative to the shipped checkpoints folder unless they are absolute
or exist as given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from astra_sim.core.errors import UnknownNameError

LOCALIZERS = ("pixel", "mllm")
ORACLE_LADDER = ("none", "goal", "goal+start", "goal+start+pose", "all")
"""The attribution rows, from no oracle to every oracle (``all`` adds the planner)."""


@dataclass
class OracleConfig:
    """Ground truth an attribution row may read; every switch off is the real agent.

    Attributes:
        goal: the episode's true goal region instead of Astra-Global's goal localization.
        start: the true start pose instead of self-localization at the start.
        pose: the true pose every step (odometry, fusion and re-localization off).
        planner: the privileged geodesic route on the scene's navigation grid instead of
            the shortest path over the map's edges.
    """

    goal: bool = False
    start: bool = False
    pose: bool = False
    planner: bool = False

    @property
    def names(self) -> frozenset[str]:
        return frozenset(n for n in ("goal", "start", "pose", "planner") if getattr(self, n))

    @classmethod
    def from_row(cls, row: str) -> OracleConfig:
        """The switches of a ladder row (``none``, ``goal+start``, ``all`` ...)."""
        if row == "none":
            return cls()
        if row == "all":
            return cls(True, True, True, True)
        parts = row.split("+")
        bad = [p for p in parts if p not in ("goal", "start", "pose", "planner")]
        if bad:
            raise UnknownNameError("oracle row", row, ORACLE_LADDER)
        return cls(**{p: True for p in parts})


@dataclass
class AstraConfig:
    """Attributes:
    planner: Astra-Local planning head checkpoint (the shipped flow matching + ESDF head).
    odometry: odometry head checkpoint; ``dead_reckoning`` uses wheel + gyro instead.
    localizer: ``pixel`` (landmark detector + sign reader + PnP) or ``mllm`` (needs model).
    detector: pixel landmark detector checkpoint.
    sign_reader: sign reader checkpoint.
    model: a local image-text checkpoint for ``localizer: mllm``.
    map_dir: a folder with one ``astra-sim map build`` output per scene, named
        ``<kind>-<seed>``; null uses the map cache (built on first use).
    start_tries: localization attempts at the start, turning ``turn_deg`` between them.
    turn_deg: the in-place turn between start attempts (the active step).
    start_moves: after ``start_tries`` attempts with no fix at all, move this many times
        towards open space (1.5 m) and try again; 0 turns only.
    confident_inliers: a start fix with at least this many PnP inliers is taken at once;
        weaker ones must agree with another attempt (``agree_m``, ``agree_deg``).
    agree_m: two start fixes this close (after odometry between them) agree.
    agree_deg: ... and this close in heading.
    relocalize_every_m: re-localize after this much travel since the last attempt.
    relocalize_sigma_m: ... or when the filter's position std exceeds this.
    replan_jump_m: a fix that moves the estimate this far re-plans the route.
    goal_tolerance: stop when the estimate is this close to the goal target (m).
    approach_m: for a landmark goal, the target is this far from the landmark, on the
        side of the goal node.
    stall_steps: near the target, stop after this many steps without getting closer.
    max_fix_ms: informational budget per fix, for the cost report (not enforced).
    fusion: ``fusion.FusionConfig`` fields.
    oracle: attribution switches (``OracleConfig``).
    """

    planner: str = "planner/flow_esdf.pt"
    odometry: str = "odometry/vision_imu_wheel/model.pt"
    localizer: str = "pixel"
    detector: str = "landmark_detector.pt"
    sign_reader: str = "sign_reader.pt"
    model: str | None = None
    map_dir: str | None = None
    start_tries: int = 8
    start_moves: int = 2
    turn_deg: float = 45.0
    confident_inliers: int = 40
    agree_m: float = 0.75
    agree_deg: float = 15.0
    relocalize_every_m: float = 3.0
    relocalize_sigma_m: float = 0.5
    replan_jump_m: float = 0.5
    goal_tolerance: float = 0.3
    approach_m: float = 1.0
    stall_steps: int = 25
    fusion: dict = field(default_factory=dict)
    oracle: OracleConfig = field(default_factory=OracleConfig)

    def __post_init__(self) -> None:
        if self.localizer not in LOCALIZERS:
            raise UnknownNameError("astra.localizer", self.localizer, LOCALIZERS)
        if self.localizer == "mllm" and not self.model:
            raise ValueError("astra.localizer=mllm needs astra.model=PATH (a local checkpoint)")
        for name in ("start_tries", "confident_inliers", "stall_steps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"astra.{name} must be a positive integer, got {v!r}")
        for name in (
            "turn_deg", "agree_m", "agree_deg", "relocalize_every_m", "relocalize_sigma_m",
            "replan_jump_m", "goal_tolerance", "approach_m",
        ):  # fmt: skip
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"astra.{name} must be a finite number, got {v!r}")
            if v <= 0:
                raise ValueError(f"astra.{name} must be > 0, got {v!r}")
        moves = self.start_moves
        if isinstance(moves, bool) or not isinstance(moves, int) or moves < 0:
            raise ValueError(f"astra.start_moves must be an integer >= 0, got {moves!r}")
