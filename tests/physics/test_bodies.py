"""Both body backends against motions whose outcome is known from the config's limits."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from physics_rooms import box_room, wall

from astra_sim.physics.base import Body, BodyState, DiffDriveConfig
from astra_sim.physics.factory import BODY_BACKENDS, make_body

DT = 1.0 / 200.0
CFG = DiffDriveConfig()
WALL_FACE = 4.025  # x of the inner wall's face that the robot drives at
STOP_X = WALL_FACE - CFG.radius
# Tolerances per backend: the kinematic body is exact up to the discretisation; pybullet
# adds contact compliance and wheel slip.
DIST_TOL = {"kinematic": 1e-6, "pybullet": 0.02}
RATE_TOL = {"kinematic": 1e-9, "pybullet": 0.01}
WALL_TOL = {"kinematic": 0.02, "pybullet": 0.05}


@pytest.fixture(scope="module")
def room():
    """A 6 m x 4 m room with a 0.2 m wall standing across x = 4.025 .. 4.225, y in [1, 3]."""
    return box_room(inner=[wall(WALL_FACE, 1.025, WALL_FACE + 0.2, 3.025)])


@pytest.fixture(params=BODY_BACKENDS)
def body(request, room):
    if request.param == "pybullet":
        pytest.importorskip("pybullet")  # an optional dependency (the physics extra)
    b = make_body(room, request.param)
    yield b
    b.close()


def backend(body: Body) -> str:
    return "kinematic" if type(body).__name__ == "KinematicBody" else "pybullet"


def drive(body: Body, command, seconds: float) -> list[BodyState]:
    return [body.step(command, DT) for _ in range(round(seconds / DT))]


def expected_distance(v: float, seconds: float, cfg: DiffDriveConfig) -> float:
    """Distance after a step command from rest: the slew ramp costs v / (2 a) seconds of
    full speed and the first-order lag another tau (its steady-state delay)."""
    return v * (seconds - v / (2 * cfg.max_linear_acc) - cfg.motor_time_constant)


def test_bodies_follow_the_protocol(body) -> None:
    assert isinstance(body, Body)
    state = body.reset([1.0, 2.0, 0.0])
    assert state.t == 0.0 and not state.collided
    np.testing.assert_allclose(state.velocity, 0.0, atol=1e-6)


def test_straight_drive_covers_the_distance_the_limits_allow(body) -> None:
    start = body.reset([1.0, 2.0, 0.0])
    states = drive(body, [0.5, 0.0], 2.0)
    end, tol = states[-1], DIST_TOL[backend(body)]
    expected = expected_distance(0.5, 2.0, CFG)
    assert end.pose[0] - start.pose[0] == pytest.approx(expected, abs=tol)
    assert abs(end.pose[1] - start.pose[1]) < tol
    driven = (end.wheel_angles - start.wheel_angles) * CFG.wheel_radius
    np.testing.assert_allclose(driven, end.pose[0] - start.pose[0], rtol=0.01)
    assert end.velocity[0] == pytest.approx(0.5, abs=0.01)
    assert not any(s.collided for s in states)


def test_constant_turn_reaches_the_commanded_yaw_rate(body) -> None:
    start = body.reset([1.0, 2.0, 0.0])
    states = drive(body, [0.0, 1.0], 2.0)
    tol = RATE_TOL[backend(body)]
    end = states[-1]
    assert end.ang_vel_body[2] == pytest.approx(1.0, abs=tol)
    assert end.velocity[1] == pytest.approx(1.0, abs=tol)
    yaw_rate = math.remainder(end.pose[2] - states[-2].pose[2], math.tau) / DT
    assert yaw_rate == pytest.approx(1.0, abs=max(tol, 1e-6))
    np.testing.assert_allclose(end.pose[:2], start.pose[:2], atol=0.01)  # turns on the spot
    rates = end.wheel_rates * CFG.wheel_radius
    half = 0.5 * CFG.track_width
    np.testing.assert_allclose(rates, [-half, half], atol=max(tol, 1e-6) * half * 2)


def test_driving_into_a_wall_stops_at_it(body) -> None:
    body.reset([WALL_FACE - 1.0, 2.0, 0.0])
    states = drive(body, [1.0, 0.0], 3.0)
    xs = np.array([s.pose[0] for s in states])
    tol = WALL_TOL[backend(body)]
    assert xs.max() <= STOP_X + 0.005  # never into the wall
    assert xs[-1] == pytest.approx(STOP_X, abs=tol)
    assert any(s.collided for s in states)
    assert not states[0].collided


def test_driving_into_a_wall_at_an_angle_stops_at_it(body) -> None:
    body.reset([WALL_FACE - 1.0, 1.5, math.radians(30)])
    states = drive(body, [1.0, 0.0], 3.0)
    assert max(s.pose[0] for s in states) <= STOP_X + 0.005
    assert any(s.collided for s in states)


def test_nan_and_inf_commands_raise(body) -> None:
    body.reset([1.0, 2.0, 0.0])
    for bad in ([math.nan, 0.0], [0.0, math.inf], [-math.inf, 0.0]):
        with pytest.raises(ValueError, match="command"):
            body.step(bad, DT)
    with pytest.raises(ValueError, match="command"):
        body.step([1.0, 0.0, 0.0], DT)
    for dt in (0.0, -DT, math.nan):
        with pytest.raises(ValueError, match="dt"):
            body.step([0.1, 0.0], dt)


@pytest.mark.parametrize(
    "pose",
    [
        [10.0, 2.0, 0.0],  # outside the scene bounds
        [2.0, -5.0, 0.0],
        [WALL_FACE + 0.1, 2.0, 0.0],  # inside the wall
        [WALL_FACE - 0.1, 2.0, 0.0],  # the disc overlaps the wall
        [1.0, 2.0, math.nan],
        [1.0, 2.0],
    ],
)
def test_reset_where_the_robot_does_not_fit_raises(body, pose) -> None:
    with pytest.raises(ValueError, match="pose"):
        body.reset(pose)


def test_same_commands_give_bit_identical_states(room, body) -> None:
    wander = np.random.default_rng(0).uniform([-1.0, -2.0], [1.0, 2.0], size=(200, 2))
    commands = np.concatenate([wander, np.tile([1.0, 0.0], (300, 1))])  # ... into the wall

    def run(b: Body) -> list[BodyState]:
        return [b.reset([WALL_FACE - 1.0, 2.0, 0.0])] + [b.step(c, DT) for c in commands]

    first = run(body)
    assert any(s.collided for s in first)
    other = make_body(room, backend(body))
    try:
        for again in (run(body), run(other)):  # the same body after a reset, and a fresh one
            for a, b in zip(first, again, strict=True):
                for f in dataclasses.fields(BodyState):
                    np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name))
    finally:
        other.close()


def test_close_is_idempotent(body) -> None:
    body.close()
    body.close()
    with pytest.raises(RuntimeError):
        body.step([0.1, 0.0], DT)
