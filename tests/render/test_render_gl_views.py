"""The ``gl`` backend's per-frame geometry in numpy: view placement and cluster culling.

These need no EGL: they check the arithmetic that decides what is drawn where against
straightforward references, so that a faster formulation cannot drop or misplace geometry.
"""

from __future__ import annotations

import numpy as np
import pytest

from astra_sim.render import Rig
from astra_sim.render.gl_clusters import Clusters
from astra_sim.render.gl_views import NEAR, place, rig_views


@pytest.mark.parametrize("pose", [(0.0, 0.0, 0.0), (1.5, -2.0, 0.7), (-3.0, 4.0, -2.9)])
def test_views_map_what_each_camera_faces_to_its_optical_axis(pose):
    rig = Rig.from_name("default")
    views = rig_views(rig, None)
    attributes, planes, eyes, c, s = place(views, pose)
    x, y, _ = pose
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    for i, mount in enumerate(rig.mounts):
        eye = turn @ np.asarray(mount.xyz, float) + (x, y, 0.0)
        forward = turn @ mount.rotation[:, 0]
        assert np.allclose(eyes[i], eye) and np.allclose(attributes[i, 12:15], eye, atol=1e-5)
        to_eye = attributes[i, :12].reshape(3, 4).astype(np.float64)
        point = eye + 3.0 * forward
        assert np.allclose(to_eye[:, :3] @ point + to_eye[:, 3], (0.0, 0.0, -3.0), atol=1e-5)
        # Points on the axis are inside every plane; behind the near plane they are not.
        inside = planes[i, :, :3] @ point + planes[i, :, 3]
        assert (inside > 0).all()
        behind = eye + 0.5 * NEAR * forward
        assert planes[i, 4, :3] @ behind + planes[i, 4, 3] < 0


def _reference(clusters, planes, eyes):
    """Brute force: every (cluster, view) whose box is inside all planes, sorted by set,
    view, then squared eye-to-box distance."""
    rows = []
    for k in range(len(clusters)):
        corners = np.array(
            [[(clusters.lo, clusters.hi)[(b >> a) & 1][k, a] for a in range(3)] for b in range(8)]
        )
        for v in range(len(eyes)):
            seen = all((corners @ p[:3] + p[3] >= 0).any() for p in planes[v])
            if seen:
                gap = np.maximum(np.maximum(clusters.lo[k] - eyes[v], eyes[v] - clusters.hi[k]), 0)
                rows.append((clusters.set[k], v, float(gap @ gap), k))
    rows.sort(key=lambda r: r[:3])
    return rows


def test_cluster_commands_match_a_brute_force_frustum_test():
    rng = np.random.default_rng(3)
    tris = rng.uniform(-10, 10, (600, 1, 3)) + rng.uniform(-0.3, 0.3, (600, 3, 3))
    clusters = Clusters([(tris[:250], 0, True), (tris[250:], 250, False)])
    views = rig_views(Rig.from_name("default"), None)
    for pose in [(0.0, 0.0, 0.3), (4.0, -3.0, 2.0)]:
        _, planes, eyes, _, _ = place(views, pose)
        commands, runs = clusters.commands(planes, eyes, first_view=2)
        expected = _reference(clusters, planes, eyes)
        assert len(commands) == len(expected)
        for (_, view, _, k), row in zip(expected, commands, strict=True):
            assert tuple(row) == (3 * clusters.count[k], 1, 3 * clusters.start[k], view + 2, 0)
        # One run per set, in set order, each drawn with its set's culling.
        sets = [r[0] for r in expected]
        assert [(cull, first, count) for cull, first, count in runs] == [
            (s == 0, sets.index(s), sets.count(s)) for s in sorted(set(sets))
        ]
    _, planes, eyes, _, _ = place(views, (0.0, 0.0, 0.0))
    everything, _ = clusters.commands(planes, eyes, cull=False)
    assert len(everything) == len(clusters) * len(eyes)
