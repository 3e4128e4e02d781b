"""Real robot logs in: ROS bags -> episode datasets, read with ``rosbags`` (no ROS install).

``importer.import_rosbag`` turns ROS 1 ``.bag`` and ROS 2 ``.db3`` / ``.mcap`` recordings
into the dataset format of ``astra_sim.data``, resampled onto the control period
(``sync``), so ``astra-sim eval odometry`` and the trainers read a real robot's log exactly
as they read a simulated one. ``topics`` is the schema of the ``topics.yaml`` that says
which topic is which sensor; ``streams`` reads a bag's topics; ``messages`` turns ROS
messages into arrays. Needs the ``sim2real`` extra (``rosbags``).
"""
