"""Ray: RLlib wiring now; collection actors, evaluation fan-out and Ray Train later.

Nothing here is imported by ``astra_sim`` itself, so Ray stays an optional extra.
"""
