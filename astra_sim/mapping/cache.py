"""Maps of generated scenes, built once and kept on disk, keyed by everything that made them.

Training the VPR baseline and evaluating localizers both need maps of many generated
scenes; a warehouse map takes about 20 s to build, so each (kind, seed, scene params, map
config) is built once and then loaded. The key includes the package version, so a change to
the generators or the map builder (with a version bump) never serves a stale map.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from astra_sim import __version__
from astra_sim.mapping.build import MapConfig, build_map
from astra_sim.mapping.graph import TopoSemanticMap
from astra_sim.mapping.io import MAP_FILE, MapFormatError, load_map, save_map
from astra_sim.scenes.generators import generate_scene

MAP_SCHEMA = 2
"""Bumped when what a map holds changes (2: landmarks know their room)."""

CACHE_ENV = "ASTRA_SIM_CACHE"
"""Environment variable naming the cache root (default ``~/.cache/astra-sim``)."""


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "astra-sim")


def map_key(kind: str, seed: int, params: dict[str, Any] | None, config: MapConfig) -> str:
    """A short, stable name for one map: readable prefix plus a digest of all inputs."""
    blob = json.dumps(
        {
            "kind": kind,
            "seed": seed,
            "params": params or {},
            "config": dataclasses.asdict(config),
            "version": __version__,
            "schema": MAP_SCHEMA,
        },
        sort_keys=True,
    )
    return f"{kind}-{seed}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def cached_map(
    kind: str,
    seed: int,
    config: MapConfig | None = None,
    params: dict[str, Any] | None = None,
    cache_dir: str | Path | None = None,
) -> TopoSemanticMap:
    """The map of ``generate_scene(kind, seed, **params)`` under ``config``, built at most once.

    A cache entry that cannot be read (a half-copied folder, an old format) is rebuilt
    rather than trusted.
    """
    config = config or MapConfig()
    directory = Path(cache_dir or cache_root() / "maps") / map_key(kind, seed, params, config)
    if (directory / MAP_FILE).is_file():
        try:
            return load_map(directory)
        except MapFormatError:
            pass
    topo = build_map(generate_scene(kind, seed, **(params or {})), config)
    save_map(topo, directory)  # map.json is written last, so a crash leaves no valid entry
    return topo
