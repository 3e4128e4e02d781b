"""Agents: the geodesic expert (oracle and demonstrator), baselines, and Astra's models."""
