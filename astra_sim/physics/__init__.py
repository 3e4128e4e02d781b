"""Robot bodies: a kinematic differential drive (default) and a pybullet one, one protocol."""
