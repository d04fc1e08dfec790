"""Exporting a trained ``RankingNetwork`` as TorchScript and ONNX, checked against PyTorch.

Both exports take the feature map's fields as named inputs (batch axis dynamic) and return
``probability [n, tasks]``. Each is loaded back (TorchScript with ``torch.jit.load``, ONNX in
ONNX Runtime) and run on rows of the validation table in a batch of another size than the one
traced; the largest absolute difference from the PyTorch model must be within ``TOLERANCE``,
else ``ExportMismatch`` is raised and nothing is published.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

TOLERANCE = 1e-5
TORCHSCRIPT_FILE = "model.torchscript.pt"
ONNX_FILE = "model.onnx"
OUTPUT_NAME = "probability"
ONNX_OPSET = 17


class ExportMismatch(RuntimeError):
    """An exported model's outputs differ from the PyTorch model's by more than ``TOLERANCE``."""


def _tensors(network: Any, sample: dict[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(np.ascontiguousarray(sample[name])) for name in network.input_names)


def export_network(network: Any, sample: dict[str, np.ndarray], out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Write ``model.torchscript.pt`` and ``model.onnx`` into ``out_dir`` and check them on ``sample``.

    ``sample``: encoded rows (``{field: array}``, at least 2). Returns the check's figures.
    """
    import onnxruntime

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    network = network.eval()
    rows = len(next(iter(sample.values())))
    if rows < 2:
        raise ValueError("the export check needs at least 2 rows")
    trace_rows = max(1, min(rows - 1, 16))  # trace one batch size, check another: the batch axis must be dynamic
    trace_inputs = _tensors(network, {k: v[:trace_rows] for k, v in sample.items()})
    check_inputs = _tensors(network, sample)
    with torch.no_grad():
        reference = network(*check_inputs).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(network, trace_inputs, check_trace=False)
    traced.save(str(out / TORCHSCRIPT_FILE))
    loaded = torch.jit.load(str(out / TORCHSCRIPT_FILE))
    with torch.no_grad():
        torchscript = loaded(*check_inputs).numpy()

    names = list(network.input_names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            network,
            trace_inputs,
            str(out / ONNX_FILE),
            dynamo=False,
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_axes={**{name: {0: "batch"} for name in names}, OUTPUT_NAME: {0: "batch"}},
            opset_version=ONNX_OPSET,
        )
    session = onnxruntime.InferenceSession(str(out / ONNX_FILE), providers=["CPUExecutionProvider"])
    feed = {name: tensor.numpy() for name, tensor in zip(names, check_inputs, strict=True)}
    onnx_out = session.run([OUTPUT_NAME], feed)[0]

    figures = {
        "check_rows": rows,
        "traced_rows": trace_rows,
        "torchscript_max_abs_diff": float(np.max(np.abs(torchscript - reference))),
        "onnx_max_abs_diff": float(np.max(np.abs(onnx_out - reference))),
        "tolerance": TOLERANCE,
    }
    for kind in ("torchscript", "onnx"):
        if not figures[f"{kind}_max_abs_diff"] <= TOLERANCE:
            raise ExportMismatch(
                f"the {kind} export differs from the PyTorch model by {figures[f'{kind}_max_abs_diff']:.3g} "
                f"on {rows} validation rows (tolerance {TOLERANCE})"
            )
    return figures
