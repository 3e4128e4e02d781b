"""Error types that name the bad input, so a user can fix it without reading our code."""

from __future__ import annotations

from collections.abc import Iterable


class AstraSimError(Exception):
    """Base class for errors raised by astra-sim on bad input or state."""


class SceneFormatError(AstraSimError, ValueError):
    """A scene file or directory is missing, malformed, or inconsistent with its mesh."""


class UnknownNameError(AstraSimError, ValueError):
    """A name (scene kind, backend, texture kind, ...) is not one of the known ones."""

    def __init__(self, what: str, name: object, valid: Iterable[str]):
        self.what = what
        self.name = name
        self.valid = sorted(valid)
        super().__init__(f"unknown {what} {name!r}; valid {what}s are: {', '.join(self.valid)}")


class BackendUnavailableError(AstraSimError, ImportError):
    """A backend's library or system driver is missing here; the message says what to install.

    An ImportError, so ``except ImportError`` around an optional backend keeps working.
    """


class EpisodeSamplingError(AstraSimError, RuntimeError):
    """No episode meets the constraints in this scene (e.g. a minimum geodesic distance longer
    than the scene allows, or no language goal); the message says which and what was seen."""
