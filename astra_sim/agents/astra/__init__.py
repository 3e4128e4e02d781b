"""The composed Astra agent: Astra-Global and Astra-Local in one closed loop (Algorithm 1)."""
