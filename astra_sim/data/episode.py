"""One episode's steps gathered in memory and encoded as one Parquet shard (bytes).

The worker that ran the episode encodes it, so PNG compression is spread over the
workers; the driver only renames bytes into place. The shard's schema metadata carries
the episode's summary and statistics sums, so the dataset's meta files can be rebuilt
from the shards alone (which is what makes resuming cheap and exact).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from astra_sim.data.format import IMAGE_KEYS, encode_images, stored_value
from astra_sim.data.stats import episode_sums

META_KEY = b"astra_sim.episode"


class EpisodeBuffer:
    """Append steps with ``add``; ``to_parquet`` gives the shard and its summary."""

    def __init__(self, episode_index: int, features: list[str], control_hz: float):
        self.index = int(episode_index)
        self.features = list(features)
        self.dt = 1.0 / float(control_hz)
        self.columns: dict[str, list[Any]] = {}

    def __len__(self) -> int:
        return len(self.columns.get("action", []))

    def add(
        self,
        obs: dict[str, Any],
        action: np.ndarray,
        info: dict[str, Any],
        reward: float,
        done: bool,
        success: bool,
        expert_action: np.ndarray | None = None,
    ) -> None:
        """One step: the observation ``action`` was taken from and what followed."""
        row: dict[str, Any] = {f"observation.{k}": stored_value(k, obs[k]) for k in self.features}
        row["action"] = np.asarray(action, np.float32)
        if expert_action is not None:
            row["action.expert"] = np.asarray(expert_action, np.float32)
        row["info.pose"] = np.asarray(info["pose"], np.float32)
        row["info.collided"] = bool(info["collided"])
        row["next.reward"] = np.float32(reward)
        row["next.done"] = bool(done)
        row["next.success"] = bool(success)
        for key, value in row.items():
            self.columns.setdefault(key, []).append(value)

    def to_parquet(self, summary: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
        """The shard as Parquet bytes, and the summary stored in it (with stats sums)."""
        n = len(self)
        if n == 0:
            raise ValueError(f"episode {self.index} has no steps to write")
        stacked = {k: np.stack(v) for k, v in self.columns.items()}
        arrays: dict[str, pa.Array] = {
            "episode_index": pa.array(np.full(n, self.index, np.int64)),
            "frame_index": pa.array(np.arange(n, dtype=np.int64)),
            "timestamp": pa.array((np.arange(n) * self.dt).astype(np.float32)),
        }
        for key, values in stacked.items():
            name = key.removeprefix("observation.")
            if key.startswith("observation.") and name in IMAGE_KEYS:
                pngs = [encode_images(name, v) for v in values]
                arrays[key] = pa.array(pngs, type=pa.list_(pa.binary()))
            elif values.ndim == 1:
                arrays[key] = pa.array(values)
            else:
                flat = values.reshape(n, -1).astype(np.float32)
                arrays[key] = pa.FixedSizeListArray.from_arrays(
                    pa.array(flat.ravel()), flat.shape[1]
                )
        summary = {**summary, "episode_index": self.index, "length": n}
        summary["stats"] = episode_sums(stacked)
        table = pa.table(arrays).replace_schema_metadata(
            {META_KEY: json.dumps(summary, sort_keys=True).encode()}
        )
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue().to_pybytes(), summary


def read_summary(path: Any) -> dict[str, Any]:
    """The summary stored in a shard's footer (no data is read)."""
    metadata = pq.read_schema(path).metadata or {}
    if META_KEY not in metadata:
        raise ValueError(f"{path} is not an astra-sim episode shard (no episode metadata)")
    return json.loads(metadata[META_KEY])
