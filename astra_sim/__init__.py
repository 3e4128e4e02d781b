"""astra-sim: a simulation-first training gym for Astra-style indoor mobile robots."""

import os

# One simulator per core is the model (Ray runs one env per CPU): OpenBLAS worker threads
# spinning after a matrix product steal the second core from the ray caster's threads.
# Set before numpy loads; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"

from astra_sim.envs import register_envs

register_envs()
