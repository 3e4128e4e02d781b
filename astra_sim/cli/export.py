"""``astra-sim export``: a trained Astra-Local head as an ONNX or TorchScript file.

    astra-sim export --checkpoint agents/checkpoints/odometry/vision_imu_wheel/model.pt \\
        --format onnx --out outputs/export/odometry.onnx
    astra-sim export --checkpoint agents/checkpoints/planner/flow_esdf_encoder.pt \\
        --format torchscript --out outputs/export/planner.pt

Odometry checkpoints export as one control step with the window as explicit state;
planner checkpoints as sensors (RGB, depth), velocity, local goal and noise -> plan and
occupancy (``astra_sim.agents.astra_local.export``). The export is run back against
PyTorch on seeded inputs (max |diff| must stay within ``--tolerance``) and timed per step
on the CPU; both figures are printed and written to ``FILE.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export an odometry or planner head to ONNX / TorchScript (parity, latency)",
        description="Export a trained head, check it against PyTorch, time it per step.",
    )
    p.add_argument(
        "--checkpoint", type=Path, required=True, help="an odometry model.pt or a planner .pt"
    )
    p.add_argument("--format", choices=("onnx", "torchscript"), required=True)
    p.add_argument("--out", type=Path, required=True, help="the exported file")
    p.add_argument("--tolerance", type=float, default=1e-4, help="max |diff| vs PyTorch (1e-4)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for the timing (1)")
    p.add_argument("--repeats", type=int, default=50, help="timed calls per runtime (50)")
    p.add_argument("--rig", help="planner: camera rig the depth front end lifts (its encoder's)")
    p.add_argument("--imu-samples", type=int, default=20, help="odometry: IMU samples/step (20)")
    p.add_argument("--wheel-samples", type=int, default=4, help="odometry: wheel samples/step (4)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from astra_sim.agents.astra_local.export.exporter import export_checkpoint, format_report

    report = export_checkpoint(
        args.checkpoint,
        args.format,
        args.out,
        tolerance=args.tolerance,
        threads=args.threads,
        repeats=args.repeats,
        rig=args.rig,
        imu_samples=args.imu_samples,
        wheel_samples=args.wheel_samples,
    )
    print(format_report(report))
    return 0


__all__ = ["add_parser", "run"]
