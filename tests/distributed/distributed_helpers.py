"""Shared pieces of the distributed and data tests: a small campaign and a local Ray."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest

SMALL_ENV = {
    "scenes": ["home"],
    "scene_seeds": [0, 1],
    "max_steps": 40,
    "max_geodesic": 3.0,
    "episodes": 4,
    "seed": 3,
}


def rig_recipe(folder: Path, size: int = 24) -> str:
    """Four size x size pinhole cameras: a full panorama that renders fast."""
    cams = [
        f"  - {{name: c{i}, model: pinhole, width: {size}, height: {size}, hfov_deg: 90, "
        f"xyz: [0, 0, 0.5], yaw_deg: {90 * i}}}"
        for i in range(4)
    ]
    path = folder / "rig.yaml"
    path.write_text("cameras:\n" + "\n".join(cams) + "\n")
    return str(path)


@contextlib.contextmanager
def local_ray(tmp_path_factory: pytest.TempPathFactory):
    """A 2-CPU Ray with its temp files in a short /tmp folder; shut down on exit."""
    import ray

    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # socket paths must stay < 108 bytes
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "disabled")
        mp.setenv("RAY_TMPDIR", temp)
        ray.init(num_cpus=2, include_dashboard=False, _temp_dir=temp, log_to_driver=False)
        try:
            yield
        finally:
            ray.shutdown()


def assert_same_dataset(a, b) -> None:
    """Two EpisodeDatasets hold the same episodes, row for row, bit for bit."""
    import numpy as np

    assert a.episode_indices == b.episode_indices
    assert a.features == b.features
    assert a.stats == b.stats
    for i in a.episode_indices:
        ea, eb = a.read_episode(i), b.read_episode(i)
        assert ea.keys() == eb.keys()
        for key in ea:
            np.testing.assert_array_equal(ea[key], eb[key], err_msg=f"episode {i} {key}")
