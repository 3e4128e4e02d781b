"""Seeded generators: every random draw in astra-sim flows from one of these."""

from __future__ import annotations

import hashlib

import numpy as np


def check_seed(seed: object, what: str = "seed") -> int:
    """Return ``seed`` as a non-negative int, or raise a ValueError naming the bad value."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{what} must be a non-negative integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {seed}")
    return int(seed)


def make_rng(seed: int, *stream: int | str) -> np.random.Generator:
    """A generator for ``seed`` and a named sub-stream.

    Sub-streams let independent parts (layout, textures, clutter) draw without
    disturbing each other, so changing one part keeps the others bit-identical.
    """
    words = [check_seed(seed)]
    for key in stream:
        if isinstance(key, str):
            digest = hashlib.sha256(key.encode("utf-8")).digest()
            words.append(int.from_bytes(digest[:8], "little"))
        else:
            words.append(check_seed(key, "stream id"))
    return np.random.default_rng(words)


def parse_seeds(text: str) -> list[int]:
    """``"100-103,110"`` -> ``[100, 101, 102, 103, 110]``: seed lists as the CLI takes them.

    Raises:
        ValueError: naming the part that is not a seed or a ``lo-hi`` range.
    """
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        try:
            first, last = (int(lo), int(hi)) if sep else (int(part), int(part))
        except ValueError:
            raise ValueError(
                f"seed list {text!r}: {part!r} is not a seed or a lo-hi range"
            ) from None
        if first < 0 or last < first:
            raise ValueError(f"seed list {text!r}: {part!r} must be >= 0 and increasing")
        seeds.extend(range(first, last + 1))
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seed list {text!r} repeats a seed")
    return seeds
