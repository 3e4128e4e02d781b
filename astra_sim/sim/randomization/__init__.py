"""Domain randomization: a recipe's ``randomize:`` block, drawn per episode from its seed.

``config`` checks the block (``parse_randomize``), ``draw`` draws one episode's values
(``draw_randomization``: plain JSON, what ``info["randomization"]`` holds), ``apply`` puts
them into a ``Simulator`` (its ``reset(..., randomization=draw)`` calls it); the sensor
and body models they use live in ``calibration`` and ``actuation``. See
docs/sim_to_real.md ("Domain randomization") for the knobs and their default ranges.
"""

from astra_sim.sim.randomization.config import (
    GROUPS,
    KNOBS,
    RandomizeConfig,
    RandomizeError,
    parse_randomize,
)
from astra_sim.sim.randomization.draw import Randomization, draw_randomization

__all__ = [
    "GROUPS",
    "KNOBS",
    "Randomization",
    "RandomizeConfig",
    "RandomizeError",
    "draw_randomization",
    "parse_randomize",
]
