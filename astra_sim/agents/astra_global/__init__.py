"""Astra-Global: where am I and where is the goal, on the topological-semantic map."""
