"""What an episode of the composed Astra agent came to, scored against ground truth.

The agent reports what it did (its own outcome, the goal it chose, its pose estimates);
only here, after the episode, is that set against the truth it never saw: whether the goal
it chose was right, how far its estimates were from the true poses, and why an episode
failed. The causes are checked in the order of the system's stages, so each failure is
blamed on the first stage that went wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from astra_sim.agents.astra_global.instructions import SUCCESS_RADIUS

SELF_LOCALIZATION_M = 1.0
"""The paper's self-localization success: translational error <= 1 m over the trajectory."""
STUCK_STEPS = 50
"""A timed-out episode that collided in its last this-many steps was stuck on an obstacle."""
CAUSES = ("goal_not_found", "goal_wrong", "lost", "collision", "timeout", "stopped_short")


def pose_errors(true_xy: np.ndarray, est_pose: list) -> np.ndarray:
    """Per-step position error (m) wherever the agent had an estimate (None: not yet)."""
    n = min(len(true_xy), len(est_pose))
    errs = [
        float(np.linalg.norm(np.asarray(est_pose[t][:2]) - true_xy[t]))
        for t in range(n)
        if est_pose[t] is not None
    ]
    return np.asarray(errs, np.float64)


def goal_localized(log: dict[str, Any], episode: Any) -> bool:
    """The agent's goal is right: the landmark the episode names, or a target within
    ``SUCCESS_RADIUS`` of a true goal position (as ``instructions.goal_success`` scores)."""
    goal = log.get("goal")
    if goal is None:
        return False
    if goal.get("source") == "oracle":
        return True
    if goal.get("instance_id") is not None and goal["instance_id"] in set(
        episode.goal.instance_ids
    ):
        return True
    positions = np.asarray(episode.goal.positions, np.float64).reshape(-1, 2)
    d = np.linalg.norm(positions - np.asarray(goal["target"][:2]), axis=1)
    return bool(len(d) and d.min() <= SUCCESS_RADIUS)


def classify(
    success: bool, log: dict[str, Any], goal_ok: bool, final_error: float, record: Any
) -> str:
    """The outcome: ``success`` or the first failing stage (see ``CAUSES``)."""
    if success:
        return "success"
    agent_outcome = log.get("agent_outcome", "")
    if agent_outcome == "goal_not_found":
        return "goal_not_found"
    if not goal_ok:
        return "goal_wrong"
    if agent_outcome == "not_localized" or not final_error <= SELF_LOCALIZATION_M:
        return "lost"
    if agent_outcome == "arrived":
        return "stopped_short"
    last = record.last_collision_step
    if last is not None and record.steps - last < STUCK_STEPS:
        return "collision"
    return "timeout"


def astra_episode_summary(record: Any, log: dict[str, Any], episode: Any) -> dict[str, Any]:
    """JSON-ready scores of one episode: outcome, goal and self-localization, counters."""
    errs = pose_errors(np.asarray(record.trajectory), log["trace"]["est_pose"])
    final_error = float(errs[-1]) if len(errs) else float("inf")
    goal_ok = goal_localized(log, episode)
    success = bool(record.metrics.get("success", 0.0) > 0.5)
    return {
        "outcome": classify(success, log, goal_ok, final_error, record),
        "agent_outcome": log.get("agent_outcome", ""),
        "goal_localized": goal_ok,
        "self_localized": bool(len(errs)) and float(errs.max()) <= SELF_LOCALIZATION_M,
        "max_pose_error_m": round(float(errs.max()), 4) if len(errs) else None,
        "final_pose_error_m": round(final_error, 4) if len(errs) else None,
        "goal": log.get("goal"),
        "goal_failure": log.get("goal_failure", ""),
        **{
            k: log.get(k)
            for k in (
                "plans",
                "fallbacks",
                "fallback_rate",
                "fixes_accepted",
                "fixes_rejected",
                "fix_attempts",
                "start_tries",
                "odometry",
                "oracles",
                "cost_ms",
            )
        },
    }


def picture_trace(
    record: Any, log: dict[str, Any], episode: Any, summary: dict[str, Any]
) -> dict[str, Any]:
    """The trace ``eval.astra_pictures`` draws: the agent's log beside the truth."""
    trace = log["trace"]
    nodes = np.asarray(trace["map_nodes"], np.float64).reshape(-1, 2)
    route = trace.get("route") or []
    goal = log.get("goal")
    subgoals = nodes[route].tolist() + ([goal["target"]] if goal else [])
    return {
        "true_xy": np.asarray(record.trajectory).round(4).tolist(),
        "est_pose": [p if p is not None else None for p in trace["est_pose"]],
        "map_nodes": trace["map_nodes"],
        "map_edges": trace["map_edges"],
        "route": route,
        "subgoals": subgoals,
        "fixes": trace["fixes"],
        "goal_positions": np.asarray(episode.goal.positions).round(4).tolist(),
        "goal_estimate": goal["pose"] if goal else None,
        "start_true": list(map(float, episode.start)),
        "outcome": summary["outcome"],
        "title": f"{episode.scene_kind} {episode.scene_seed}: "
        + (episode.goal.instruction or episode.task),
    }
