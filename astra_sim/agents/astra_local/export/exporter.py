"""``astra-sim export``: a trained Astra-Local head -> ONNX or TorchScript, checked and timed.

The checkpoint says what it is: an odometry ``model.pt`` (``train_odometry``: method
``astra`` or ``bev_odom``) becomes the one-step module of ``odometry_step``; a planner
``.pt`` (``train_planner``: flow, ACT or diffusion, with the 3D encoder it carries) becomes
``planner_step``'s sensors-to-plan module. The graph is written to a temporary name, run
back on seeded inputs (for odometry, after a few steps of real state), and compared with
the PyTorch module output by output; only a graph within ``tolerance`` is renamed into
place, with a JSON sidecar (``FILE.json``) that lists its inputs and outputs, the parity
error and the CPU latency per step of PyTorch and of the exported runtime.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from astra_sim.agents.astra_local.export import runtime
from astra_sim.agents.astra_local.export.odometry_step import initial_state, odometry_step
from astra_sim.agents.astra_local.export.planner_step import PlannerStep
from astra_sim.core.errors import AstraSimError
from astra_sim.core.fileio import atomic_write


class ExportError(AstraSimError, ValueError):
    """A checkpoint cannot be exported, or its export does not match PyTorch."""


@dataclass
class ExportReport:
    """What an export wrote and measured (also the sidecar JSON)."""

    kind: str
    detail: str
    format: str
    path: str
    checkpoint: str
    parity_max_abs_error: float
    tolerance: float
    parity_cases: int
    latency_ms: dict[str, dict[str, float]]
    threads: int
    machine: str
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)


def load_step(
    checkpoint: str | Path, rig: str | None = None, imu_samples: int = 20, wheel_samples: int = 4
) -> tuple[nn.Module, str, str]:
    """The step module of a checkpoint, its kind (odometry, planner) and a description.

    Args:
        rig: planner only: the camera rig (``Rig.from_name``) the depth front end lifts;
            default: the encoder's rig, or ``default``.
        imu_samples, wheel_samples: odometry only: samples per control step (K, M).
    """
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    payload = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(payload, dict):
        raise ExportError(f"{path} is not an astra-sim checkpoint (a {type(payload).__name__})")
    if "planner" in payload:
        from astra_sim.agents.astra_local.train_planner import load_planner_and_encoder
        from astra_sim.render.rig import Rig

        planner, encoder = load_planner_and_encoder(path)
        name = rig or (encoder.cfg.rig if encoder is not None else "default")
        step = PlannerStep(planner, encoder, Rig.from_name(name))
        return step, "planner", f"{planner.cfg.head} head, {planner.cfg.bev.features} features"
    if "config" in payload and "state_dict" in payload:
        from astra_sim.agents.astra_local.train_odometry import load_checkpoint

        model, cfg = load_checkpoint(path)
        detail = cfg.method
        if cfg.method == "astra":
            detail += ": " + "+".join(cfg.odometry.modalities)
        return odometry_step(model, cfg.method, imu_samples, wheel_samples), "odometry", detail
    raise ExportError(
        f"{path} is neither an odometry model.pt nor a planner checkpoint (keys: "
        f"{', '.join(sorted(map(str, payload)))})"
    )


def _random(spec: Any, g: torch.Generator) -> torch.Tensor:
    """A plausible value of one input, drawn from ``g``."""
    shape, name = spec.shape, spec.name
    if spec.dtype == torch.uint8:
        return torch.randint(0, 256, shape, dtype=torch.uint8, generator=g)
    if spec.dtype == torch.bool:
        return torch.ones(shape, dtype=torch.bool)
    x = torch.randn(shape, generator=g)
    if name == "imu":  # gravity on z, small rates
        scale = torch.tensor([0.3, 0.3, 0.3, 0.1, 0.1, 0.3])
        return x * scale + torch.tensor([0.0, 0.0, 9.81, 0.0, 0.0, 0.0])
    if name == "wheel":
        return 0.02 + 0.005 * x
    if name == "depth":  # 0.3-5 m with some misses
        d = 0.3 + 4.7 * torch.rand(shape, generator=g)
        return torch.where(torch.rand(shape, generator=g) < 0.05, torch.zeros_like(d), d)
    if name == "goal":
        return torch.tensor([[2.0, 0.5]]) + 0.5 * x
    if name == "velocity":
        return 0.3 * x
    return x


def parity_inputs(step: nn.Module, kind: str, cases: int, seed: int) -> list[tuple]:
    """Seeded inputs; odometry cases carry the state a few real steps leave behind."""
    g = torch.Generator().manual_seed(seed)
    names = [s.name for s in step.inputs]
    if kind != "odometry":
        return [tuple(_random(s, g) for s in step.inputs) for _ in range(cases)]
    state = initial_state(step)
    back = {"bev": "prev_bev", "tokens_out": "tokens", "mask_out": "mask"}
    out = []
    for t in range(3 + cases):
        given = {s.name: _random(s, g) for s in step.inputs} | state
        if "valid" in names:
            given["valid"] = torch.tensor([t > 0])
        args = tuple(given[n] for n in names)
        if t >= 3:
            out.append(args)
        with torch.no_grad():
            result = step(*args)
        state.update(
            {back[s.name]: v for s, v in zip(step.outputs, result, strict=True) if s.name in back}
        )
    return out


def export_checkpoint(
    checkpoint: str | Path,
    fmt: str,
    out: str | Path,
    tolerance: float = 1e-4,
    threads: int = 1,
    repeats: int = 50,
    cases: int = 3,
    seed: int = 0,
    rig: str | None = None,
    imu_samples: int = 20,
    wheel_samples: int = 4,
) -> ExportReport:
    """Export, check parity against PyTorch, time both; write ``out`` and ``out.json``.

    ``rig`` (planners), ``imu_samples`` and ``wheel_samples`` (odometry: K and M per
    control step, fixed in the graph) are as in ``load_step``.

    Raises:
        ExportError: an unknown checkpoint, or an export outside ``tolerance`` (nothing
            is left at ``out``).
        FileNotFoundError: the checkpoint does not exist.
    """
    if fmt not in runtime.FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; valid: {', '.join(runtime.FORMATS)}")
    out = Path(out)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        step, kind, detail = load_step(checkpoint, rig, imu_samples, wheel_samples)
        step.eval()
        examples = parity_inputs(step, kind, cases, seed)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            runtime.save(step, examples[0], fmt, tmp)
            names = [s.name for s in step.inputs]
            exported = runtime.load(tmp, fmt, names, threads)
            reference = runtime.eager(step)
            error = max(runtime.max_error(reference(a), exported(a)) for a in examples)
            if not error <= tolerance:
                raise ExportError(
                    f"{fmt} export of {checkpoint} differs from PyTorch by {error:.3g} "
                    f"(tolerance {tolerance:g}); nothing was written to {out}"
                )
            latency = {
                "pytorch": runtime.latency_ms(reference, examples[0], repeats),
                {"onnx": "onnxruntime", "torchscript": "torchscript"}[fmt]: runtime.latency_ms(
                    exported, examples[0], repeats
                ),
            }
            tmp.chmod(0o644)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        torch.set_num_threads(old_threads)
    report = ExportReport(
        kind=kind,
        detail=detail,
        format=fmt,
        path=str(out),
        checkpoint=str(checkpoint),
        parity_max_abs_error=error,
        tolerance=tolerance,
        parity_cases=len(examples),
        latency_ms=latency,
        threads=threads,
        machine=machine(),
        inputs=[s.to_json() for s in step.inputs],
        outputs=[s.to_json() for s in step.outputs],
        state=(
            {"bev": "prev_bev", "tokens_out": "tokens", "mask_out": "mask"}
            if kind == "odometry"
            else {}
        ),
    )
    sidecar = out.with_name(out.name + ".json")
    atomic_write(sidecar, (json.dumps(asdict(report), indent=1) + "\n").encode())
    return report


def machine() -> str:
    """What the latency was measured on: architecture, CPU count and model."""
    model = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{platform.machine()}, {os.cpu_count()} CPU(s), {model or 'unknown CPU'}"


def format_report(r: ExportReport) -> str:
    """The lines ``astra-sim export`` prints."""
    size = Path(r.path).stat().st_size / 1e6
    lat = ", ".join(
        f"{k} {v['median']:.2f} ms (p90 {v['p90']:.2f})" for k, v in r.latency_ms.items()
    )
    ins = ", ".join(f"{s['name']} {tuple(s['shape'])}" for s in r.inputs)
    return (
        f"exported {r.kind} ({r.detail}) -> {r.path} ({r.format}, {size:.2f} MB)\n"
        f"inputs: {ins}\n"
        f"parity vs PyTorch: max |diff| {r.parity_max_abs_error:.2e} over {r.parity_cases} "
        f"cases (tolerance {r.tolerance:g})\n"
        f"CPU latency per step on {r.machine}, {r.threads} thread(s): {lat}\n"
        f"wrote {r.path}.json"
    )


__all__ = [
    "ExportError",
    "ExportReport",
    "export_checkpoint",
    "format_report",
    "load_step",
    "machine",
    "parity_inputs",
]
