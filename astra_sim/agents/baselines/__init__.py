"""Baselines of the Astra models: ACT and a diffusion policy for local planning."""
