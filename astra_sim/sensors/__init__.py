"""Proprioceptive sensors: an IMU at the physics rate and wheel encoders at a divisor of it.

Both read only ``astra_sim.physics.base.BodyState``, so they work the same on every body
backend, and both draw every random number from a ``np.random.Generator`` they are given,
so the same seed gives the same signals bit for bit. Within one control period of K physics
ticks, the simulator stacks K ``Imu.measure`` samples into ``imu: (K, 6)`` [ax ay az gx gy
gz] and the ``K / divisor`` non-None ``WheelEncoder.update`` results into ``wheel: (M, 2)``
[left right] (``WheelEncoderConfig.samples_per_period`` gives M and checks that the divisor
divides K).
"""

from astra_sim.sensors.imu import IMU_DATASHEETS, Imu, ImuConfig
from astra_sim.sensors.wheel_encoder import WheelEncoder, WheelEncoderConfig

__all__ = ["IMU_DATASHEETS", "Imu", "ImuConfig", "WheelEncoder", "WheelEncoderConfig"]
