"""``astra-sim map build|show|text``: build a scene's topological-semantic map and look at it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from astra_sim.core.errors import SceneFormatError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("map", help="build Astra-Global maps of scenes and draw them")
    msub = p.add_subparsers(dest="map_command", metavar="SUBCOMMAND", required=True)

    b = msub.add_parser("build", help="tour a saved scene with the expert and build its map")
    b.add_argument("--scene", type=Path, required=True, help="saved scene directory")
    b.add_argument("--out", type=Path, required=True, help="map directory to write")
    b.add_argument("--seed", type=int, default=0, help="picks the tour's start (default 0)")
    b.add_argument("--rig", default="default", help="camera rig name (default: default)")
    b.add_argument("--travel", type=float, default=0.5, help="keyframe every this many m")
    b.add_argument("--turn-deg", type=float, default=30.0, help="... or this many degrees")
    b.add_argument("--edge-radius", type=float, default=2.0, help="longest edge in metres")
    b.add_argument("--min-pixels", type=int, default=40, help="pixels to count as seen")
    b.add_argument("--spacing", type=float, default=2.5, help="tour waypoint spacing in m")
    b.add_argument("--max-steps", type=int, default=10_000, help="longest tour in steps")
    b.add_argument(
        "--pose-source",
        choices=("gt", "sfm"),
        default="gt",
        help="node poses: simulator ground truth, or SfM with pycolmap aligned to the map "
        "(default: gt)",
    )
    b.add_argument("--show", action="store_true", help="also write map.png into --out")
    b.set_defaults(func=run_build)

    s = msub.add_parser("show", help="draw a map over its scene into a picture")
    s.add_argument("map", type=Path, help="map directory")
    s.add_argument("--out", type=Path, required=True, help="picture to write (.png/.pdf/.svg)")
    s.add_argument(
        "--scene",
        type=Path,
        help="scene directory (default: the one the map was built from, else regenerated "
        "from the kind, seed and params in map.json)",
    )
    s.add_argument("--no-labels", action="store_true", help="leave out landmark labels")
    s.set_defaults(func=run_show)

    t = msub.add_parser("text", help="print the map as the text an LLM prompt gets")
    t.add_argument("map", type=Path, help="map directory")
    t.add_argument("--max-tokens", type=int, help="budget in whitespace-separated words")
    t.set_defaults(func=run_text)


def run_build(args: argparse.Namespace) -> int:
    from astra_sim.mapping.build import MapConfig, build_map
    from astra_sim.mapping.io import save_map
    from astra_sim.scenes import Scene

    if not args.scene.exists():
        raise SceneFormatError(f"{args.scene}: no such scene directory")
    scene = Scene.load(args.scene)
    config = MapConfig(
        travel=args.travel,
        turn_deg=args.turn_deg,
        edge_radius=args.edge_radius,
        min_pixels=args.min_pixels,
        rig=args.rig,
        seed=args.seed,
        spacing=args.spacing,
        max_steps=args.max_steps,
        pose_source=args.pose_source,
    )
    t0 = time.perf_counter()
    tmap = build_map(scene, config)
    t_build = time.perf_counter() - t0
    tmap.metadata["scene"]["path"] = str(args.scene.resolve())
    save_map(tmap, args.out)
    print(f"{tmap.summary()}\nbuilt in {t_build:.2f} s, written to {args.out}")
    if args.show:
        from astra_sim.mapping.draw import save_map_picture

        print(f"picture: {save_map_picture(tmap, scene, args.out / 'map.png')}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from astra_sim.mapping.draw import save_map_picture
    from astra_sim.mapping.io import load_map

    tmap = load_map(args.map)
    scene = scene_of(tmap.metadata, args.scene)
    path = save_map_picture(tmap, scene, args.out, labels=not args.no_labels)
    print(f"{tmap.summary()}\nwrote {path}")
    return 0


def run_text(args: argparse.Namespace) -> int:
    from astra_sim.mapping.io import load_map
    from astra_sim.mapping.text import render_map_text

    print(render_map_text(load_map(args.map), max_tokens=args.max_tokens))
    return 0


def scene_of(metadata: dict[str, Any], scene_dir: Path | None = None) -> Any:
    """The scene a map was built in: ``scene_dir``, else the recorded directory if it still
    exists, else regenerated from the recorded kind, seed and params."""
    from astra_sim.scenes import SCENE_KINDS, NavConfig, Scene, generate_scene

    if scene_dir is not None:
        if not scene_dir.exists():
            raise SceneFormatError(f"{scene_dir}: no such scene directory")
        return Scene.load(scene_dir)
    info = metadata.get("scene", {})
    recorded = info.get("path")
    if recorded and Path(recorded).exists():
        return Scene.load(recorded)
    kind, seed = info.get("kind"), info.get("seed")
    if kind not in SCENE_KINDS or not isinstance(seed, int):
        raise ValueError(
            f"the map does not record a generated scene (kind {kind!r}, seed {seed!r}) and "
            "its scene directory is gone; give --scene"
        )
    nav = info.get("nav_config")
    nav_config = NavConfig(**nav) if isinstance(nav, dict) else None
    return generate_scene(kind, seed, nav_config, **(info.get("params") or {}))
