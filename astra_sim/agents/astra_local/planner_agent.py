"""A closed-loop agent that drives with a trained planning head, for ``astra-sim eval nav``.

Every control step it turns the frame into the BEV and occupancy grids (``plan_features``:
the depth lifter, or the frozen 3D encoder the checkpoint carries), asks the head for 8
relative steps towards the local goal, and executes the first step as a velocity command (v
= dx / step_dt, w = dyaw / step_dt) -- receding-horizon control, so a plan never runs open
loop for more than one control period.

What it reads: the depth (and, for encoder features, RGB) images and the goal from the
observation; the body velocity from ``info`` (what wheel odometry gives a real robot); and,
for the local goal, the pose and the scene's navigation map, standing in for Astra-Global's
localization and graph planner (``plan_data.local_goal``, the same rule as in training).
After a bump it reverses for a few steps before planning again, as the expert does.

``PlannerAgentFallback`` adds Astra's safety net: when the planned path comes within the
robot radius of an occupied cell of its own occupancy grid (not the privileged map), an
optimization-based fallback picks the best collision-free constant-curvature arc instead;
``fallback_rate`` counts how often.

    astra-sim eval nav --recipe train/eval_pointnav.yaml \
        agent.name=astra_sim.agents.astra_local.planner_agent:PlannerAgent \
        agent.checkpoint=outputs/astra_local/flow_esdf.pt --out outputs/eval/flow
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from scipy import ndimage

from astra_sim.agents.astra_local.esdf_loss import integrate_steps
from astra_sim.agents.astra_local.plan_data import local_goal
from astra_sim.agents.astra_local.plan_features import RigFeaturizers, featurizer_factory
from astra_sim.agents.astra_local.train_planner import load_planner_and_encoder
from astra_sim.agents.base import Agent

LOCAL_GOAL_DISTANCE = 2.5
GOAL_TOLERANCE = 0.3
BACKOFF_STEPS = 3
"""After a bump, reverse this many control steps before planning again (as the expert
does, and as a robot with a bumper would), so one collision does not pin it to a wall."""


class PlannerAgent(Agent):
    """Receding-horizon driving with a planning head; ``agent.checkpoint`` names its ``.pt``."""

    use_fallback = False

    def __init__(self, config: Any):
        super().__init__(config)
        if not getattr(config, "checkpoint", None):
            raise ValueError("the planner agent needs agent.checkpoint=PATH to a planner .pt")
        torch.set_num_threads(1)
        self.model, encoder = load_planner_and_encoder(config.checkpoint)
        self.cfg = self.model.cfg
        self._featurizers = RigFeaturizers(featurizer_factory(self.cfg.bev, encoder))
        self.plans = self.fallbacks = self._backoff = 0

    def wrap(self, env: gym.Env) -> gym.Env:
        return env

    def reset(self, env: gym.Env, obs: Any, info: dict[str, Any], rng: np.random.Generator):
        super().reset(env, obs, info, rng)
        base = env.unwrapped
        self.featurize = self._featurizers(base.sim.calibrated_rig)
        self.grid = base.sim.scene.navgrid()
        goals = np.asarray(base.episode.goal.positions, np.float64)
        self.goal = goals[np.argmin(np.linalg.norm(goals - info["pose"][:2], axis=1))]
        self.generator = torch.Generator().manual_seed(int(rng.integers(2**31 - 1)))
        self.plans = self.fallbacks = self._backoff = 0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / max(self.plans, 1)

    def plan(self, obs: Any, info: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """The head's steps (T, 3) for this observation, and the occupancy grid it saw."""
        bev, occ = self.featurize(obs)
        goal = local_goal(self.grid, info["pose"], self.goal, LOCAL_GOAL_DISTANCE)
        batch = {
            "bev": torch.from_numpy(bev)[None],
            "occupancy": torch.from_numpy(occ)[None],
            "velocity": torch.from_numpy(np.asarray(info["velocity"], np.float32))[None],
            "goal": torch.from_numpy(goal)[None],
        }
        steps = self.model.sample(batch, self.generator)[0].numpy().astype(np.float64)
        self._local_goal = goal
        return steps, occ

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        if float(np.linalg.norm(self.goal - info["pose"][:2])) < GOAL_TOLERANCE:
            self.stop = True
            return np.zeros(2, np.float32)
        if info["collided"]:
            self._backoff = BACKOFF_STEPS
        if self._backoff > 0:
            self._backoff -= 1
            return np.array([-0.25, 0.0], np.float32)
        steps, occ = self.plan(obs, info)
        self.plans += 1
        if self.use_fallback:
            clearance = clearance_grid(occ, self.cfg.bev.cell_size)
            radius = self.env.unwrapped.sim_config.robot.radius
            if path_clearance(steps, clearance, self.cfg.bev.cell_size) < radius:
                self.fallbacks += 1
                steps = fallback_arc(self._local_goal, clearance, self.cfg, radius)
        dt = self.cfg.step_dt
        command = np.array([steps[0, 0] / dt, steps[0, 2] / dt])
        space = self.env.action_space
        return np.clip(command, space.low, space.high).astype(np.float32)


class PlannerAgentFallback(PlannerAgent):
    """``PlannerAgent`` with the fallback planner for paths its occupancy says collide."""

    use_fallback = True


def clearance_grid(occupancy: np.ndarray, cell_size: float) -> np.ndarray:
    """Distance (m) from every cell to the nearest occupied one; large where none is."""
    if not occupancy.any():
        return np.full(occupancy.shape, 1e3, np.float32)
    return (ndimage.distance_transform_edt(occupancy < 0.5) * cell_size).astype(np.float32)


def path_clearance(steps: np.ndarray, clearance: np.ndarray, cell_size: float) -> float:
    """Least clearance along the integrated poses of ``steps`` (nearest cell)."""
    xy = integrate_steps(torch.from_numpy(np.asarray(steps, np.float64)))[..., :2].numpy()
    n = clearance.shape[0]
    ij = np.clip(np.floor(xy / cell_size + n / 2).astype(int), 0, n - 1)
    return float(clearance[ij[..., 0], ij[..., 1]].min())


def fallback_arc(goal: np.ndarray, clearance: np.ndarray, cfg: Any, radius: float) -> np.ndarray:
    """Best constant-(v, w) arc: nearest to the local goal among those that keep clear.

    A small sampling-based optimization over the robot's command space (as a DWA does);
    when every moving arc collides, it turns in place towards the goal.
    """
    dt, horizon = cfg.step_dt, cfg.horizon
    best, best_cost = None, np.inf
    for v in (0.15, 0.3, 0.5, 0.7):
        for w in np.linspace(-1.5, 1.5, 13):
            steps = np.tile([v * dt, 0.0, w * dt], (horizon, 1))
            margin = path_clearance(steps, clearance, cfg.bev.cell_size) - radius
            if margin < 0.05:
                continue
            end = integrate_steps(torch.from_numpy(steps))[-1, :2].numpy()
            cost = float(np.linalg.norm(end - goal)) - 0.5 * min(margin, 0.5)
            if cost < best_cost:
                best, best_cost = steps, cost
    if best is None:
        w = float(np.sign(np.arctan2(goal[1], goal[0])) or 1.0) * 1.0
        best = np.tile([0.0, 0.0, w * dt], (horizon, 1))
    return best
