"""Where the shipped checkpoints live, so CLI defaults work from anywhere in a checkout."""

from __future__ import annotations

from pathlib import Path


def shipped_checkpoints() -> Path:
    """``agents/checkpoints`` under the working directory, else beside the package (a
    source checkout, as in an editable install)."""
    here = Path("agents/checkpoints")
    if here.is_dir():
        return here
    import astra_sim

    return Path(astra_sim.__file__).resolve().parents[1] / "agents" / "checkpoints"


__all__ = ["shipped_checkpoints"]
