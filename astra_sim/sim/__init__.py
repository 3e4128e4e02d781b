"""The simulator: a scene, a camera rig, a robot body and its sensors, stepped together."""

from astra_sim.sim.simulator import SimConfig, Simulator

__all__ = ["SimConfig", "Simulator"]
