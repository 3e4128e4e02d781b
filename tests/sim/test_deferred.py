"""Deferred rendering: queued renders equal immediate ones, noise included."""

from __future__ import annotations

import numpy as np
from conftest import cached_scene

from astra_sim.sim import SimConfig, Simulator
from astra_sim.sim.deferred import active_queue, deferred_rendering


def _sims(n: int) -> list[Simulator]:
    cfg = SimConfig(rgb_noise_sigma=3.0, depth_noise=True, render_threads=1)
    return [Simulator(cached_scene("home", 0), cfg, seed=s) for s in range(n)]


def test_deferred_steps_give_the_observations_of_immediate_ones():
    grid = cached_scene("home", 0).navgrid()
    starts = grid.sample_navigable(np.random.default_rng(1), 2)
    now, later = _sims(2), _sims(2)
    for sim, xy in zip(now + later, [*starts, *starts], strict=True):
        sim.reset(np.array([*xy, 0.3]))
    expected = [sim.step(np.array([0.3, 0.2]))[0] for sim in now]
    with deferred_rendering() as queue:
        got = [sim.step(np.array([0.3, 0.2]))[0] for sim in later]
        assert len(queue) == 2 and active_queue() is queue
        assert not got[0]["rgb"].any()  # placeholders until the flush
        assert not got[0]["rgb"].flags.writeable
    assert active_queue() is None
    for a, b in zip(expected, got, strict=True):
        for key in a:
            assert np.array_equal(a[key], b[key]), key
