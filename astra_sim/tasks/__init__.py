"""Tasks: goals (points, images, language), episodes and their samplers, and measures.

The env (``astra_sim.envs``) draws an `Episode`, builds a `GoalDistance` for its goal, and
feeds a `MeasureContext` to a `Measures` container after every step.
"""

from astra_sim.tasks.episode import TASKS, Episode
from astra_sim.tasks.episode_file import EpisodeFormatError
from astra_sim.tasks.episodes import EpisodeSampler, EpisodeSet, SplitRule
from astra_sim.tasks.goals import (
    FUNCTION_PHRASES,
    GOAL_KINDS,
    Goal,
    GoalDistance,
    language_goals,
    object_positions,
)
from astra_sim.tasks.measures import (
    MEASURES,
    SPL,
    Collisions,
    DistanceToGoal,
    LocalizationError,
    Measure,
    MeasureContext,
    Measures,
    NavReward,
    PathLength,
    SoftSPL,
    Success,
    Time,
    heading_error,
)

__all__ = [
    "FUNCTION_PHRASES",
    "GOAL_KINDS",
    "MEASURES",
    "SPL",
    "TASKS",
    "Collisions",
    "DistanceToGoal",
    "Episode",
    "EpisodeFormatError",
    "EpisodeSampler",
    "EpisodeSet",
    "Goal",
    "GoalDistance",
    "LocalizationError",
    "Measure",
    "MeasureContext",
    "Measures",
    "NavReward",
    "PathLength",
    "SoftSPL",
    "SplitRule",
    "Success",
    "Time",
    "heading_error",
    "language_goals",
    "object_positions",
]
