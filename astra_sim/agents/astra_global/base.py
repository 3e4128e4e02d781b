"""The Localizer interface every Astra-Global localizer implements (VPR, landmarks, MLLM).

A localizer gets only what a robot has at query time, the rig's images, and the map built
offline; it answers with a node, a pose and its reasons (what it detected, which map
landmarks it matched, which nodes were candidates), so the coarse-to-fine stages can be
measured one by one and a multimodal-LLM localizer can plug into the same evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from astra_sim.mapping.graph import TopoSemanticMap


@dataclass
class DetectedLandmark:
    """A landmark seen in the query: category, visual attributes, sign text, where it is."""

    category: str
    attributes: dict[str, str] = field(default_factory=dict)
    text: str = ""
    camera: int = 0
    pixels: int = 0
    bbox: tuple[int, int, int, int] = (0, 0, 0, 0)  # row0, col0, row1, col1
    score: float = 1.0


@dataclass
class LocalizationResult:
    """The answer of a localizer; ``ok`` is False (with ``failure``) when it has none."""

    ok: bool
    node: int | None = None
    pose: np.ndarray | None = None  # (x, y, yaw) in the map frame
    detected: list[DetectedLandmark] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)  # map landmark ids
    candidates: list[int] = field(default_factory=list)  # map node ids
    failure: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Query:
    """What the robot has at query time (and, for scoring only, where it really was).

    ``semantic`` is filled only for oracle variants and never used by a headline result.
    """

    rgb: np.ndarray  # (C, H, W, 3) uint8: the rig's images
    depth: np.ndarray | None = None  # (C, H, W) metres, if the robot has depth
    semantic: np.ndarray | None = None  # oracle only
    true_pose: np.ndarray | None = None  # (x, y, yaw), for scoring


@runtime_checkable
class Localizer(Protocol):
    """Localize a query against a map."""

    name: str

    def localize(self, query: Query, topo_map: TopoSemanticMap) -> LocalizationResult: ...


def check_query(query: Query, cameras: int) -> None:
    """Raise a ValueError naming the problem if the query does not match the map's rig."""
    rgb = np.asarray(query.rgb)
    if rgb.ndim != 4 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"query.rgb must be (C, H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    if rgb.shape[0] != cameras:
        raise ValueError(
            f"query has {rgb.shape[0]} camera images but the map was built with {cameras} cameras"
        )


def pose_errors(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Planar position error (m) and absolute heading error (rad, wrapped to [0, pi])."""
    d = float(np.linalg.norm(np.asarray(estimate[:2]) - np.asarray(truth[:2])))
    yaw = float(abs((estimate[2] - truth[2] + np.pi) % (2 * np.pi) - np.pi))
    return d, yaw
