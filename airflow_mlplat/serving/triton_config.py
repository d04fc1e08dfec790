"""Triton Inference Server's ``config.pbtxt`` for an ONNX or TorchScript model, from the version's signature.

The signature is the one ``airflow-mlplat models upload`` records:
``{"inputs": [{"name", "type", "shape"}], "outputs": [...]}`` with ONNX element types (``float``,
``int64`` ...; NumPy names such as ``float32`` are accepted too) and shapes whose unknown
dimensions are ``None``, a symbol (``"batch"``) or ``-1``. TorchScript records neither types nor
shapes, so a TorchScript model needs a signature written by hand.

With ``max_batch_size > 0`` the first dimension is Triton's batch dimension and is left out of
``dims``; a tensor that only has that dimension becomes ``dims: [ 1 ]`` with an empty reshape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Model format -> Triton platform.
PLATFORMS: Mapping[str, str] = {"onnx": "onnxruntime_onnx", "torchscript": "pytorch_libtorch"}
#: Model format -> the file name Triton loads from ``NAME/VERSION/``.
MODEL_FILES: Mapping[str, str] = {"onnx": "model.onnx", "torchscript": "model.pt"}
#: Element type (ONNX names, lower case, and NumPy aliases) -> Triton data type.
DATA_TYPES: Mapping[str, str] = {
    "bool": "TYPE_BOOL",
    "uint8": "TYPE_UINT8",
    "uint16": "TYPE_UINT16",
    "uint32": "TYPE_UINT32",
    "uint64": "TYPE_UINT64",
    "int8": "TYPE_INT8",
    "int16": "TYPE_INT16",
    "int32": "TYPE_INT32",
    "int64": "TYPE_INT64",
    "float16": "TYPE_FP16",
    "float": "TYPE_FP32",
    "float32": "TYPE_FP32",
    "double": "TYPE_FP64",
    "float64": "TYPE_FP64",
    "bfloat16": "TYPE_BF16",
    "string": "TYPE_STRING",
}


class TritonConfigError(ValueError):
    """The signature cannot be written as a Triton model configuration; the message names the tensor."""


def triton_config(
    name: str,
    fmt: str,
    signature: Mapping[str, Any],
    *,
    max_batch_size: int = 0,
    max_queue_delay_microseconds: int | None = None,
) -> str:
    """The text of ``config.pbtxt`` for model ``name`` in format ``fmt`` (``onnx`` or ``torchscript``).

    ``max_queue_delay_microseconds``: None, no dynamic batching; a number >= 0, a ``dynamic_batching``
    block that waits that long to fill a batch (it needs ``max_batch_size > 0``).

    :raises TritonConfigError: an unknown format, a tensor without a supported type or a shape, a
        fixed first dimension where a batch dimension is expected, or dynamic batching without batching.
    """
    where = f"Triton config of model {name!r}"
    if fmt not in PLATFORMS:
        raise TritonConfigError(f"{where}: format must be one of {', '.join(PLATFORMS)}, got {fmt!r}")
    if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int) or max_batch_size < 0:
        raise TritonConfigError(f"{where}: max_batch_size must be an integer >= 0, got {max_batch_size!r}")
    if max_queue_delay_microseconds is not None:
        delay = max_queue_delay_microseconds
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            raise TritonConfigError(f"{where}: max_queue_delay_microseconds must be an integer >= 0, got {delay!r}")
        if max_batch_size == 0:
            raise TritonConfigError(f"{where}: dynamic batching needs max_batch_size > 0")
    if not isinstance(signature, Mapping):
        raise TritonConfigError(f"{where}: the signature must be a mapping with inputs and outputs")
    lines = [f"name: {_quoted(name)}", f"platform: {_quoted(PLATFORMS[fmt])}", f"max_batch_size: {max_batch_size}"]
    for section in ("input", "output"):
        tensors = signature.get(f"{section}s")
        if not isinstance(tensors, Sequence) or isinstance(tensors, str) or not tensors:
            raise TritonConfigError(f"{where}: the signature lists no {section}s")
        blocks = [_tensor(where, section, tensor, max_batch_size) for tensor in tensors]
        lines.append(f"{section} [")
        lines.append(",\n".join(blocks))
        lines.append("]")
    if max_queue_delay_microseconds is not None:
        lines += ["dynamic_batching {", f"  max_queue_delay_microseconds: {max_queue_delay_microseconds}", "}"]
    return "\n".join(lines) + "\n"


def _tensor(where: str, section: str, tensor: Any, max_batch_size: int) -> str:
    if not isinstance(tensor, Mapping) or not isinstance(tensor.get("name"), str) or not tensor["name"]:
        raise TritonConfigError(f"{where}: every {section} needs a name, got {tensor!r}")
    name = tensor["name"]
    kind = str(tensor.get("type", "")).lower()
    if kind not in DATA_TYPES:
        known = ", ".join(sorted(DATA_TYPES))
        raise TritonConfigError(
            f"{where}: {section} {name!r} has type {tensor.get('type')!r}, which has no Triton data type "
            f"(supported: {known}); give the signature with element types"
        )
    shape = tensor.get("shape")
    if not isinstance(shape, Sequence) or isinstance(shape, str):
        raise TritonConfigError(
            f"{where}: {section} {name!r} has no shape (TorchScript records none); give the signature with shapes"
        )
    dims = [_dim(where, section, name, d) for d in shape]
    reshape = False
    if max_batch_size > 0:
        if not dims:
            raise TritonConfigError(f"{where}: {section} {name!r} is a scalar, so it has no batch dimension")
        if dims[0] != -1:
            raise TritonConfigError(
                f"{where}: {section} {name!r} has a fixed first dimension ({dims[0]}), not a batch dimension; "
                "use max_batch_size=0 or export the model with a dynamic batch axis"
            )
        dims = dims[1:]
        if not dims:
            dims, reshape = [1], True
    block = [
        "  {",
        f"    name: {_quoted(name)}",
        f"    data_type: {DATA_TYPES[kind]}",
        f"    dims: [ {', '.join(str(d) for d in dims)} ]",
    ]
    if reshape:
        block.append("    reshape: { shape: [ ] }")
    block.append("  }")
    return "\n".join(block)


def _dim(where: str, section: str, name: str, value: Any) -> int:
    if value is None or isinstance(value, str) or value == -1:
        return -1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TritonConfigError(f"{where}: {section} {name!r} has an invalid dimension {value!r}")
    return value


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
