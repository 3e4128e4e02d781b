"""Recipes: YAML files that fill a dataclass schema, plus dotted ``key=value`` overrides.

Every entry point (collection, evaluation, training) describes its settings as a tree of
dataclasses with defaults. A recipe file gives some of them, the command line overrides a
few more (``env.episodes=8 ray.address=auto``), and the result is a validated config
object, so tests build the same object directly without argv. A key that the schema does
not have is an error naming the valid keys: a typo must never be silently ignored.

Usage::

    @dataclass
    class RayConfig:
        address: str | None = None

    @dataclass
    class Config:
        episodes: int = 4
        ray: RayConfig = field(default_factory=RayConfig)

    cfg = load_recipe(Config, "train/x.yaml", ["ray.address=auto"])
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from astra_sim.core.errors import AstraSimError

T = TypeVar("T")


class RecipeError(AstraSimError, ValueError):
    """A recipe or override is unreadable, names an unknown key, or has a wrong type."""


def load_recipe(
    schema: type[T], path: str | Path | None = None, overrides: Iterable[str] = ()
) -> T:
    """Build ``schema`` from a YAML recipe (optional) and dotted ``key=value`` overrides.

    Override values are parsed as YAML (``8`` is an int, ``[0, 1]`` a list, ``null`` None).

    Raises:
        RecipeError: naming the file or override and the bad key, listing the valid keys.
        FileNotFoundError: if ``path`` does not exist.
    """
    data: dict[str, Any] = {}
    where = "recipe"
    if path is not None:
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise FileNotFoundError(f"recipe {path} does not exist")
        loaded = read_yaml(path)
        if not isinstance(loaded, dict):
            raise RecipeError(f"recipe {path} must be a mapping, got {type(loaded).__name__}")
        data = loaded
    for item in overrides:
        key, value = parse_override(item)
        _set_dotted(data, key, value)
    return from_dict(schema, data, where)


def read_yaml(path: Path) -> Any:
    """A YAML file's content, or a RecipeError naming the file, line and column in one line
    (``recipe a.yaml, line 3, column 7: mapping values are not allowed here``)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line, column = _line_column(raw[: e.start].decode("utf-8", "replace"), len(raw[: e.start]))
        raise RecipeError(
            f"recipe {path}, line {line}, column {column}: not UTF-8 text ({e.reason})"
        ) from e
    try:
        return yaml.safe_load(text) or {}
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(str(part) for part in (e.context, e.problem) if part)
        raise RecipeError(f"recipe {path}{where}: {' '.join(what.split())}") from e
    except yaml.YAMLError as e:  # a reader error: a character YAML does not allow
        position = getattr(e, "position", 0)
        line, column = _line_column(text, position)
        reason = getattr(e, "reason", None) or "not valid YAML"
        raise RecipeError(f"recipe {path}, line {line}, column {column}: {reason}") from e
    except RecursionError as e:
        raise RecipeError(f"recipe {path}: nested too deeply to read") from e


def _line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def parse_override(item: str) -> tuple[str, Any]:
    """``"a.b=3"`` -> ``("a.b", 3)``; the value is parsed as YAML."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise RecipeError(f"override {item!r} must look like key=value or a.b.c=value")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as e:
        raise RecipeError(f"override {item!r}: the value is not valid YAML: {e}") from e
    return key, value


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def from_dict(schema: type[T], data: Mapping[str, Any], where: str = "recipe") -> T:
    """Recursively build dataclass ``schema`` from a mapping, checking keys and types."""
    return _build(schema, data, where, prefix="")


def to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as plain dicts and lists (tuples become lists), ready for YAML/JSON."""
    return _plain(dataclasses.asdict(config))


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _build(schema: type, data: Any, where: str, prefix: str) -> Any:
    label = prefix.rstrip(".") or "the top level"
    if not isinstance(data, Mapping):
        raise RecipeError(f"{where}: {label} must be a mapping, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(schema) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        valid = ", ".join(prefix + name for name in fields)
        raise RecipeError(
            f"{where}: unknown key(s) {', '.join(prefix + str(k) for k in unknown)}; "
            f"valid keys are: {valid}"
        )
    hints = typing.get_type_hints(schema)
    kwargs = {
        name: _convert(hints[name], value, where, prefix + name) for name, value in data.items()
    }
    try:
        return schema(**kwargs)
    except (TypeError, ValueError) as e:
        raise RecipeError(f"{where}: {label}: {e}") from e


def _convert(hint: Any, value: Any, where: str, key: str) -> Any:
    """``value`` checked against the type ``hint`` (nested dataclasses are built)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _convert(option, value, where, key)
            except RecipeError as e:
                errors.append(str(e))
        raise RecipeError(errors[0] if len(errors) == 1 else f"{where}: {key}: bad value {value!r}")
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):  # built in code already (e.g. a SimConfig's robot)
            return value
        return _build(hint, value, where, key + ".")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise RecipeError(f"{where}: {key} must be a list, got {value!r}")
        item = args[0] if args else Any
        items = [_convert(item, v, where, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or hint is dict:
        if not isinstance(value, Mapping):
            raise RecipeError(f"{where}: {key} must be a mapping, got {value!r}")
        return dict(value)
    if hint is float:
        if isinstance(value, str):
            # YAML 1.1 reads exponents without a dot ("3e-3") as strings.
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecipeError(f"{where}: {key} must be a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{where}: {key} must be an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise RecipeError(f"{where}: {key} must be true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise RecipeError(f"{where}: {key} must be a string, got {value!r}")
        return value
    return value
