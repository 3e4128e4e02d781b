"""Pixel landmark detector: labels, a short training run learns, detection, checkpoints."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from conftest import SMALL, cached_scene

pytest.importorskip("cv2")

from astra_sim.agents.astra_global.landmark_detector import (
    BACKGROUND,
    DetectorConfig,
    LandmarkDetector,
    LandmarkDetectorNet,
)
from astra_sim.agents.astra_global.landmark_detector_train import (
    DetectorTrainConfig,
    cell_accuracy,
    landmark_categories,
    render_views,
    train_detector,
)
from astra_sim.core.seeding import make_rng
from astra_sim.render.rig import Rig


@functools.cache
def views():
    scene = cached_scene("office", 0, **SMALL["office"])
    cats = landmark_categories([scene])
    im, lab = render_views(scene, Rig.from_name("default"), 12, cats, make_rng(0, "t"))
    return im, lab, cats


@functools.cache
def trained():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = DetectorTrainConfig(steps=80, batch_size=8, width=8, lr=5e-3)
    return train_detector(cfg, views())


def test_labels_come_from_landmark_categories():
    im, lab, cats = views()
    assert cats[0] == BACKGROUND and "sign" in cats and "door" in cats
    assert im.shape == (48, 128, 128, 3) and im.dtype == np.uint8
    assert lab.shape == (48, 32, 32) and lab.min() >= 0 and lab.max() < len(cats)
    assert (lab > 0).mean() > 0.02  # landmarks are in view, not only walls


def test_training_lowers_the_loss_and_beats_chance():
    det, report = trained()
    h = report["history"]
    assert np.mean(h[-10:]) < 0.7 * np.mean(h[:10])
    im, lab, _ = views()
    acc = cell_accuracy(det, im, lab)
    assert acc["cell_accuracy"] > (lab == 0).mean() - 0.05  # at least the background prior
    assert 0.0 <= acc["mean_iou"] <= 1.0


def test_detect_returns_sorted_landmarks_with_boxes_in_pixels():
    det, _ = trained()
    det = LandmarkDetector(det.net, min_cells=1, min_score=0.0)
    found = det.detect(views()[0][:4])
    assert found, "a detector that labels anything must find a region"
    assert [d.pixels for d in found] == sorted((d.pixels for d in found), reverse=True)
    for d in found:
        assert d.category in det.categories[1:]
        r0, c0, r1, c1 = d.bbox
        assert 0 <= r0 < r1 <= 128 and 0 <= c0 < c1 <= 128 and 0 <= d.camera < 4


def test_checkpoint_round_trip(tmp_path):
    det, _ = trained()
    path = det.save(tmp_path / "det.pt")
    again = LandmarkDetector.load(path)
    im = views()[0][:4]
    assert again.categories == det.categories
    np.testing.assert_array_equal(again.net.label_cells(im)[0], det.net.label_cells(im)[0])


def test_bad_input_and_bad_files(tmp_path):
    det, _ = trained()
    with pytest.raises(ValueError, match="uint8"):
        det.detect(np.zeros((4, 128, 128, 3), np.float32))
    with pytest.raises(FileNotFoundError):
        LandmarkDetector.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not torch")
    with pytest.raises(ValueError, match="corrupt"):
        LandmarkDetector.load(tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="background"):
        DetectorConfig(categories=("sofa",))
    with pytest.raises(ValueError, match="multiple of 16"):
        LandmarkDetectorNet(DetectorConfig(image_size=100))
