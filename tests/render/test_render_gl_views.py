"""The ``gl`` backend's per-frame geometry in numpy: view placement and cluster culling.

These need no EGL: they check the arithmetic that decides what is drawn where against
straightforward references, so that a faster formulation cannot drop or misplace geometry.
"""

from __future__ import annotations

import numpy as np
import pytest

from astra_sim.render import Rig
from astra_sim.render.gl_clusters import MIXED, Clusters, morton_key, normal_classes
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


def test_clusters_facing_away_are_dropped_only_when_every_triangle_faces_away():
    rng = np.random.default_rng(5)
    # Boxes' faces: six directions, slightly tilted so normals within a class differ.
    centres = rng.uniform(-8, 8, (120, 3))
    axes = np.eye(3)
    tris = []
    for c in centres:
        for a in range(3):
            for sign in (-1.0, 1.0):
                n = sign * axes[a] + rng.normal(0, 1e-4, 3)
                u = np.cross(n, axes[(a + 1) % 3])
                u /= np.linalg.norm(u)
                v = np.cross(n / np.linalg.norm(n), u)
                p = c + 0.3 * n
                tris.append([p, p + 0.2 * u, p + 0.2 * v])  # right-hand normal along n
    tris = np.array(tris)
    normals = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    classes = normal_classes(normals / np.linalg.norm(normals, axis=1, keepdims=True), 4)
    assert (classes != MIXED).all() and len(np.unique(classes)) == 6
    order = np.lexsort((morton_key(tris.mean(axis=1)), classes))  # as GLSceneBuffers does
    tris, classes = tris[order], classes[order]
    clusters = Clusters([(tris, 0, True, classes)])
    assert all(
        len(np.unique(classes[s : s + c])) == 1
        for s, c in zip(clusters.start, clusters.count, strict=True)
    )
    views = rig_views(Rig.from_name("default"), None)
    for pose in [(0.0, 0.0, 0.3), (4.0, -3.0, 2.0), (-6.0, 5.0, -1.0)]:
        _, planes, eyes, _, _ = place(views, pose)
        kept, _ = clusters.commands(planes, eyes)
        in_frustum, _ = clusters.commands(planes, eyes + 0.0, cull=False)
        drawn = {(int(r[2]), int(r[3])) for r in kept}
        dropped = 0
        for r in in_frustum:
            k, v = int(r[2]) // 3, int(r[3])
            t = tris[k : k + int(r[0]) // 3]
            n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
            faces_away = ((eyes[v] - t[:, 0]) * n).sum(axis=1).max() < 0
            if (int(r[2]), v) not in drawn and _in_frustum(t, planes[v]):
                dropped += 1
                assert faces_away  # dropped: every triangle faces away from the view
        assert dropped > 0


def _in_frustum(t, planes):
    """Whether the box of triangles ``t`` meets the frustum (the frustum test's own rule)."""
    corners = np.array([[(t.min((0, 1)), t.max((0, 1)))[(b >> a) & 1][a] for a in range(3)]
                        for b in range(8)])  # fmt: skip
    return all((corners @ p[:3] + p[3] >= 0).any() for p in planes)
