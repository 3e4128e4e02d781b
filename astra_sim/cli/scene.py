"""``astra-sim scene generate|show``: make a scene on disk and look at it from above."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

import yaml

from astra_sim.core.errors import SceneFormatError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("scene", help="generate scenes and draw them")
    ssub = p.add_subparsers(dest="scene_command", metavar="SUBCOMMAND", required=True)

    g = ssub.add_parser("generate", help="generate a home, office or warehouse scene")
    g.add_argument("--kind", help="home, office or warehouse (or set by --recipe)")
    g.add_argument("--seed", type=int, help="integer seed (default 0)")
    g.add_argument("--recipe", type=Path, help="YAML with kind, seed and params (scenes/*.yaml)")
    g.add_argument("--out", type=Path, required=True, help="directory to write the scene into")
    g.add_argument("--show", action="store_true", help="also write top.png into --out")
    g.add_argument(
        "params",
        nargs="*",
        metavar="KEY=VALUE",
        help="generator parameter overrides, e.g. width=14 bedrooms=3",
    )
    g.set_defaults(func=run_generate)

    s = ssub.add_parser("show", help="draw a scene from above into a PNG")
    s.add_argument("scene", type=Path, help="scene directory or mesh file")
    s.add_argument("--out", type=Path, required=True, help="picture to write (.png/.pdf/.svg)")
    s.add_argument("--radius", type=float, help="robot radius for the navigable area [m]")
    s.add_argument("--no-labels", action="store_true", help="leave out room and landmark labels")
    s.add_argument(
        "--randomize",
        type=int,
        metavar="N",
        help="draw the camera views under N domain randomization draws instead of the map",
    )
    s.add_argument(
        "--randomize-recipe",
        type=Path,
        help="YAML with the randomize block to draw from (default: every knob's default range)",
    )
    s.add_argument("--seed", type=int, default=0, help="seed of the draws and the view (0)")
    s.add_argument("--rig", default="default", help="camera rig of the --randomize views")
    s.set_defaults(func=run_show)

    from astra_sim.cli import scene_habitat

    scene_habitat.add_parsers(ssub)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``; values are parsed as YAML scalars."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got {item!r}")
        out[key] = yaml.safe_load(value)
    return out


def load_recipe(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"recipe {path} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"recipe {path}: expected a mapping at the top level")
    unknown = sorted(set(data) - {"kind", "seed", "params"})
    if unknown:
        raise ValueError(
            f"recipe {path}: unknown key(s) {', '.join(unknown)}; valid keys are kind, seed, params"
        )
    return data


def run_generate(args: argparse.Namespace) -> int:
    from astra_sim.scenes import generate_scene

    recipe = load_recipe(args.recipe) if args.recipe else {}
    kind = args.kind or recipe.get("kind")
    if kind is None:
        raise ValueError("give --kind (home, office, warehouse) or a --recipe that sets it")
    seed = args.seed if args.seed is not None else recipe.get("seed", 0)
    params = {**(recipe.get("params") or {}), **parse_overrides(args.params)}
    t0 = time.perf_counter()
    scene = generate_scene(kind, seed, **params)
    t_gen = time.perf_counter() - t0
    scene.save(args.out)
    print(f"{scene.summary()}\ngenerated in {t_gen:.2f} s, written to {args.out}")
    if args.show:
        from astra_sim.scenes.topdown import save_topdown

        print(f"top-down view: {save_topdown(scene, args.out / 'top.png')}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from astra_sim.scenes import Scene
    from astra_sim.scenes.topdown import save_topdown

    if not args.scene.exists():
        raise SceneFormatError(f"{args.scene}: no such scene directory or mesh file")
    scene = Scene.load(args.scene)
    if args.radius is not None:
        scene.nav_config = dataclasses.replace(scene.nav_config, robot_radius=args.radius)
    if args.randomize is not None:
        from astra_sim.cli.scene_randomize import load_block, save_randomized_views

        block = load_block(args.randomize_recipe)
        path = save_randomized_views(scene, args.out, args.randomize, block, args.seed, args.rig)
        print(f"{scene.summary()}\nwrote {path}: no randomization, then {args.randomize} draws")
        return 0
    path = save_topdown(scene, args.out, labels=not args.no_labels)
    print(f"{scene.summary()}\nwrote {path}")
    return 0
