"""Writing a dataset folder: claim it, add episode shards atomically, then the meta files.

Fault tolerance rests on three rules. A shard is named by its episode index and written
to a temporary name then renamed, so it exists whole or not at all, and writing an
episode twice (a retried episode) replaces it with the very same bytes: no loss, no
duplicate. ``meta/info.json`` holds the recipe, so a second run into the same folder is
a resume (finished episodes are skipped) when the recipe matches, and an error that
names the differing keys when it does not: nothing of the other dataset is touched.
``meta/stats.json`` and ``meta/episodes.jsonl`` are rebuilt from the shards' footers at
the end, so they never disagree with the data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from astra_sim.core.errors import AstraSimError
from astra_sim.core.fileio import atomic_write
from astra_sim.data.episode import read_summary
from astra_sim.data.format import CODEBASE_VERSION, shard_name
from astra_sim.data.stats import merge_sums

_SHARD = re.compile(r"episode_(\d{6})\.parquet$")


class DatasetExistsError(AstraSimError, FileExistsError):
    """The output folder holds something else: another dataset, or not a dataset."""


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=False) + "\n").encode()


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two JSON trees."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in _diff(a.get(k), b.get(k), f"{prefix}{k}.")]
    return [] if a == b else [prefix.rstrip(".")]


class DatasetWriter:
    """A dataset folder being written by one driver.

    Args:
        root: the dataset folder.
        recipe: what defines the dataset's content (env, agent, features); a folder
            written with another recipe is refused.
    """

    def __init__(self, root: str | Path, recipe: dict[str, Any]):
        self.root = Path(root)
        self.recipe = recipe
        self.info_path = self.root / "meta" / "info.json"

    def check(self) -> bool:
        """Whether the folder holds this dataset already (a resume); writes nothing.

        Raises:
            DatasetExistsError: the folder holds another dataset or foreign files.
        """
        if self.info_path.is_file():
            try:
                old = json.loads(self.info_path.read_bytes())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
                raise DatasetExistsError(f"{self.info_path} is unreadable: {e}") from e
            if not isinstance(old, dict):
                raise DatasetExistsError(f"{self.info_path} does not hold a JSON object")
            if old.get("codebase_version") != CODEBASE_VERSION:
                raise DatasetExistsError(
                    f"{self.root} holds a dataset of format {old.get('codebase_version')!r}, "
                    f"not {CODEBASE_VERSION!r}; choose another output folder"
                )
            differ = _diff(old.get("recipe"), self.recipe)
            if differ:
                raise DatasetExistsError(
                    f"{self.root} already holds a different dataset (recipe keys that differ: "
                    f"{', '.join(differ)}); choose another output folder or the same recipe "
                    f"to resume it. Nothing was written."
                )
            return True
        if self.root.exists() and any(self.root.iterdir()):
            raise DatasetExistsError(
                f"{self.root} is not empty and holds no dataset (no meta/info.json); "
                f"choose an empty or new output folder. Nothing was written."
            )
        return False

    def open(self, info: dict[str, Any]) -> set[int]:
        """Claim the folder (or check it is ours) and return the finished episode indices.

        Raises:
            DatasetExistsError: the folder holds another dataset or foreign files.
        """
        if self.check():
            # A driver killed mid-write leaves a temporary file beside the shards: drop it.
            for tmp in self.root.glob("data/chunk-*/.episode_*.tmp"):
                tmp.unlink(missing_ok=True)
            return self.done_episodes()
        atomic_write(self.info_path, _json({**info, "recipe": self.recipe, "complete": False}))
        return set()

    def done_episodes(self) -> set[int]:
        """Indices of the episodes whose shard is on disk (shards are whole or absent)."""
        return {
            int(m.group(1))
            for p in self.root.glob("data/chunk-*/episode_*.parquet")
            if (m := _SHARD.search(p.name))
        }

    def write_episode(self, index: int, shard: bytes) -> Path:
        """Put an episode's shard in place atomically (rewriting it is harmless)."""
        return atomic_write(self.root / shard_name(index), shard)

    def finish(self, expected: list[int]) -> dict[str, Any]:
        """Write ``meta/episodes.jsonl`` and ``meta/stats.json``, mark info complete.

        Raises:
            AstraSimError: if an expected episode's shard is missing.
        """
        done = self.done_episodes()
        missing = sorted(set(expected) - done)
        if missing:
            raise AstraSimError(f"{self.root}: episodes {missing[:10]} have no shard")
        indices = sorted(done)
        summaries = [read_summary(self.root / shard_name(i)) for i in indices]
        stats = merge_sums([s.pop("stats") for s in summaries])
        lines = "".join(json.dumps(s, sort_keys=True) + "\n" for s in summaries)
        atomic_write(self.root / "meta" / "episodes.jsonl", lines.encode())
        atomic_write(self.root / "meta" / "stats.json", _json(stats))
        info = json.loads(self.info_path.read_text())
        info.update(
            total_episodes=len(indices),
            total_frames=sum(s["length"] for s in summaries),
            complete=set(indices) == set(expected),
        )
        atomic_write(self.info_path, _json(info))
        return info
