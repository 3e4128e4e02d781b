"""A picture of the ``gl`` and ``embree`` backends side by side on the same views.

For each scene: one pose of the default rig, rows Embree RGB, gl RGB, their difference
(x4), and the depth of each (same colour scale). docs/rendering.md shows the result;
regenerate it with ``python -m astra_sim.bench.render_compare docs/images/gl_vs_embree.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def _depth_colour(depth: np.ndarray, far: float) -> np.ndarray:
    from matplotlib import colormaps

    rgb = colormaps["viridis"](np.clip(depth / far, 0, 1))[..., :3]
    rgb[depth <= 0] = 0
    return (rgb * 255).astype(np.uint8)


def comparison(kinds: tuple[str, ...] = ("home", "warehouse"), seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8: per scene, five rows of the default rig's four cameras."""
    from astra_sim.bench.render_bench import poses
    from astra_sim.render import EmbreeRenderer, Rig
    from astra_sim.render.gl_backend import GLRenderer
    from astra_sim.scenes import generate_scene

    rig = Rig.from_name("default")
    blocks = []
    for kind in kinds:
        scene = generate_scene(kind, seed)
        pose = poses(scene, 1, seed)[0]
        ref, gl = EmbreeRenderer(scene), GLRenderer(scene)
        a, b = ref.render(rig, pose), gl.render(rig, pose)
        ref.close()
        gl.close()
        diff = np.clip(np.abs(a.rgb.astype(int) - b.rgb.astype(int)) * 4, 0, 255).astype(np.uint8)
        far = float(np.percentile(a.depth[a.depth > 0], 98))
        rows = [a.rgb, b.rgb, diff, _depth_colour(a.depth, far), _depth_colour(b.depth, far)]
        blocks.append(np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0))
        blocks.append(np.full((8, blocks[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(blocks[:-1], axis=0)


def main(argv: list[str]) -> int:
    from PIL import Image

    from astra_sim.core.fileio import atomic_write

    path = Path(argv[0] if argv else "docs/images/gl_vs_embree.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    import io

    buf = io.BytesIO()
    Image.fromarray(comparison()).save(buf, format="PNG", optimize=True)
    atomic_write(path, buf.getvalue())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
