"""Saving a step module as ONNX or TorchScript, running it back, timing it.

ONNX goes through ``torch.onnx.export``'s dynamo exporter (needs ``onnxscript``) with fixed
batch-1 shapes, and runs on onnxruntime's CPU provider; TorchScript is a trace
(``torch.jit.trace``) run by ``torch.jit.load``. Both take the inputs in the order of the
step's ``inputs`` and give the outputs in the order of its ``outputs``, so one parity check
and one timer serve both.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

FORMATS = ("onnx", "torchscript")
Runner = Callable[[Sequence[torch.Tensor]], list[np.ndarray]]


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' progress prints and tracer warnings (shapes are fixed on
    purpose: a trace specialises on them, which is what a batch-1 edge model wants)."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "onnxscript", "torch.export")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def save(module: nn.Module, args: tuple[torch.Tensor, ...], fmt: str, path: Path) -> None:
    """Write ``module`` traced/exported on ``args`` to ``path`` in format ``fmt``."""
    names = [s.name for s in module.inputs]
    outputs = [s.name for s in module.outputs]
    with _quiet(), torch.no_grad():
        if fmt == "onnx":
            torch.onnx.export(
                module,
                args,
                str(path),
                input_names=names,
                output_names=outputs,
                dynamo=True,
                external_data=False,
            )
        elif fmt == "torchscript":
            torch.jit.save(torch.jit.trace(module, args, check_trace=False), str(path))
        else:
            raise ValueError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")


def load(path: Path, fmt: str, names: list[str], threads: int = 1) -> Runner:
    """A function running the saved model: inputs in ``names`` order -> numpy outputs."""
    if fmt == "onnx":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        # The exporter may drop an input the graph does not read; feed what it kept.
        kept = {i.name for i in session.get_inputs()}

        def run_onnx(args: Sequence[torch.Tensor]) -> list[np.ndarray]:
            feeds = {n: a.numpy() for n, a in zip(names, args, strict=True) if n in kept}
            return session.run(None, feeds)

        return run_onnx
    with warnings.catch_warnings():  # torch deprecates TorchScript; robots still run it
        warnings.simplefilter("ignore", DeprecationWarning)
        module = torch.jit.load(str(path), map_location="cpu").eval()

    def run_script(args: Sequence[torch.Tensor]) -> list[np.ndarray]:
        with torch.no_grad():
            return [o.numpy() for o in module(*args)]

    return run_script


def eager(module: nn.Module) -> Runner:
    """The PyTorch module itself as a runner (the reference)."""

    def run(args: Sequence[torch.Tensor]) -> list[np.ndarray]:
        with torch.no_grad():
            return [o.numpy() for o in module(*args)]

    return run


def max_error(reference: list[np.ndarray], got: list[np.ndarray]) -> float:
    """Largest absolute difference over all outputs (booleans as 0/1)."""
    if len(reference) != len(got):
        raise ValueError(f"{len(got)} outputs, expected {len(reference)}")
    worst = 0.0
    for a, b in zip(reference, got, strict=True):
        a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a64.shape != b64.shape:
            raise ValueError(f"output of shape {b64.shape}, expected {a64.shape}")
        worst = max(worst, float(np.abs(a64 - b64).max()) if a64.size else 0.0)
    return worst


def latency_ms(run: Runner, args: Sequence[torch.Tensor], repeats: int = 50) -> dict[str, float]:
    """Median and 90th percentile wall time of one call, after 5 warm-up calls."""
    for _ in range(5):
        run(args)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(args)
        times.append((time.perf_counter() - t0) * 1e3)
    return {"median": float(np.median(times)), "p90": float(np.percentile(times, 90))}


__all__ = ["FORMATS", "Runner", "eager", "latency_ms", "load", "max_error", "save"]
