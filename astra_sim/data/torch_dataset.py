"""A PyTorch map-style Dataset of single steps over an episode dataset folder.

Shards are read whole (one per episode, small) and kept in a small per-process cache;
images are decoded only for the step asked for, so a DataLoader's workers share the
decoding work and memory stays bounded by the cache, not by the dataset.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import torch
from torch.utils.data import Dataset

from astra_sim.data.format import shard_name

_CACHE = 8


class StepDataset(Dataset):
    """Item i is step i of the dataset (episodes in index order): column -> tensor."""

    def __init__(self, dataset: Any, columns: list[str] | None = None):
        self.dataset = dataset
        self.columns = columns
        self.index: list[tuple[int, int]] = []
        for ep in dataset.episode_indices:
            rows = pq.ParquetFile(dataset.root / shard_name(ep)).metadata.num_rows
            self.index += [(ep, f) for f in range(rows)]
        self._tables: OrderedDict[int, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self.index)

    def _table(self, episode: int) -> Any:
        if episode not in self._tables:
            path = self.dataset.root / shard_name(episode)
            self._tables[episode] = pq.read_table(path, columns=self.columns)
            if len(self._tables) > _CACHE:
                self._tables.popitem(last=False)
        self._tables.move_to_end(episode)
        return self._tables[episode]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        episode, frame = self.index[i]
        table = self._table(episode)
        row = {name: table.column(name)[frame].as_py() for name in table.column_names}
        return {k: torch.from_numpy(np.array(v)) for k, v in self.dataset.decode_row(row).items()}
