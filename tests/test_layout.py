"""Checks on the repository layout that the docs promise."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPE_DIRS = ("envs", "scenes", "agents", "train")
REQUIRED_MARKERS = ("slow", "ray", "gpu", "habitat")


@pytest.mark.parametrize("name", RECIPE_DIRS)
def test_recipe_dir_holds_no_python(name: str) -> None:
    folder = ROOT / name
    assert folder.is_dir(), f"{name}/ is missing"
    python_files = sorted(str(p.relative_to(ROOT)) for p in folder.rglob("*.py"))
    assert not python_files, f"{name}/ must hold YAML and small data only, found {python_files}"


@pytest.mark.parametrize("name", RECIPE_DIRS)
def test_recipe_dir_has_readme(name: str) -> None:
    assert (ROOT / name / "README.md").is_file(), f"{name}/README.md is missing"


def test_architecture_doc_mentions_every_subpackage() -> None:
    doc = ROOT / "docs" / "architecture.md"
    assert doc.is_file(), "docs/architecture.md is missing"
    text = doc.read_text(encoding="utf-8")
    subpackages = sorted(
        p.name for p in (ROOT / "astra_sim").iterdir() if (p / "__init__.py").is_file()
    )
    missing = [
        name for name in subpackages if f"astra_sim/{name}" not in text and f"{name}/" not in text
    ]
    assert not missing, f"docs/architecture.md does not mention astra_sim subpackages {missing}"


def test_pytest_markers_and_strict_markers() -> None:
    tomllib = pytest.importorskip("tomllib")
    with (ROOT / "pyproject.toml").open("rb") as f:
        config = tomllib.load(f)["tool"]["pytest"]["ini_options"]
    declared = {entry.split(":", 1)[0].strip() for entry in config["markers"]}
    missing = [m for m in REQUIRED_MARKERS if m not in declared]
    assert not missing, f"pyproject.toml does not declare markers {missing}"
    assert "--strict-markers" in config["addopts"].split()
