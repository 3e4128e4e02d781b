"""``astra-sim demo``: the main job of the README, with the best parts the project has.

For now it generates one scene of each kind, saves it, draws it from above and renders
what the robot's cameras see from a spot in it; later issues extend it to closed-loop
episodes with the best available agent.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="generate a home, an office and a warehouse and draw them")
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output directory")
    p.add_argument("--seed", type=int, default=0, help="scene seed (default 0)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from astra_sim.scenes import SCENE_KINDS, generate_scene
    from astra_sim.scenes.topdown import save_overview, save_topdown

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    scenes, report = [], {}
    for kind in tqdm(SCENE_KINDS, desc="scenes", unit="scene"):
        t0 = time.perf_counter()
        scene = generate_scene(kind, args.seed)
        t_gen = time.perf_counter() - t0
        scene.save(out / "scenes" / kind)
        save_topdown(scene, out / "scenes" / kind / "top.png")
        grid = scene.navgrid()
        scenes.append(scene)
        report[kind] = {
            "seed": args.seed,
            "generate_seconds": round(t_gen, 3),
            "triangles": len(scene.faces),
            "instances": len(scene.instances) - 1,
            "landmarks": len(scene.landmarks()),
            "rooms": len(scene.rooms),
            "navigable_m2": round(grid.navigable_area, 2),
            "sign_texts": sorted({i.text for i in scene.instances if i.text})[:12],
        }
        tqdm.write(f"{scene.summary()} ({t_gen:.2f} s)")
    overview = save_overview(scenes, out / "scenes.png")
    views = save_camera_views(scenes, out / "views.png", args.seed)
    (out / "summary.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {overview}, {views}, {out / 'summary.json'} and scenes under {out / 'scenes'}")
    return 0


def save_camera_views(scenes: list[Any], path: Path, seed: int) -> Path:
    """Per scene: the default 4-camera panorama and an equirectangular view, one row each."""
    import numpy as np
    from PIL import Image

    from astra_sim.core.fileio import atomic_write
    from astra_sim.core.seeding import make_rng
    from astra_sim.render.embree import EmbreeRenderer
    from astra_sim.render.rig import Rig

    panorama, equirect = Rig.from_name("default"), Rig.from_name("equirect")
    rows = []
    for scene in scenes:
        grid = scene.navgrid()
        rng = make_rng(seed, "demo/views", scene.kind)
        spots = grid.sample_navigable(rng, 64)
        xy = spots[np.argmax(grid.esdf_at(spots))]  # the most open spot of 64
        pose = np.array([xy[0], xy[1], float(rng.uniform(-np.pi, np.pi))])
        with EmbreeRenderer(scene) as renderer:
            pano = np.concatenate(list(renderer.render(panorama, pose).rgb), axis=1)
            eq = renderer.render(equirect, pose).rgb[0]
        eq = np.asarray(Image.fromarray(eq).resize((pano.shape[0] * 2, pano.shape[0])))
        rows.append(
            np.concatenate([pano, np.full((pano.shape[0], 8, 3), 255, np.uint8), eq], axis=1)
        )
    image = np.concatenate(rows, axis=0)
    import io

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return atomic_write(path, buf.getvalue())
