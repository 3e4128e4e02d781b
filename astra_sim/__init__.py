"""astra-sim: a simulation-first training gym for Astra-style indoor mobile robots."""

__version__ = "0.1.0"
