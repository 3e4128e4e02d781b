"""Episode datasets: Parquet shards (one row per step, PNG images) plus meta JSON files.

``EpisodeDataset`` reads a folder (arrays, a PyTorch Dataset, a Ray Dataset);
``DatasetWriter`` writes one shard per episode atomically. See ``format`` for the layout.
Needs pyarrow (the ``rl`` or ``ray`` extra).
"""

from astra_sim.data.reader import DatasetFormatError, EpisodeDataset
from astra_sim.data.writer import DatasetExistsError, DatasetWriter

__all__ = ["DatasetExistsError", "DatasetFormatError", "DatasetWriter", "EpisodeDataset"]
