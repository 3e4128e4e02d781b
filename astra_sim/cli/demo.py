"""``astra-sim demo``: the main job of the README, with the best parts the project has.

It generates one scene of each kind (saved, drawn from above, and seen through the
robot's cameras), then runs the best agent the project has (the geodesic expert, until
trained agents exist) on PointNav and LanguageNav episodes in the home, and writes the
trajectories, a GIF of one episode and ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from astra_sim.core.fileio import atomic_write
from astra_sim.eval.rollout import metrics_table, run_expert_episode


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="generate scenes, run the expert on PointNav and LanguageNav in a home, and "
        "write pictures, a GIF and metrics",
    )
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output directory")
    p.add_argument("--seed", type=int, default=0, help="scene and episode seed (default 0)")
    p.add_argument("--episodes", type=int, default=3, help="episodes per task (default 3)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from astra_sim.scenes import SCENE_KINDS, generate_scene
    from astra_sim.scenes.topdown import save_overview, save_topdown

    if args.episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {args.episodes}")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    scenes, report = [], {}
    for kind in tqdm(SCENE_KINDS, desc="scenes", unit="scene"):
        t0 = time.perf_counter()
        scene = generate_scene(kind, args.seed)
        t_gen = time.perf_counter() - t0
        scene.save(out / "scenes" / kind)
        save_topdown(scene, out / "scenes" / kind / "top.png")
        scenes.append(scene)
        report[kind] = {
            "seed": args.seed,
            "generate_seconds": round(t_gen, 3),
            "triangles": len(scene.faces),
            "instances": len(scene.instances) - 1,
            "landmarks": len(scene.landmarks()),
            "rooms": len(scene.rooms),
            "navigable_m2": round(scene.navgrid().navigable_area, 2),
        }
    save_overview(scenes, out / "scenes.png")
    save_camera_views(scenes, out / "views.png", args.seed)
    (out / "scenes.json").write_text(json.dumps(report, indent=1) + "\n")

    records = run_episodes(args.seed, args.episodes, out)
    print(metrics_table(records))
    print(f"wrote {out}/metrics.json, trajectories.png, episode.gif, scenes.png, views.png")
    return 0


def run_episodes(seed: int, per_task: int, out: Path) -> list[Any]:
    """The expert on PointNav and LanguageNav in the home: metrics, trajectories, a GIF."""
    import gymnasium as gym

    import astra_sim  # noqa: F401  (registers the env ids)

    records = []
    jobs = [(task, i) for task in ("PointNav", "LanguageNav") for i in range(per_task)]
    envs = {
        t: gym.make(f"AstraSim/{t}-v0", scene="home", scene_seeds=[seed], render_mode="rgb_array")
        for t in ("PointNav", "LanguageNav")
    }
    try:
        for task, i in tqdm(jobs, desc="episodes", unit="episode"):
            gif = task == "LanguageNav" and i == 0
            records.append(
                run_expert_episode(envs[task], seed * 1000 + i, frame_every=3 if gif else 0)
            )
        scene = envs["PointNav"].unwrapped.sim.scene
    finally:
        for env in envs.values():
            env.close()
    save_trajectories(scene, records, out / "trajectories.png")
    save_gif([f for r in records for f in r.frames], out / "episode.gif")
    metrics = {
        "scene": {"kind": "home", "seed": seed},
        "agent": "expert",
        "episodes": [r.summary() for r in records],
    }
    atomic_write(out / "metrics.json", (json.dumps(metrics, indent=1) + "\n").encode())
    return records


def save_trajectories(scene: Any, records: list[Any], path: Path) -> Path:
    """The home from above with each episode's path (PointNav blue, LanguageNav purple)."""
    import matplotlib.pyplot as plt

    from astra_sim.scenes.topdown import _save_figure, draw_topdown

    fig, ax = plt.subplots(figsize=(10, 8))
    draw_topdown(scene, ax=ax, navigable=False, max_labels=40)
    colours = {"pointnav": "tab:blue", "languagenav": "tab:purple"}
    for r in records:
        c = colours.get(r.task, "tab:gray")
        ax.plot(*r.trajectory.T, color=c, lw=1.6, zorder=6)
        ax.scatter(*r.trajectory[0], color=c, marker="o", s=25, zorder=7)
        ax.scatter(*r.goals.T, color=c, marker="*", s=20, alpha=0.5, zorder=7)
    ax.set_title(
        "expert trajectories: PointNav (blue), LanguageNav (purple); o start, * goal", fontsize=9
    )
    fig.tight_layout()
    _save_figure(fig, path, 140)
    return path


def save_gif(frames: list[Any], path: Path, fps: int = 5) -> Path:
    """An animated GIF of rgb_array frames (panorama over the map), written atomically."""
    import io

    from PIL import Image

    images = [Image.fromarray(f).reduce(2) for f in frames]  # half size keeps the GIF small
    buf = io.BytesIO()
    images[0].save(
        buf, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0
    )
    return atomic_write(path, buf.getvalue())


def save_camera_views(scenes: list[Any], path: Path, seed: int) -> Path:
    """Per scene: the default 4-camera panorama and an equirectangular view, one row each."""
    import numpy as np
    from PIL import Image

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
