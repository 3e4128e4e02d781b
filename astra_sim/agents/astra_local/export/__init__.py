"""Astra-Local heads out to a robot: ONNX and TorchScript graphs of one control step.

``odometry_step`` (the odometry head with its encoder, the window as explicit state),
``planner_step`` (the planning head with its feature front end; ``depth_bev`` is the depth
lifter in torch), ``runtime`` (save, load, parity, latency) and ``exporter``
(``astra-sim export``). Needs the ``sim2real`` extra (onnx, onnxscript, onnxruntime) for
ONNX; TorchScript needs torch alone.
"""
