"""``astra-sim scene export-habitat|import-habitat``: our scenes to habitat and back.

Export writes a habitat scene dataset (and, with ``--episodes N``, a PointNav-v1
``episodes.json.gz`` habitat-lab reads); import reads a habitat scene (a dataset config, a
folder or a bare ``.glb``, with HM3D semantics) and saves it as our scene directory.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from astra_sim.core.errors import SceneFormatError

EPISODES_NAME = "episodes.json.gz"


def add_parsers(ssub: Any) -> None:
    """Add the two subcommands to ``astra-sim scene``'s subparsers."""
    e = ssub.add_parser("export-habitat", help="write a scene as a habitat scene dataset")
    e.add_argument("scene", type=Path, help="scene directory (scene.json + scene.glb)")
    e.add_argument("--out", type=Path, required=True, help="dataset folder to write into")
    e.add_argument("--name", help="scene name in the dataset (default: KIND-SEED)")
    e.add_argument("--episodes", type=int, default=0, metavar="N",
                   help=f"also write N PointNav episodes to OUT/{EPISODES_NAME}")  # fmt: skip
    e.add_argument("--seed", type=int, default=0, help="seed of the episode sampler")
    e.add_argument("--min-geodesic", type=float, default=1.0, help="shortest episode [m]")
    e.add_argument(
        "--config-path",
        help="scene_dataset_config value written into the episodes (default: the config's "
        "absolute path; habitat-lab opens it relative to where it runs)",
    )
    e.set_defaults(func=run_export)

    i = ssub.add_parser("import-habitat", help="read a habitat scene into a scene directory")
    i.add_argument("path", type=Path, help="scene_dataset_config.json, folder or .glb")
    i.add_argument("--out", type=Path, required=True, help="scene directory to write")
    i.add_argument("--scene", help="which scene of the dataset (name or scene_id)")
    i.add_argument("--floor-height", type=float, help="habitat y of the floor to keep")
    i.add_argument("--up", choices=("y", "z"), help="override the stage's up axis")
    i.set_defaults(func=run_import)


def run_export(args: argparse.Namespace) -> int:
    from astra_sim.core.seeding import make_rng
    from astra_sim.scenes import Scene
    from astra_sim.scenes.habitat import export_habitat
    from astra_sim.tasks import EpisodeSampler
    from astra_sim.tasks.habitat_episodes import write_pointnav

    if args.episodes < 0:
        raise ValueError(f"--episodes must be >= 0, got {args.episodes}")
    if not args.scene.exists():
        raise SceneFormatError(f"{args.scene}: no such scene directory")
    scene = Scene.load(args.scene)
    t0 = time.perf_counter()
    exported = export_habitat(scene, args.out, args.name)
    print(f"{scene.summary()}\nwrote {exported.config} and {exported.render.parent}/ "
          f"in {time.perf_counter() - t0:.2f} s")  # fmt: skip
    if args.episodes:
        rng = make_rng(args.seed, "habitat-export", exported.scene_id)
        sampler = EpisodeSampler(scene, scene.navgrid(), rng, min_geodesic=args.min_geodesic)
        episodes = [sampler.sample() for _ in range(args.episodes)]
        config = args.config_path or str(exported.config.resolve())
        path = write_pointnav(args.out / EPISODES_NAME, episodes, exported.scene_id, config)
        print(f"wrote {len(episodes)} PointNav episodes to {path} (scene_id {exported.scene_id})")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from astra_sim.scenes.habitat import load_habitat_scene

    t0 = time.perf_counter()
    scene = load_habitat_scene(args.path, args.scene, floor_height=args.floor_height, up=args.up)
    t_load = time.perf_counter() - t0
    scene.save(args.out)
    print(f"{scene.summary()}\nread in {t_load:.2f} s, written to {args.out}")
    return 0
