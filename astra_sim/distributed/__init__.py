"""Ray: RLlib wiring, collection actors and the evaluation fan-out (Ray Train comes later).

Nothing here is imported by ``astra_sim`` itself, so Ray stays an optional extra.
"""
