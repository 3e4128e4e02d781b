"""VPR baseline: shapes, training lowers the loss, retrieval, bad input, checkpoint round trip."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from conftest import cached_scene

from astra_sim.agents.astra_global.base import Localizer, Query
from astra_sim.agents.astra_global.vpr import VPRConfig, VPRLocalizer, VPRNet, load_vpr
from astra_sim.agents.astra_global.vpr_train import VPRTrainConfig, recall_at_1, train_vpr
from astra_sim.mapping import MapConfig, build_map

SMALL_NET = VPRConfig(channels=(8, 16, 32, 32), clusters=8, descriptor_dim=64, image_size=(48, 48))


@functools.cache
def small_map():
    return build_map(cached_scene("home", 0), MapConfig(spacing=4.0, travel=1.0, turn_deg=60.0))


@functools.cache
def trained():
    cfg = VPRTrainConfig(net=SMALL_NET, epochs=4, batch_size=16, margin=0.5, seed=0)
    return train_vpr([small_map()], cfg)


def test_forward_shapes():
    net = VPRNet(SMALL_NET)
    rgb = torch.randint(0, 256, (2, 4, 30, 40, 3), dtype=torch.uint8)
    d = net(rgb)
    assert d.shape == (2, 4 * 64)
    assert torch.allclose(d.norm(dim=1), torch.ones(2), atol=1e-5)
    raw = VPRNet(VPRConfig(channels=(8, 16), clusters=4, descriptor_dim=0, image_size=(16, 16)))
    assert raw(rgb[:1]).shape == (1, 4 * 4 * 16)
    with pytest.raises(ValueError, match="uint8"):
        net(rgb.float())


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="clusters"):
        VPRConfig(clusters=0)
    with pytest.raises(ValueError, match="image_size"):
        VPRConfig(image_size=(4, 4))
    with pytest.raises(ValueError, match="epochs"):
        VPRTrainConfig(epochs=0)


def test_training_lowers_loss():
    net, history = trained()
    assert len(history) == 4
    assert all(np.isfinite(history))
    assert history[-1] < history[0]
    assert not net.training


def test_training_is_seeded():
    cfg = VPRTrainConfig(net=SMALL_NET, epochs=1, batch_size=16, margin=0.5, seed=3)
    _, h1 = train_vpr([small_map()], cfg)
    _, h2 = train_vpr([small_map()], cfg)
    assert h1 == h2


def test_query_at_node_localizes_to_it():
    tmap = small_map()
    loc = VPRLocalizer(trained()[0])
    assert isinstance(loc, Localizer)
    for node in tmap.nodes[::7]:
        res = loc.localize(Query(rgb=node.rgb, true_pose=node.pose2d), tmap)
        assert res.ok and res.node == node.id
        np.testing.assert_allclose(res.pose, node.pose2d)
        assert res.candidates[0] == node.id and len(res.candidates) == 5
    assert recall_at_1(loc.net, tmap, tmap) == 1.0


def test_wrong_camera_count_raises():
    tmap = small_map()
    loc = VPRLocalizer(VPRNet(SMALL_NET))
    with pytest.raises(ValueError, match="camera"):
        loc.localize(Query(rgb=tmap.nodes[0].rgb[:2]), tmap)
    with pytest.raises(ValueError, match="cameras"):
        recall_at_1(loc.net, tmap, [Query(rgb=tmap.nodes[0].rgb[:2], true_pose=np.zeros(3))])


def test_save_load_round_trip(tmp_path):
    tmap = small_map()
    loc = VPRLocalizer(trained()[0])
    path = loc.save(tmp_path / "vpr.pt")
    again = VPRLocalizer.load(path)
    rgb = np.stack([n.rgb for n in tmap.nodes[:5]])
    np.testing.assert_array_equal(loc.net.describe(rgb), again.net.describe(rgb))
    assert again.net.config == loc.net.config


def test_load_missing_or_corrupt(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_vpr(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt"):
        load_vpr(bad)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": 1}, foreign)
    with pytest.raises(ValueError, match="not a VPR checkpoint"):
        load_vpr(foreign)
