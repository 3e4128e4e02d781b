"""``astra-sim train vpr|detector|global-sft|global-grpo|local``: train models.

Training scenes use seeds disjoint from the held-out ones evaluation uses (train 100+,
evaluation 0-99 by default), so reported numbers are on places the model never saw.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

DEFAULT_TRAIN_SEEDS = "100-101"
"""Training scene seeds per kind for the shipped VPR checkpoint."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train models on generated training scenes")
    tsub = p.add_subparsers(dest="train_command", metavar="MODEL", required=True)
    v = tsub.add_parser("vpr", help="train the VPR baseline until its loss plateaus")
    v.add_argument("--out", type=Path, required=True, help="checkpoint file to write (.pt)")
    v.add_argument("--kinds", default="home,office,warehouse", help="scene kinds, comma list")
    v.add_argument("--seeds", default=DEFAULT_TRAIN_SEEDS, help="training seeds per kind")
    v.add_argument("--heldout-seeds", default="0", help="held-out seeds for recall@1")
    v.add_argument("--max-epochs", type=int, default=30, help="most epochs (default 30)")
    v.add_argument("--patience", type=int, default=3, help="plateau patience in epochs")
    v.add_argument("--seed", type=int, default=0, help="training seed")
    v.add_argument("--cache-dir", type=Path, help="map cache (default ~/.cache/astra-sim)")
    v.set_defaults(func=run_vpr)

    d = tsub.add_parser("detector", help="train the pixel landmark detector on simulator views")
    d.add_argument("--out", type=Path, required=True, help="checkpoint file to write (.pt)")
    d.add_argument("--kinds", default="home,office,warehouse", help="scene kinds, comma list")
    d.add_argument("--seeds", default="100-104", help="training seeds per kind")
    d.add_argument("--heldout-seeds", default="0", help="held-out seeds for cell accuracy")
    d.add_argument("--views", type=int, default=150, help="views per training scene")
    d.add_argument("--steps", type=int, default=3000, help="optimiser steps")
    d.add_argument("--width", type=int, default=16, help="net width (channels of block 1)")
    d.add_argument("--seed", type=int, default=0, help="training seed")
    d.set_defaults(func=run_detector)

    from astra_sim.cli import train_global, train_local

    train_global.add_parsers(tsub)
    train_local.add_parsers(tsub)


def _seeds(args: argparse.Namespace) -> tuple[list[int], list[int]]:
    """Training and held-out seeds from ``--seeds`` and ``--heldout-seeds``, kept apart."""
    from astra_sim.core.seeding import parse_seeds

    train_seeds, heldout = parse_seeds(args.seeds), parse_seeds(args.heldout_seeds)
    if set(train_seeds) & set(heldout):
        raise ValueError(f"training and held-out seeds overlap: {set(train_seeds) & set(heldout)}")
    return train_seeds, heldout


def run_vpr(args: argparse.Namespace) -> int:
    import torch

    from astra_sim.agents.astra_global.vpr import VPRLocalizer
    from astra_sim.agents.astra_global.vpr_train import VPRTrainConfig, recall_at_1, train_vpr
    from astra_sim.core.fileio import atomic_write
    from astra_sim.mapping.build import MapConfig
    from astra_sim.mapping.cache import cached_map
    from astra_sim.scenes.generators import parse_kinds

    kinds = parse_kinds(args.kinds)
    train_seeds, heldout = _seeds(args)
    torch.set_num_threads(1)  # faster than 2 on a shared 2-core machine (see docs)
    t0 = time.perf_counter()
    maps = [cached_map(k, s, cache_dir=args.cache_dir) for k in kinds for s in train_seeds]
    t_maps = time.perf_counter() - t0
    print(f"{len(maps)} training maps, {sum(len(m.nodes) for m in maps)} nodes ({t_maps:.0f} s)")
    config = VPRTrainConfig(
        epochs=args.max_epochs, patience=args.patience, seed=args.seed, progress=True
    )
    t0 = time.perf_counter()
    net, history = train_vpr(maps, config)
    t_train = time.perf_counter() - t0
    VPRLocalizer(net).save(args.out)
    # Held-out recall@1: a second tour (another start seed) of each held-out scene.
    recall = {}
    for k in kinds:
        vals = []
        for s in heldout:
            db = cached_map(k, s, cache_dir=args.cache_dir)
            q = cached_map(k, s, MapConfig(seed=1, travel=1.5, turn_deg=90.0), None, args.cache_dir)
            vals.append(recall_at_1(net, db, q, radius=2.0))
        recall[k] = round(sum(vals) / len(vals), 4)
    report = {
        "kinds": kinds,
        "train_seeds": train_seeds,
        "heldout_seeds": heldout,
        "epochs_run": len(history),
        "loss_history": [round(x, 5) for x in history],
        "train_seconds": round(t_train, 1),
        "map_seconds": round(t_maps, 1),
        "heldout_recall_at_1_2m": recall,
        "config": {"max_epochs": args.max_epochs, "patience": args.patience, "seed": args.seed},
    }
    meta = args.out.with_suffix(".json")
    atomic_write(meta, (json.dumps(report, indent=1) + "\n").encode())
    print(json.dumps(report, indent=1))
    return 0


def run_detector(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from astra_sim.agents.astra_global.landmark_detector_train import (
        DetectorTrainConfig,
        cell_accuracy,
        render_views,
        train_detector,
    )
    from astra_sim.core.fileio import atomic_write
    from astra_sim.core.seeding import make_rng
    from astra_sim.render.rig import Rig
    from astra_sim.scenes.generators import generate_scene, parse_kinds

    kinds = tuple(parse_kinds(args.kinds))
    train_seeds, heldout = _seeds(args)
    config = DetectorTrainConfig(
        kinds=kinds,
        seeds=tuple(train_seeds),
        views_per_scene=args.views,
        steps=args.steps,
        width=args.width,
        seed=args.seed,
        progress=True,
    )
    torch.set_num_threads(1)
    detector, report = train_detector(config)
    detector.save(args.out)
    cats = detector.categories
    held = {}
    for k in kinds:
        ims, labs = [], []
        for s in heldout:
            rng = make_rng(args.seed, "detector-heldout", k, str(s))
            im, lab = render_views(generate_scene(k, s), Rig.from_name(config.rig), 40, cats, rng)
            ims.append(im)
            labs.append(lab)
        held[k] = cell_accuracy(detector, np.concatenate(ims), np.concatenate(labs))
    report.pop("history")
    report.update(heldout=held, train_seeds=train_seeds, heldout_seeds=heldout, steps=args.steps)
    atomic_write(args.out.with_suffix(".json"), (json.dumps(report, indent=1) + "\n").encode())
    print(json.dumps(report, indent=1))
    return 0
