"""Choose a body backend by name, so configs and recipes can say ``body: pybullet``."""

from __future__ import annotations

from typing import Any

from astra_sim.core.errors import UnknownNameError
from astra_sim.physics.base import Body, DiffDriveConfig
from astra_sim.scenes.model import Scene

BODY_BACKENDS = ("kinematic", "pybullet")
"""Names ``make_body`` accepts; ``kinematic`` is the default."""


def make_body(
    scene: Scene, backend: str = "kinematic", config: DiffDriveConfig | None = None, **kw: Any
) -> Body:
    """A robot body of the named backend in ``scene``.

    pybullet is imported only when its backend is asked for: it is an optional dependency.

    Args:
        scene: the scene to drive in.
        backend: one of ``BODY_BACKENDS``.
        config: the robot; defaults to ``DiffDriveConfig()``.
        **kw: backend options (``gui=True`` for pybullet).

    Raises:
        UnknownNameError: (a ValueError) if ``backend`` is not one of ``BODY_BACKENDS``.
    """
    if backend not in BODY_BACKENDS:
        raise UnknownNameError("body backend", backend, BODY_BACKENDS)
    config = DiffDriveConfig() if config is None else config
    if backend == "kinematic":
        from astra_sim.physics.kinematic import KinematicBody

        return KinematicBody(scene, config, **kw)
    from astra_sim.physics.bullet import BulletBody

    return BulletBody(scene, config, **kw)
