"""Astra-Global's coarse-to-fine self-localization with landmarks, without the MLLM.

The stages follow the paper (ASTRA.md): detect landmarks in the query, match them to the
map's landmarks, keep the nodes that share a co-visible area with the query (the nodes that
see most of the matched landmarks), then estimate the pose against those reference nodes
(``pose_refine``: ORB + PnP on the nodes' depth).

Detectors:

- ``"pixel"`` (the headline): a robot's pixels only. A ``LandmarkDetector`` labels landmark
  categories in the map-resolution images and a ``SignReader`` reads sign text (shelf codes,
  room numbers) in the full-resolution query, both trained on simulator views of training
  scenes. Text matches a map landmark exactly; a category is ambiguous (three plants) and
  votes for every node that sees one, weighted by how rare the category is.
- ``"oracle"`` reads the query's ground-truth instance image (``Query.semantic``).
  Detection and matching are then perfect, so its numbers are an UPPER BOUND for the coarse
  stage and must NEVER be reported as the headline result.

A query may be rendered at an integer multiple of the map's resolution (to read small
signs); it is area-downsampled to the map's resolution for the detector and the fine stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from astra_sim.agents.astra_global.base import (
    DetectedLandmark,
    LocalizationResult,
    Query,
    check_query,
)
from astra_sim.agents.astra_global.pose_refine import PoseRefiner, RefineConfig
from astra_sim.core.errors import UnknownNameError
from astra_sim.mapping.graph import TopoSemanticMap
from astra_sim.render.rig import Rig

DETECTORS: tuple[str, ...] = ("pixel", "oracle")
"""Detector names ``LandmarkLocalizer`` accepts."""

PLATE_HEIGHT_M = 0.25
"""Typical sign plate height (shelf labels 0.22 m, door signs 0.25 m, docks 0.3 m): turns a
read plate's height in pixels into a rough range, so nodes at that range from it rank first."""

TEXT_WEIGHT = 10.0
"""Vote of a read sign text for each node that sees its landmark (categories give ~1-4)."""


@dataclass
class Detection:
    """A detected landmark plus the map landmark id when the detector already knows it.

    Only the oracle knows ``map_id`` (through the instance id); a pixel detector leaves it
    None and ``LandmarkLocalizer.match`` finds it from category, text and attributes.
    """

    landmark: DetectedLandmark
    map_id: int | None = None


def downsample(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area-downsample (C, H, W, 3) images by the integer factor that gives (height, width)."""
    c, h, w = rgb.shape[:3]
    if (h, w) == (height, width):
        return rgb
    if h % height or w % width or h // height != w // width:
        raise ValueError(
            f"query images {h}x{w} are not an integer multiple of the map's {height}x{width}"
        )
    k = h // height
    blocks = rgb.reshape(c, height, k, width, k, -1).astype(np.float32).mean(axis=(2, 4))
    return np.rint(blocks).astype(np.uint8)


class LandmarkLocalizer:
    """Landmarks -> co-visible candidate nodes -> PnP pose (the Localizer protocol).

    Args:
        detector: ``"pixel"`` (needs ``landmark_detector``; ``sign_reader`` adds text) or
            ``"oracle"`` (ground-truth instances; an upper bound, never headline).
        landmark_detector: the pixel category detector.
        sign_reader: reads sign text from the full-resolution query images.
        name: name in result tables; defaults to ``landmarks-<detector>``.
        min_pixels: an instance smaller than this (all cameras together) is not detected,
            the same rule the map uses for a node seeing a landmark.
        top_k: candidate nodes kept by the co-visibility filter.
        top_k_untexted: candidates the pixel detector keeps when no sign text was read:
            category votes alone are weak evidence (every warehouse aisle has shelves), so
            more candidates go to the geometric check, which is what tells them apart.
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
        top_k_untexted: int = 48,
        refine: bool = True,
        refine_config: RefineConfig | None = None,
        rig: Rig | None = None,
        landmark_detector: Any = None,
        sign_reader: Any = None,
    ) -> None:
        if detector not in DETECTORS:
            raise UnknownNameError("detector", detector, DETECTORS)
        if detector == "pixel" and landmark_detector is None and sign_reader is None:
            raise ValueError("the pixel detector needs a landmark_detector and/or a sign_reader")
        for what, value in (
            ("min_pixels", min_pixels),
            ("top_k", top_k),
            ("top_k_untexted", top_k_untexted),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        self.detector = detector
        self.name = name or f"landmarks-{detector}"
        self.min_pixels = min_pixels
        self.top_k = top_k
        self.top_k_untexted = top_k_untexted
        self.refine = refine
        self.refine_config = refine_config or RefineConfig()
        self._rig = rig
        self._refiner: PoseRefiner | None = None
        self._instance_index: tuple[int, dict[int, int]] | None = None
        self.landmark_detector = landmark_detector
        self.sign_reader = sign_reader

    # ------------------------------------------------------------------ stages
    def detect(self, query: Query, topo_map: TopoSemanticMap) -> list[Detection]:
        """Landmarks in the query images, largest first; pixel counts at map resolution.

        The oracle reads ``query.semantic`` and maps instance ids to map landmarks with the
        map's own table (the scene's instance table is not available at query time).
        """
        if self.detector == "pixel":
            return self._detect_pixels(query, topo_map)
        if query.semantic is None:
            raise ValueError("query.semantic is required by the oracle detector, got None")
        sem = np.asarray(query.semantic)
        if sem.shape != np.shape(query.rgb)[:3]:
            raise ValueError(f"query.semantic must be (C, H, W) like rgb, got {sem.shape}")
        index = self._index(topo_map)
        area = (sem.shape[1] // topo_map.nodes[0].rgb.shape[1]) ** 2  # query px per map px
        out = []
        for iid in np.unique(sem):
            k = index.get(int(iid))
            if k is None:
                continue
            mask = sem == iid
            per_cam = mask.reshape(len(mask), -1).sum(axis=1) // area
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

    def _detect_pixels(self, query: Query, topo_map: TopoSemanticMap) -> list[Detection]:
        rgb = np.asarray(query.rgb)
        out: list[Detection] = []
        if self.landmark_detector is not None:
            small = downsample(rgb, *topo_map.nodes[0].rgb.shape[1:3])
            for d in self.landmark_detector.detect(small):
                if d.pixels >= self.min_pixels:
                    out.append(Detection(d))
        if self.sign_reader is not None:
            area = (rgb.shape[1] // topo_map.nodes[0].rgb.shape[1]) ** 2
            for r in self.sign_reader.read(rgb):
                x0, y0, x1, y1 = r.bbox
                det = DetectedLandmark(
                    category="sign", text=r.text.upper(), camera=r.camera,
                    pixels=max(1, r.pixels // area), bbox=(y0, x0, y1, x1), score=r.score,
                )  # fmt: skip
                focal = self._query_focal(topo_map, r.camera, rgb.shape[1])
                if focal is not None and y1 > y0:
                    det.attributes["range_m"] = f"{focal * PLATE_HEIGHT_M / (y1 - y0):.2f}"
                out.append(Detection(det))
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

    def vote(self, detections: list[Detection], topo_map: TopoSemanticMap) -> list[int]:
        """The top-k nodes by how well they agree with pixel detections (no map ids known).

        Categories: cosine similarity of tf-idf bags, the term weight being the square root
        of the pixels a category covers, so a node seeing the same things at similar sizes
        ranks first and a node that sees everything is not favoured; rare categories (a
        fridge) count more than common ones (a door). Read text names one map landmark and
        adds up to ``TEXT_WEIGHT`` for every node that sees it, far more than any bag: the
        full weight where the node stands about as far from the landmark as the plate's
        size says the query does, half of it elsewhere (a shelf code is seen down a whole
        aisle, and only the range tells where along it).
        """
        cats, idf, bags = self._category_bags(topo_map)
        q = np.zeros(len(cats))
        for d in detections:
            k = cats.get(d.landmark.category)
            if k is not None and not d.landmark.text:
                q[k] += d.landmark.pixels
        q = np.sqrt(q) * idf
        score = np.zeros(len(topo_map.nodes))
        if q.any():
            score += bags @ (q / np.linalg.norm(q))
        ranges: dict[str, float] = {}
        for d in detections:
            if d.landmark.text:
                r = float(d.landmark.attributes.get("range_m", "nan"))
                ranges.setdefault(d.landmark.text.upper(), r)
        for text, r in ranges.items():
            for mark in topo_map.landmarks:
                if mark.text.upper() != text:  # signs are read in capitals
                    continue
                seen = np.asarray(mark.nodes, dtype=np.int64)
                weight = np.full(len(seen), TEXT_WEIGHT)
                if np.isfinite(r):  # nodes about as far from the sign as the query rank first
                    dist = np.linalg.norm(topo_map.positions[seen] - mark.position[:2], axis=1)
                    sigma = 0.75 + 0.3 * r
                    weight *= 0.5 + 0.5 * np.exp(-0.5 * ((dist - r) / sigma) ** 2)
                score[seen] += weight
        ranked = np.argsort(-score, kind="stable")
        k = self.top_k if ranges else self.top_k_untexted
        return [int(i) for i in ranked[:k] if score[i] > 0]

    def _query_focal(self, topo_map: TopoSemanticMap, camera: int, height: int) -> float | None:
        """Focal length in query pixels of a pinhole camera of the rig (None otherwise)."""
        rig = self._rig_for(topo_map)
        cam = rig.mounts[camera].camera
        if not hasattr(cam, "focal_px"):
            return None
        return float(cam.focal_px) * height / cam.height

    def _category_bags(
        self, topo_map: TopoSemanticMap
    ) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """Category index, idf per category and unit tf-idf bags (nodes x categories)."""
        if getattr(self, "_bag_cache", (None,))[0] != id(topo_map):
            cats = {c: k for k, c in enumerate(sorted({m.category for m in topo_map.landmarks}))}
            tf = np.zeros((len(topo_map.nodes), len(cats)))
            for node in topo_map.nodes:
                for lid, px in zip(node.landmarks, node.landmark_pixels, strict=True):
                    tf[node.id, cats[topo_map.landmarks[lid].category]] += px
            df = (tf > 0).sum(axis=0)
            idf = np.log((1 + len(tf)) / (1 + df)) + 1.0
            bags = np.sqrt(tf) * idf
            bags /= np.maximum(np.linalg.norm(bags, axis=1, keepdims=True), 1e-12)
            self._bag_cache = (id(topo_map), (cats, idf, bags))
        return self._bag_cache[1]

    # ------------------------------------------------------------------ protocol
    def localize(self, query: Query, topo_map: TopoSemanticMap) -> LocalizationResult:
        """Coarse to fine; ``ok`` is False with a reason when no landmark is matched."""
        rig = self._rig_for(topo_map)
        check_query(query, rig.shape[0])
        detections = self.detect(query, topo_map)
        detected = [d.landmark for d in detections]
        if self.detector == "pixel":
            texts = {d.landmark.text.upper() for d in detections if d.landmark.text}
            matched = [m.id for m in topo_map.landmarks if m.text and m.text.upper() in texts]
            candidates = self.vote(detections, topo_map)
        else:
            matched = self.match(detections, topo_map)
            candidates = self.covisible(matched, detections, topo_map) if matched else []
        if not candidates:
            return LocalizationResult(False, detected=detected, failure="no landmark matched")
        best = candidates[0]
        pose = np.asarray(topo_map.nodes[best].pose2d, dtype=np.float64)
        extras: dict = {"refined": False, "oracle": self.detector == "oracle"}
        if self.refine:
            if self._refiner is None:
                self._refiner = PoseRefiner(rig, self.refine_config)
            nodes = [topo_map.nodes[n] for n in candidates]
            rgb = downsample(np.asarray(query.rgb), *topo_map.nodes[0].rgb.shape[1:3])
            res = self._refiner.refine(rgb, nodes, topo_map)
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
