"""The ``astra-sim`` command line."""
