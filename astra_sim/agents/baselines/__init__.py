"""Baselines the Astra models are compared with: planning (ACT, diffusion policy), odometry."""
