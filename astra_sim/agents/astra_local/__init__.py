"""Astra-Local: the high-frequency local model (encoders, odometry, planning heads)."""
