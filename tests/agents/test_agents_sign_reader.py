"""Pixel sign reader: ground-truth crops, CTC decoding, training, checkpoints, bad input, and
the shipped checkpoint reading a held-out shelf code."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import cached_scene

from astra_sim.agents.astra_global.sign_data import (
    CHARSET,
    collect_samples,
    face_cells,
    ground_truth,
    normalize_text,
    query_rig,
    sign_poses,
    sign_texts,
    visible_signs,
)
from astra_sim.agents.astra_global.sign_reader import (
    SignReader,
    SignReaderConfig,
    ctc_greedy_decode,
)
from astra_sim.agents.astra_global.sign_reader_train import SignTrainConfig, train_sign_reader
from astra_sim.core.seeding import make_rng
from astra_sim.render.embree import EmbreeRenderer

CHECKPOINT = Path(__file__).resolve().parents[2] / "agents" / "checkpoints" / "sign_reader.pt"
SMALL = SignReaderConfig(det_channels=(4, 8, 8), rec_channels=(4, 8, 8, 16), rec_hidden=16)


@functools.cache
def tiny_samples():
    return collect_samples(("warehouse",), (100,), views_per_scene=6, resolution=192)


@functools.cache
def tiny_trained():
    cfg = SignTrainConfig(reader=SMALL, det_steps=25, det_batch=4, det_patch=96, rec_steps=40)
    return train_sign_reader(cfg, samples=tiny_samples())


def test_ground_truth_crops_carry_the_plates_text():
    scene = cached_scene("warehouse", 100)
    cells, texts = face_cells(scene), sign_texts(scene)
    assert (cells > 0).sum() > 0 and len(texts) > 0
    rig = query_rig(256, cameras=1)
    checked = 0
    with EmbreeRenderer(scene, threads=1) as r:
        for pose in sign_poses(scene, make_rng(0, "test"), 6):
            frame = r.render(rig, pose, rgb=False, depth=False)
            for g in visible_signs(ground_truth(r, rig, tuple(pose), cells), texts, 40):
                x0, y0, x1, y1 = g.bbox
                ids = frame.semantic[g.camera, y0:y1, x0:x1]
                owner = np.bincount(ids.ravel()).argmax()
                assert scene.instances[owner].text == g.text  # the shelf holding the sign
                checked += 1
    assert checked >= 3
    samples = tiny_samples()
    assert samples.crops.shape[1:] == (32, 128, 3) and len(samples.labels) == len(samples.crops)
    assert set("".join(samples.labels)) <= set(CHARSET)
    assert any(lab.startswith(("A-", "B-", "C-", "D-")) for lab in samples.labels)
    assert normalize_text("Room 203!") == "ROOM 203"


def test_ctc_greedy_decode_hand_made_logits():
    blank, k = 0, 1 + len(CHARSET)
    idx = {c: CHARSET.index(c) + 1 for c in "A-01"}
    path = ["A", "A", blank, "-", "0", blank, "0", "0", "1", blank]
    logits = torch.full((1, len(path), k), -5.0)
    for t, c in enumerate(path):
        logits[0, t, blank if c == blank else idx[c]] = 5.0
    logits[0, 4, idx["0"]], logits[0, 4, blank] = 0.0, -0.5  # a doubtful glyph
    (text, conf), (empty, _) = ctc_greedy_decode(torch.cat([logits, torch.zeros_like(logits)]))
    assert text == "A-001"
    assert 0.3 < conf < 0.6 and empty == ""
    assert ctc_greedy_decode(logits[:, [2, 2]])[0] == ("", 1.0)


def test_tiny_training_lowers_the_loss():
    _, hist = tiny_trained()
    for key in ("det_loss", "rec_loss"):
        losses = hist[key]
        assert np.mean(losses[-5:]) < np.mean(losses[:5]), key


def test_save_load_round_trip(tmp_path):
    reader, _ = tiny_trained()
    path = reader.save(tmp_path / "reader.pt")
    again = SignReader.load(path)
    assert again.config == reader.config
    images = tiny_samples().images[:2]
    np.testing.assert_array_equal(reader.plate_probability(images), again.plate_probability(images))
    crops = tiny_samples().crops[:8]
    assert reader.recognize(crops) == again.recognize(crops)
    with pytest.raises(FileNotFoundError):
        SignReader.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"junk\.pt"):
        SignReader.load(tmp_path / "junk.pt")


def test_bad_input_raises_value_error():
    reader = SignReader(SMALL)
    good = np.zeros((2, 64, 64, 3), np.uint8)
    assert isinstance(reader.read(good), list)
    for bad, match in (
        (good.astype(np.float32), "uint8"),
        (good[0], r"\(C, H, W, 3\)"),
        (good[..., :1], r"\(C, H, W, 3\)"),
        (good.tolist(), "numpy array"),
    ):
        with pytest.raises(ValueError, match=match):
            reader.read(bad)
    with pytest.raises(ValueError):
        SignReaderConfig(min_score=1.5)


def _facing_pose(scene, distance: float) -> tuple[tuple[float, float, float], str]:
    """A navigable pose ``distance`` in front of some shelf sign, camera 0 facing it."""
    cells, texts, grid = face_cells(scene), sign_texts(scene), scene.navgrid()
    for k in np.unique(cells[cells > 0]):
        tri = scene.vertices[scene.faces[cells == k]].astype(np.float64)
        centre = tri.reshape(-1, 3).mean(axis=0)
        n = np.cross(tri[0, 1] - tri[0, 0], tri[0, 2] - tri[0, 0])[:2]
        for normal in (n / np.linalg.norm(n), -n / np.linalg.norm(n)):
            xy = centre[:2] + distance * normal
            if grid.is_navigable(xy[None])[0] and grid.esdf_at(xy[None])[0] > 0.3:
                yaw = math.atan2(-normal[1], -normal[0])
                return (float(xy[0]), float(xy[1]), yaw), texts[k - 1]
    raise AssertionError("no shelf sign with free space in front")


@pytest.mark.skipif(not CHECKPOINT.is_file(), reason="shipped checkpoint missing")
def test_shipped_checkpoint_reads_a_held_out_shelf_code():
    reader = SignReader.load(CHECKPOINT)
    rig = query_rig(reader.config.resolution)
    scene = cached_scene("warehouse", 0)
    pose, code = _facing_pose(scene, 1.5)
    with EmbreeRenderer(scene) as r:
        reads = reader.read(r.render(rig, pose, depth=False, semantic=False).rgb)
    assert code in [rd.text for rd in reads if rd.camera == 0], (code, reads)
    home = cached_scene("home", 0)
    with EmbreeRenderer(home) as r:
        xy = home.navgrid().sample_navigable(make_rng(0, "home"), 3)
        for x, y in xy:
            rgb = r.render(rig, (x, y, 0.3), depth=False, semantic=False).rgb
            assert reader.read(rgb) == []  # no plates, no reads above min_score
