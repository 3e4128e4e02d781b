"""AstraAgent: Astra-Global and Astra-Local composed into one navigator (Algorithm 1).

What it sees is what a robot has: the observation (the rig's images, IMU, wheels, the
instruction or goal image), the building's map G built offline from a tour, and its
checkpoints. It runs behind ``envs.sensors_only.SensorsOnly``; ground truth reaches it only
through the oracle switches an attribution row names (``astra.oracle``).

Per episode:

1. Goal localization (once): the instruction -> goal landmark, node and pose on G (the
   language goal localizer), or the goal image -> pose (the landmark localizer). Nothing
   matched ends the episode as ``goal_not_found``.
2. Self-localization at the start with the pixel landmark localizer. A weak answer (few
   PnP inliers) must be confirmed by a second one; between attempts the robot turns in place
   (the active step), for at most ``start_tries`` attempts; when a whole turn gives no fix
   at all, it drives 1.5 m towards open space and looks again (``start_moves`` times).
3. The route: the shortest path over G's edges from the node nearest the estimate to the
   goal node, then the goal; re-planned when a fix moves the estimate.
4. Local planning: the shipped flow-matching + ESDF head towards the point 2.5 m along the
   route, in the robot frame of the *estimated* pose; the fallback arc when the planned path
   collides on the agent's own depth occupancy (counted).
5. Pose tracking: the odometry head every step, fused with landmark fixes every few metres
   (or when the filter grows unsure) in an SE(2) EKF with outlier gating (``fusion``).
6. Stop when the estimate is within ``goal_tolerance`` of the goal target, or when it
   stops getting closer near it (a landmark may block the last metre).

Bumps are felt, not read: a commanded forward motion the odometry does not see is one, and
the robot reverses briefly, as the expert does after a collision.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from astra_sim.agents.astra.config import AstraConfig
from astra_sim.agents.astra.fusion import FusionConfig, PoseFilter
from astra_sim.agents.astra.global_stage import (
    GoalEstimate,
    image_goal,
    language_goal,
    load_building_map,
    make_localizer,
    oracle_goal,
    resolve_checkpoint,
)
from astra_sim.agents.astra.odometry_stream import OdometryStream
from astra_sim.agents.astra.route import LOOKAHEAD_M, Route, line_clear, to_robot_frame
from astra_sim.agents.astra_local.plan_features import RigFeaturizers, featurizer_factory
from astra_sim.agents.astra_local.planner_agent import clearance_grid, fallback_arc, path_clearance
from astra_sim.agents.astra_local.train_planner import load_planner_and_encoder
from astra_sim.agents.base import Agent
from astra_sim.agents.baselines.dead_reckoning import compose, relative
from astra_sim.render.rig import Rig

TURN_RATE = 1.0
"""rad/s of the in-place turn between start localization attempts."""
BACKOFF_STEPS, BACKOFF_SPEED = 3, -0.25
NEAR_GOAL_M = 2.0
"""Within this distance of the target, a stall (no progress for ``stall_steps``) stops."""
ORACLE_SIGMA = 1e-3
TURN_FIRST_RAD = math.radians(75.0)
"""A target this far off the heading is faced by turning in place first (``turn_to_face``)."""
EXPLORE_M, EXPLORE_STEPS = 1.5, 25
"""After a full turn with no fix: drive towards open space this far, for at most this many
steps, and turn and look again (the active exploration the paper names as future work)."""
STUCK_STEPS, STUCK_SPAN_M, RECOVER_STEPS = 40, 0.15, 8
"""Driving this many steps within this span is being wedged: back out for RECOVER_STEPS."""
STALL_SPEED = 0.05
"""m/s: a step commanded at least this fast that brings the robot no closer is a stall."""


def turn_to_face(local: np.ndarray) -> np.ndarray | None:
    """An in-place turn towards a robot-frame target more than ``TURN_FIRST_RAD`` off the
    heading, else None (the head plans): the head, trained on targets mostly ahead, drove
    on along a corridor past the door of the goal room to its side."""
    if abs(math.atan2(local[1], local[0])) <= TURN_FIRST_RAD:
        return None
    return np.array([0.0, math.copysign(TURN_RATE, local[1])])


class AstraAgent(Agent):
    """The composed agent; ``agent.astra`` holds its settings (``AstraConfig``)."""

    sensors_only = True

    def __init__(self, config: Any = None):
        super().__init__(config)
        cfg = getattr(config, "astra", config) or AstraConfig()
        if not isinstance(cfg, AstraConfig):
            raise TypeError(f"AstraAgent needs an AgentConfig or AstraConfig, got {type(cfg)}")
        self.cfg = cfg
        self.oracles = cfg.oracle.names
        torch.set_num_threads(1)
        self.planner, encoder = load_planner_and_encoder(resolve_checkpoint(cfg.planner, "planner"))
        self._featurizers = RigFeaturizers(featurizer_factory(self.planner.cfg.bev, encoder))
        odo = None if cfg.odometry == "dead_reckoning" else cfg.odometry
        self.odometry = OdometryStream(None if odo is None else resolve_checkpoint(odo, "odometry"))
        self.localizer = make_localizer(cfg)
        self._goal_localizer = None
        self.fusion_config = FusionConfig(**cfg.fusion)
        self._maps: dict[str, Any] = {}

    # ------------------------------------------------------------------ episode start
    def reset(self, env: gym.Env, obs: Any, info: dict[str, Any], rng: np.random.Generator):
        super().reset(env, obs, info, rng)
        building = env.building
        params = sorted((building.get("params") or {}).items())
        key = f"{building['kind']}-{building['seed']}-{params}"
        if key not in self._maps:
            if len(self._maps) >= 4:
                self._maps.clear()
            self._maps[key] = load_building_map(building, self.cfg.map_dir)
        self.map = self._maps[key]
        self.map_rig = Rig.from_name(self.map.metadata.get("config", {}).get("rig", "default"))
        self.scale = self._scale(obs["rgb"])
        self.featurize = self._featurizers(self.map_rig)
        self.radius = float(env.robot.radius)
        self.dt = float(env.control_dt)
        self.generator = torch.Generator().manual_seed(int(rng.integers(2**31 - 1)))
        self.odometry.reset(self._small(obs))
        self.filter = PoseFilter(self.fusion_config)
        self.t, self.phase, self.outcome = 0, "localize", ""
        self.rel = np.zeros(3)  # motion since the start, before the filter has a pose
        self.velocity, self.last_cmd = np.zeros(2), np.zeros(2)
        self.route: Route | None = None
        self.goal: GoalEstimate | None = None
        self.candidates: list[tuple[np.ndarray, int]] = []
        self.tries = self._turn_left = self._backoff = self._slow = 0
        self.moves = self._move_left = 0
        self._explore_goal: np.ndarray | None = None
        self.plans = self.fallbacks = self.turns = 0
        self.since_fix = 0.0
        self.best_goal_dist, self.stalled = math.inf, 0
        self._seen: tuple | None = None  # (step, bev, occupancy, clearance) of this step
        self._recent: deque[np.ndarray] = deque(maxlen=STUCK_STEPS)
        self.recoveries = 0
        self.cost = {"odometry": 0.0, "planner": 0.0, "fusion": 0.0, "localizer": 0.0}
        self.fix_count = 0
        self.trace: dict[str, list] = {"est_pose": [], "fixes": [], "routes": []}
        self.goal_failure = ""
        if "start" in self.oracles:
            self._init_filter(env.oracle.start_pose(), ORACLE_SIGMA)
        elif "pose" in self.oracles:
            self._init_filter(env.oracle.pose(), ORACLE_SIGMA)
        self._localize_goal(obs, self.filter.pose if self.filter.initialized else None)
        if self.goal is None:
            self.outcome, self.stop = "goal_not_found", True
        elif self.filter.initialized:
            self._start_driving(obs)

    # ------------------------------------------------------------------ every step
    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        small = self._small(obs)
        if self.t > 0:
            self._track(small)
        self.t += 1
        if "pose" in self.oracles:
            self._init_filter(self.env.oracle.pose(), ORACLE_SIGMA)
        if self.stop:
            return self._record(np.zeros(2))
        if self.phase == "localize":
            command = self._localize_start(obs)
            if command is not None:
                return self._record(command)
        self._relocalize(obs)
        return self._record(self._drive(small))

    def _track(self, small: dict[str, np.ndarray]) -> None:
        """Odometry of the step just taken, into the filter (or the start frame)."""
        t0 = time.perf_counter()
        step = self.odometry.step(small)
        t1 = time.perf_counter()
        self.cost["odometry"] += t1 - t0
        self.velocity = np.array([step[0], step[2]]) / self.dt
        self.since_fix += float(np.hypot(step[0], step[1]))
        if self.filter.initialized:
            self.filter.predict(step)
        else:
            self.rel = compose(self.rel, step)
        self.cost["fusion"] += time.perf_counter() - t1
        # A bump: forward motion commanded, none measured, twice running.
        moving = self.last_cmd[0] > 0.1 and abs(self.velocity[0]) < 0.02
        self._slow = self._slow + 1 if moving else 0
        if self._slow >= 2:
            self._backoff, self._slow = BACKOFF_STEPS, 0

    def _localize_start(self, obs: Any) -> np.ndarray | None:
        """One step of self-localization at the start: a command while it is not done."""
        turn = np.array([0.0, TURN_RATE])
        if self._turn_left > 0:
            self._turn_left -= 1
            return turn
        if self._move_left > 0:
            self._move_left -= 1
            return self._explore(obs)
        res = self._fix(obs)
        self.tries += 1
        accepted = None
        if res is not None:
            pose, inliers = res
            start = compose(pose, relative(self.rel, np.zeros(3)))  # the fix, back at t=0
            confident = inliers >= self.cfg.confident_inliers
            if confident or any(self._agree(start, c) for c, _ in self.candidates):
                accepted = pose
            self.candidates.append((start, inliers))
        if accepted is None and self.tries >= self.cfg.start_tries:
            if not self.candidates and self.moves < self.cfg.start_moves:
                # A full turn saw nothing it knows: move to open space and look again.
                self.moves, self.tries, self._explore_goal = self.moves + 1, 0, None
                self._move_left = EXPLORE_STEPS - 1
                return self._explore(obs)
            if not self.candidates:
                self.outcome, self.stop = "not_localized", True
                return np.zeros(2)
            best = max(self.candidates, key=lambda c: c[1])[0]
            accepted = compose(best, self.rel)
        if accepted is None:
            steps = math.radians(self.cfg.turn_deg) / (TURN_RATE * self.dt)
            self._turn_left = max(math.ceil(steps) - 1, 0)
            return turn
        self._init_filter(accepted, None)
        self._localize_goal(obs, self.filter.pose)  # search outward from where it is
        self._start_driving(obs)
        return None

    def _explore(self, obs: Any) -> np.ndarray:
        """One step towards the most open point ``EXPLORE_M`` away (chosen once per move,
        on the robot's own occupancy), kept in the start frame the odometry tracks."""
        _, _, clearance = self._sight(self._small(obs))
        cell = self.planner.cfg.bev.cell_size
        if self._explore_goal is None:
            best, best_clear = np.array([EXPLORE_M, 0.0]), -1.0
            n = clearance.shape[0]
            for a in np.linspace(0, 2 * math.pi, 16, endpoint=False):
                p = EXPLORE_M * np.array([math.cos(a), math.sin(a)])
                i, j = np.clip(np.floor(p / cell + n / 2).astype(int), 0, n - 1)
                if clearance[i, j] > best_clear and line_clear(p, clearance, cell, self.radius):
                    best, best_clear = p, float(clearance[i, j])
            self._explore_goal = compose(self.rel, np.r_[best, 0.0])[:2]
        local = to_robot_frame(self.rel, self._explore_goal)
        steps = fallback_arc(local, clearance, self.planner.cfg, self.radius)
        dt = self.planner.cfg.step_dt
        return np.array([steps[0, 0] / dt, steps[0, 2] / dt])

    def _relocalize(self, obs: Any) -> None:
        """A fix every few metres, or when the estimate grows unsure; gated in the filter."""
        if "pose" in self.oracles:
            return
        due = self.since_fix >= self.cfg.relocalize_every_m or (
            self.filter.position_sigma() > self.cfg.relocalize_sigma_m and self.since_fix >= 1.0
        )
        if not due:
            return
        self.since_fix = 0.0
        res = self._fix(obs)
        if res is None:
            return
        t0 = time.perf_counter()
        out = self.filter.update(res[0])
        self.cost["fusion"] += time.perf_counter() - t0
        self.trace["fixes"][-1]["accepted"] = bool(out.accepted)
        if out.accepted and np.hypot(*out.correction[:2]) > self.cfg.replan_jump_m:
            self._plan_route()

    def _drive(self, small: dict[str, np.ndarray]) -> np.ndarray:
        est = self.filter.pose
        goal = self.goal.target
        dist = float(np.linalg.norm(goal - est[:2]))
        if dist < self.cfg.goal_tolerance:
            return self._arrive()
        if dist < NEAR_GOAL_M:
            if dist < self.best_goal_dist - 0.05:
                self.best_goal_dist, self.stalled = dist, 0
            elif abs(self.last_cmd[0]) >= STALL_SPEED:  # turning to face it is no stall
                self.stalled += 1
                if self.stalled >= self.cfg.stall_steps:
                    return self._arrive()
        if self._backoff > 0:
            self._backoff -= 1
            return np.array([BACKOFF_SPEED, 0.0])
        if self._stuck(est):
            self.recoveries += 1  # wedged: back out, then re-plan from where it is
            self._backoff = RECOVER_STEPS - 1
            self._plan_route_from(small)
            return np.array([BACKOFF_SPEED, 0.0])
        t0 = time.perf_counter()
        bev, occ, clearance = self._sight(small)
        if "planner" in self.oracles:
            from astra_sim.agents.astra_local.plan_data import local_goal

            local = local_goal(self.env.oracle.navgrid(), est, goal, LOOKAHEAD_M)
        else:
            self.route.advance(est[:2])
            self.route.skip_visible(est[:2], self._clear)
            target = self.route.target(est[:2])
            local = to_robot_frame(est, target)
        turn = turn_to_face(local)
        if turn is not None:
            self.turns += 1
            self.cost["planner"] += time.perf_counter() - t0
            return turn
        command = self._plan(bev, occ, clearance, local)
        self.cost["planner"] += time.perf_counter() - t0
        return command

    def _stuck(self, est: np.ndarray) -> bool:
        """No metre-scale motion of the estimate over the last ``STUCK_STEPS`` drive steps
        (turning in place back and forth against an obstacle, or pushing into it)."""
        self._recent.append(est[:2].copy())
        if len(self._recent) < STUCK_STEPS:
            return False
        span = np.ptp(np.asarray(self._recent), axis=0)
        if float(np.hypot(*span)) >= STUCK_SPAN_M:
            return False
        self._recent.clear()
        return True

    def _plan_route_from(self, small: dict[str, np.ndarray]) -> None:
        """The route from here, after this step's sight (what it sees clear) is taken."""
        self._sight(small)
        self._plan_route()

    def _sight(self, small: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        """This step's planner input and the agent's own occupancy and clearance grids."""
        if self._seen is None or self._seen[0] != self.t:
            bev, occ = self.featurize(small)
            clearance = clearance_grid(occ, self.planner.cfg.bev.cell_size)
            self._seen = (self.t, bev, occ, clearance)
        return self._seen[1:]

    def _clear(self, xy: np.ndarray) -> bool:
        """Whether the robot sees a clear straight way from its estimate to world ``xy``."""
        clearance = self._seen[3]
        local = to_robot_frame(self.filter.pose, np.asarray(xy, np.float64))
        return line_clear(local, clearance, self.planner.cfg.bev.cell_size, self.radius)

    def _plan(
        self, bev: np.ndarray, occ: np.ndarray, clearance: np.ndarray, local: np.ndarray
    ) -> np.ndarray:
        """The head's first step towards ``local`` (robot frame); the fallback when the
        head's path comes within the robot radius of the agent's own occupancy."""
        batch = {
            "bev": torch.from_numpy(bev)[None],
            "occupancy": torch.from_numpy(occ)[None],
            "velocity": torch.from_numpy(self.velocity.astype(np.float32))[None],
            "goal": torch.from_numpy(np.asarray(local, np.float32))[None],
        }
        steps = self.planner.sample(batch, self.generator)[0].numpy().astype(np.float64)
        self.plans += 1
        cfg = self.planner.cfg
        if path_clearance(steps, clearance, cfg.bev.cell_size) < self.radius:
            self.fallbacks += 1
            steps = fallback_arc(np.asarray(local, np.float64), clearance, cfg, self.radius)
        return np.array([steps[0, 0] / cfg.step_dt, steps[0, 2] / cfg.step_dt])

    # ------------------------------------------------------------------ helpers
    def _record(self, command: np.ndarray) -> np.ndarray:
        space = self.env.action_space
        command = np.clip(np.asarray(command, np.float64), space.low[:2], space.high[:2])
        self.last_cmd = command
        self.trace["est_pose"].append(
            [round(float(v), 4) for v in self.filter.pose] if self.filter.initialized else None
        )
        return command.astype(np.float32)

    def _arrive(self) -> np.ndarray:
        self.outcome, self.stop = "arrived", True
        return np.zeros(2)

    def _fix(self, obs: Any) -> tuple[np.ndarray, int] | None:
        """A refined landmark fix of the current pose and its PnP inliers, or None."""
        from astra_sim.agents.astra_global.base import Query

        t0 = time.perf_counter()
        res = self.localizer.localize(Query(rgb=obs["rgb"]), self.map)
        self.cost["localizer"] += time.perf_counter() - t0
        self.fix_count += 1
        refined = bool(res.extras.get("refined", True))  # an MLLM answers a pose directly
        good = res.ok and res.pose is not None and refined
        fix = {"t": self.t - 1, "accepted": False, "pose": None}
        if good:
            fix["pose"] = [round(float(v), 4) for v in res.pose]
        self.trace["fixes"].append(fix)
        if not good:
            return None
        return np.asarray(res.pose, np.float64), int(res.extras.get("inliers", 0))

    def _init_filter(self, pose: np.ndarray, sigma: float | None) -> None:
        cov = None if sigma is None else np.eye(3) * sigma**2
        self.filter.initialize(np.asarray(pose, np.float64), cov)
        if sigma is None and self.trace["fixes"]:
            self.trace["fixes"][-1]["accepted"] = True

    def _agree(self, a: np.ndarray, b: np.ndarray) -> bool:
        d = relative(a, b)
        return bool(
            np.hypot(d[0], d[1]) < self.cfg.agree_m and abs(d[2]) < math.radians(self.cfg.agree_deg)
        )

    def _localize_goal(self, obs: Any, start: np.ndarray | None) -> None:
        if "goal" in self.oracles:
            # The goal point the env measures from here (re-chosen once localized).
            if start is None:
                points = self.env.oracle.goal_positions()
                start = points[0]
            else:
                points = self.env.oracle.nearest_goal(start[:2])
            self.goal = oracle_goal(self.map, points, start[:2])
            return
        if "goal_image" in obs:
            if self.goal is None:
                self.goal, self.goal_failure = image_goal(
                    self.localizer, obs["goal_image"], self.map
                )
            return
        if self._goal_localizer is None:
            from astra_sim.agents.astra_global.goal_localization import GoalLocalizer

            self._goal_localizer = GoalLocalizer()
        instruction = str(obs.get("instruction", ""))
        goal, why = language_goal(
            self._goal_localizer, instruction, self.map, start, self.cfg.approach_m
        )
        if goal is not None or self.goal is None:
            self.goal, self.goal_failure = goal, why

    def _start_driving(self, obs: Any) -> None:
        self.phase = "drive"
        self.since_fix = 0.0
        self._plan_route_from(self._small(obs))

    def _plan_route(self) -> None:
        """The route from the estimate, through the way the robot sees clear from here."""
        est = self.filter.pose
        clear = self._clear if self._seen is not None else None
        try:
            self.route = Route.from_pose(self.map, est, self.goal.node, self.goal.target, clear)
        except ValueError:  # another component of G: head straight for the goal
            self.route = Route(self.map, self.goal.node, self.goal.node, self.goal.target)
        self.trace["routes"].append([int(n) for n in self.route.nodes])

    def _scale(self, rgb: np.ndarray) -> int:
        h = self.map_rig.shape[1]
        if rgb.shape[1] % h or rgb.shape[1] // h < 1:
            raise ValueError(
                f"the robot's cameras give {rgb.shape[1]} px images; the map's rig has {h} px: "
                "the robot's must be an integer multiple"
            )
        return rgb.shape[1] // h

    def _small(self, obs: Any) -> dict[str, np.ndarray]:
        """The observation at the map rig's resolution: each block's centre pixel is the
        ray the map-resolution camera casts, so the planner and odometry see what they were
        trained on."""
        k = self.scale
        if k == 1:
            return obs
        c = k // 2
        out = dict(obs)
        for key in ("rgb", "depth", "semantic"):
            if key in obs:
                out[key] = np.ascontiguousarray(obs[key][:, c::k, c::k])
        return out

    # ------------------------------------------------------------------ report
    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / max(self.plans, 1)

    def episode_log(self) -> dict[str, Any]:
        """What the agent did, JSON-ready: its own outcome, the goal it chose, counters,
        costs (ms per step / per fix), and the trace (estimates, fixes, routes)."""
        steps = max(self.t, 1)
        ms = {k: round(1e3 * v / steps, 3) for k, v in self.cost.items() if k != "localizer"}
        ms["localizer"] = round(1e3 * self.cost["localizer"] / max(self.fix_count, 1), 1)
        return {
            "agent_outcome": self.outcome,
            "goal": self.goal.to_json() if self.goal is not None else None,
            "goal_failure": self.goal_failure,
            "plans": self.plans,
            "fallbacks": self.fallbacks,
            "fallback_rate": round(self.fallback_rate, 4),
            "turns_in_place": self.turns,
            "recoveries": self.recoveries,
            "fixes_accepted": sum(1 for f in self.trace["fixes"] if f["accepted"]),
            "fixes_rejected": int(self.filter.rejected),
            "fix_attempts": self.fix_count,
            "start_tries": self.tries,
            "start_moves": self.moves,
            "odometry": self.odometry.name,
            "oracles": sorted(self.oracles),
            "cost_ms": ms,
            "trace": {
                **self.trace,
                "map_nodes": self.map.positions.round(3).tolist(),
                "map_edges": self.map.edges.tolist(),
                "route": self.trace["routes"][-1] if self.trace["routes"] else [],
            },
        }
