"""Reading a dataset folder: whole episodes as arrays, a PyTorch Dataset, a Ray Dataset.

Arrays come back in the shapes and dtypes ``meta/info.json`` declares (images decoded
from PNG), so a training loop never sees the storage encoding.

Usage::

    ds = EpisodeDataset("outputs/data/pointnav")
    episode = ds.read_episode(0)              # {"observation.rgb": (T, C, H, W, 3), ...}
    loader = torch.utils.data.DataLoader(ds.torch_dataset(), batch_size=32, shuffle=True)
    rows = ds.ray_dataset()                    # ray.data.Dataset over the shards (raw)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from astra_sim.core.errors import AstraSimError
from astra_sim.data.format import decode_images, shard_name


class DatasetFormatError(AstraSimError, ValueError):
    """A dataset folder is missing its meta files or a shard."""


class EpisodeDataset:
    """A dataset folder written by ``astra-sim collect``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        info_path = self.root / "meta" / "info.json"
        if not info_path.is_file():
            raise DatasetFormatError(f"{self.root} is not a dataset: no meta/info.json")
        self.info: dict[str, Any] = _read_json(info_path)
        self.features: dict[str, Any] = _check_features(self.info, info_path)
        stats_path = self.root / "meta" / "stats.json"
        self.stats = _read_json(stats_path) if stats_path.is_file() else {}
        self.episode_indices = sorted(
            int(p.stem.split("_")[1]) for p in self.root.glob("data/chunk-*/episode_*.parquet")
        )

    def __len__(self) -> int:
        return len(self.episode_indices)

    def shard_paths(self) -> list[Path]:
        """The shard files in episode order."""
        return [self.root / shard_name(i) for i in self.episode_indices]

    def read_episode(self, index: int, columns: list[str] | None = None) -> dict[str, np.ndarray]:
        """Every step of episode ``index``: column -> (T, *shape) array, images decoded."""
        path = self.root / shard_name(index)
        if not path.is_file():
            raise DatasetFormatError(f"{self.root}: episode {index} has no shard ({path})")
        try:
            table = pq.read_table(path, columns=columns)
            return {
                name: self._decode(name, table.column(name).to_pylist())
                for name in table.column_names
            }
        except (OSError, ValueError, KeyError, TypeError, SyntaxError, pa.ArrowException) as e:
            # A shard that does not match what meta/info.json declares, or is damaged.
            raise DatasetFormatError(f"{path}: {type(e).__name__}: {e}") from e

    def _decode(self, name: str, values: list[Any]) -> np.ndarray:
        spec = self.features[name]
        if spec.get("encoding", "").startswith("png"):
            key = name.removeprefix("observation.")
            return np.stack([decode_images(key, v) for v in values])
        array = np.asarray(values, dtype=spec["dtype"])
        if spec["shape"] != [1]:
            array = array.reshape(len(values), *spec["shape"])
        return array

    def decode_row(self, row: dict[str, Any]) -> dict[str, np.ndarray]:
        """One row as read from Parquet (lists, PNG bytes) -> arrays of the declared shapes."""
        return {k: self._decode(k, [v])[0] for k, v in row.items() if k in self.features}

    def torch_dataset(self, columns: list[str] | None = None) -> Any:
        """A map-style ``torch.utils.data.Dataset`` of single steps (dicts of tensors)."""
        from astra_sim.data.torch_dataset import StepDataset

        return StepDataset(self, columns)

    def ray_dataset(self, columns: list[str] | None = None, **kwargs: Any) -> Any:
        """A ``ray.data.Dataset`` over the shards: raw rows (PNG bytes, flat lists).

        Decode rows in ``map_batches``/``map`` with ``decode_row``, on the workers.
        """
        import ray.data

        _settle_fsspec_http()
        paths = [str(p) for p in self.shard_paths()]
        if not paths:
            raise DatasetFormatError(f"{self.root} holds no episode shards")
        rows = ray.data.read_parquet(paths, **kwargs)
        return rows.select_columns(columns) if columns else rows


_DTYPES = ("bool", "uint8", "uint16", "int32", "int64", "float32", "float64")
_ENCODINGS = ("", "png", "png16")


def _read_json(path: Path) -> dict[str, Any]:
    """A meta file's JSON object, or a DatasetFormatError naming the file."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise DatasetFormatError(f"{path} is unreadable: {e}") from e
    if not isinstance(data, dict):
        raise DatasetFormatError(f"{path} must hold a JSON object, got {type(data).__name__}")
    return data


def _check_features(info: dict[str, Any], path: Path) -> dict[str, Any]:
    """info.json's features, each with a known dtype and encoding and a positive shape."""
    features = info.get("features")
    if not isinstance(features, dict):
        raise DatasetFormatError(f"{path}: 'features' must be an object of feature specs")
    for name, spec in features.items():
        ok = isinstance(spec, dict) and spec.get("dtype") in _DTYPES
        shape = spec.get("shape") if ok else None
        ok = ok and isinstance(shape, list) and len(shape) > 0
        ok = ok and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
        ok = ok and spec.get("encoding", "") in _ENCODINGS
        if not ok:
            raise DatasetFormatError(
                f"{path}: feature {name!r} needs a dtype of {', '.join(_DTYPES)}, a shape of "
                f"positive integers and an encoding of png/png16 or none; got {spec!r}"
            )
    return features


def _settle_fsspec_http() -> None:
    """Make the probe of fsspec's HTTP filesystem fail the same way in every thread.

    Ray Data (2.60) lists files from several threads, each importing
    ``fsspec.implementations.http`` and treating ModuleNotFoundError as "no HTTP". Without
    aiohttp that import fails, and a thread that meets another's half-done attempt gets
    an ImportError instead, which Ray does not catch (a flaky ``read_parquet``). Failing
    once here and marking the module absent (None in ``sys.modules``, Python's way to
    block an import) turns every later probe into a plain ModuleNotFoundError.
    """
    import sys

    try:
        import fsspec.implementations.http  # noqa: F401
    except ModuleNotFoundError:
        sys.modules["fsspec.implementations.http"] = None  # type: ignore[assignment]
