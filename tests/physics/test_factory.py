"""Backend selection by name, and the pybullet scene build."""

from __future__ import annotations

import pytest
from physics_rooms import box_room, wall

from astra_sim.core.errors import UnknownNameError
from astra_sim.physics.base import DiffDriveConfig
from astra_sim.physics.factory import BODY_BACKENDS, make_body
from astra_sim.physics.kinematic import KinematicBody


@pytest.fixture(scope="module")
def room():
    return box_room(inner=[wall(4.025, 1.025, 4.225, 3.025)])


def test_make_body_by_name(room) -> None:
    assert BODY_BACKENDS == ("kinematic", "pybullet")
    body = make_body(room)
    assert isinstance(body, KinematicBody) and body.config == DiffDriveConfig()
    pytest.importorskip("pybullet")  # an optional dependency (the physics extra)
    from astra_sim.physics import bullet

    cfg = DiffDriveConfig(radius=0.25)
    pb = make_body(room, "pybullet", cfg)
    try:
        assert isinstance(pb, bullet.BulletBody) and pb.config is cfg
    finally:
        pb.close()


def test_unknown_backend_names_the_valid_ones(room) -> None:
    with pytest.raises(UnknownNameError, match=r"body backend 'mujoco'.*kinematic, pybullet"):
        make_body(room, "mujoco")


def test_the_collision_mesh_leaves_out_the_floor_and_is_chunked(room, monkeypatch) -> None:
    pytest.importorskip("pybullet")
    from astra_sim.physics import bullet

    chunks = bullet.obstacle_chunks(room)
    assert sum(len(i) // 3 for _, i in chunks) == 5 * 12  # four walls and the inner wall
    monkeypatch.setattr(bullet, "MAX_CHUNK_FACES", 7)
    chunks = bullet.obstacle_chunks(room)
    assert len(chunks) == 9 and all(len(i) <= 21 for _, i in chunks)
    body = make_body(room, "pybullet")  # walls split over nine static bodies still stop it
    try:
        body.reset([3.025, 2.0, 0.0])
        states = [body.step([1.0, 0.0], 1 / 200) for _ in range(400)]
        assert any(s.collided for s in states)
        assert states[-1].pose[0] == pytest.approx(4.025 - 0.18, abs=0.05)
    finally:
        body.close()
