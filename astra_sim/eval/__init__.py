"""Closed-loop evaluation: episode rollouts, metric tables, plots and videos."""
