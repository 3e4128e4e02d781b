"""Astra-Global's coarse-to-fine self-localization with landmarks, without the MLLM.

The stages follow the paper (ASTRA.md): detect landmarks in the query, match them to the
map's landmarks, keep the nodes that share a co-visible area with the query (the nodes that
see most of the matched landmarks), then estimate the pose against those reference nodes
(``pose_refine``: ORB + PnP on the nodes' depth).

ORACLE WARNING: the only detector so far, ``"oracle"``, reads the query's ground-truth
instance image (``Query.semantic``). Detection and matching are then perfect, so its numbers
are an UPPER BOUND for the coarse stage and must NEVER be reported as the headline result.
A pixel-based detector (a recognizer trained on simulator crops) plugs in at ``detect``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astra_sim.agents.astra_global.base import (
    DetectedLandmark,
    LocalizationResult,
    Query,
    check_query,
)
from astra_sim.agents.astra_global.pose_refine import PoseRefiner, RefineConfig
from astra_sim.mapping.graph import TopoSemanticMap
from astra_sim.render.rig import Rig

DETECTORS: tuple[str, ...] = ("oracle",)
"""Detector names ``LandmarkLocalizer`` accepts."""


@dataclass
class Detection:
    """A detected landmark plus the map landmark id when the detector already knows it.

    Only the oracle knows ``map_id`` (through the instance id); a pixel detector leaves it
    None and ``LandmarkLocalizer.match`` finds it from category, text and attributes.
    """

    landmark: DetectedLandmark
    map_id: int | None = None


class LandmarkLocalizer:
    """Landmarks -> co-visible candidate nodes -> PnP pose (the Localizer protocol).

    Args:
        detector: ``"oracle"`` (ground-truth instances; an upper bound, never headline).
        name: name in result tables; defaults to ``landmarks-<detector>``.
        min_pixels: an instance smaller than this (all cameras together) is not detected,
            the same rule the map uses for a node seeing a landmark.
        top_k: candidate nodes kept by the co-visibility filter.
        refine: run the fine stage; False answers the best candidate node's pose (the
            retrieval-only baseline the refinement must beat).
        refine_config: knobs of the ORB + PnP stage.
        rig: the map's rig; by default the one named in the map's build config.

    Raises:
        NotImplementedError: for a detector that is planned but not built.
        ValueError: for bad numbers.
    """

    def __init__(
        self,
        detector: str = "oracle",
        name: str | None = None,
        min_pixels: int = 40,
        top_k: int = 16,
        refine: bool = True,
        refine_config: RefineConfig | None = None,
        rig: Rig | None = None,
    ) -> None:
        if detector not in DETECTORS:
            raise NotImplementedError(
                f"detector {detector!r} is not available; valid detectors: {list(DETECTORS)} "
                "(a pixel-based recognizer trained on simulator crops is planned)"
            )
        for what, value in (("min_pixels", min_pixels), ("top_k", top_k)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        self.detector = detector
        self.name = name or f"landmarks-{detector}"
        self.min_pixels = min_pixels
        self.top_k = top_k
        self.refine = refine
        self.refine_config = refine_config or RefineConfig()
        self._rig = rig
        self._refiner: PoseRefiner | None = None
        self._instance_index: tuple[int, dict[int, int]] | None = None

    # ------------------------------------------------------------------ stages
    def detect(self, query: Query, topo_map: TopoSemanticMap) -> list[Detection]:
        """Landmarks in the query images, largest first.

        The oracle reads ``query.semantic`` and maps instance ids to map landmarks with the
        map's own table (the scene's instance table is not available at query time).
        """
        if query.semantic is None:
            raise ValueError("query.semantic is required by the oracle detector, got None")
        sem = np.asarray(query.semantic)
        if sem.shape != np.shape(query.rgb)[:3]:
            raise ValueError(f"query.semantic must be (C, H, W) like rgb, got {sem.shape}")
        index = self._index(topo_map)
        out = []
        for iid in np.unique(sem):
            k = index.get(int(iid))
            if k is None:
                continue
            mask = sem == iid
            per_cam = mask.reshape(len(mask), -1).sum(axis=1)
            if per_cam.sum() < self.min_pixels:
                continue
            cam = int(per_cam.argmax())
            rows, cols = np.nonzero(mask[cam])
            mark = topo_map.landmarks[k]
            det = DetectedLandmark(
                category=mark.category,
                attributes=dict(mark.attributes),
                text=mark.text,
                camera=cam,
                pixels=int(per_cam.sum()),
                bbox=(int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1),
            )
            out.append(Detection(det, k))
        return sorted(out, key=lambda d: -d.landmark.pixels)

    def match(self, detections: list[Detection], topo_map: TopoSemanticMap) -> list[int]:
        """Map landmark ids of the detections (unique, in detection order).

        A detection with ``map_id`` keeps it; otherwise the map landmark agreeing best on
        category, sign text and attributes is taken if it is the only one that good (an
        ambiguous detection is dropped rather than guessed).
        """
        ids: list[int] = []
        for d in detections:
            k = d.map_id if d.map_id is not None else self._match_text(d.landmark, topo_map)
            if k is not None and k not in ids:
                ids.append(k)
        return ids

    @staticmethod
    def _match_text(det: DetectedLandmark, topo_map: TopoSemanticMap) -> int | None:
        scores = []
        for mark in topo_map.landmarks:
            if mark.category != det.category:
                scores.append(-1.0)
                continue
            s = 1.0 + (2.0 if det.text and det.text == mark.text else 0.0)
            s += sum(mark.attributes.get(a) == v for a, v in det.attributes.items())
            scores.append(s)
        if not scores or max(scores) < 0 or scores.count(max(scores)) > 1:
            return None
        return int(np.argmax(scores))

    def covisible(
        self, matched: list[int], detections: list[Detection], topo_map: TopoSemanticMap
    ) -> list[int]:
        """The top-k nodes by how many matched landmarks they see.

        Ties are broken by pixel-size agreement (min/max of query and node pixels per
        landmark, summed): a node that sees the same landmarks at similar sizes stood near.
        """
        pixels = {d.map_id: d.landmark.pixels for d in detections if d.map_id is not None}
        score: dict[int, float] = {}
        for k in matched:
            for nid in topo_map.nodes_seeing(k):
                node = topo_map.nodes[nid]
                px = node.landmark_pixels[node.landmarks.index(k)]
                q = pixels.get(k, px)
                score[nid] = score.get(nid, 0.0) + 1.0 + min(q, px) / max(q, px, 1)
        ranked = sorted(score, key=lambda n: (-score[n], n))
        return ranked[: self.top_k]

    # ------------------------------------------------------------------ protocol
    def localize(self, query: Query, topo_map: TopoSemanticMap) -> LocalizationResult:
        """Coarse to fine; ``ok`` is False with a reason when no landmark is matched."""
        rig = self._rig_for(topo_map)
        check_query(query, rig.shape[0])
        detections = self.detect(query, topo_map)
        detected = [d.landmark for d in detections]
        matched = self.match(detections, topo_map)
        if not matched:
            return LocalizationResult(False, detected=detected, failure="no landmark matched")
        candidates = self.covisible(matched, detections, topo_map)
        best = candidates[0]
        pose = np.asarray(topo_map.nodes[best].pose2d, dtype=np.float64)
        extras: dict = {"refined": False, "oracle": self.detector == "oracle"}
        if self.refine:
            if self._refiner is None:
                self._refiner = PoseRefiner(rig, self.refine_config)
            nodes = [topo_map.nodes[n] for n in candidates]
            res = self._refiner.refine(np.asarray(query.rgb), nodes, topo_map)
            if res is not None:
                best, pose = res.node, res.pose
                extras.update(refined=True, inliers=res.inliers, matches=res.matches)
        return LocalizationResult(
            True, node=best, pose=pose, detected=detected, matched=matched,
            candidates=candidates, extras=extras,
        )  # fmt: skip

    # ------------------------------------------------------------------ helpers
    def _rig_for(self, topo_map: TopoSemanticMap) -> Rig:
        if self._rig is None:
            name = topo_map.metadata.get("config", {}).get("rig", "default")
            if not isinstance(name, str):
                raise ValueError(f"map metadata names no rig by name ({name!r}); pass rig=")
            self._rig = Rig.from_name(name)
        return self._rig

    def _index(self, topo_map: TopoSemanticMap) -> dict[int, int]:
        """Instance id -> landmark id, cached per map (``landmark_of_instance`` scans)."""
        if self._instance_index is None or self._instance_index[0] != id(topo_map):
            table = {m.instance_id: m.id for m in topo_map.landmarks}
            self._instance_index = (id(topo_map), table)
        return self._instance_index[1]
