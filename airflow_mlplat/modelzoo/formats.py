"""What an uploaded model is: its files and the input/output signature read from the model itself.

Each format is checked by the library that runs it, so a file that is not what its format says
is refused naming the file and the problem:

- ``onnx``: one ``.onnx`` file (or a folder holding exactly one), parsed and checked by ``onnx``;
  inputs and outputs with their element types and shapes (initialisers are not inputs).
- ``torchscript``: one TorchScript archive (a zip), loaded by ``torch.jit.load``; the arguments
  of ``forward`` and its return type (TorchScript records no shapes).
- ``savedmodel``: a SavedModel folder (``saved_model.pb``); its ``serving_default`` signature,
  read on the TensorFlow runtime (``.venv-tf``, the local image of ``tensorflow/tensorflow``).
- ``paddle``: a Paddle inference model (``NAME.pdmodel`` or ``NAME.json``, with
  ``NAME.pdiparams``), a folder holding one or its path prefix; feeds and fetches read by a
  Paddle predictor on the Paddle runtime (``.venv-paddle``).

The signature is ``{"inputs": [{"name", "type", "shape"?}], "outputs": [...]}``.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

FORMATS = ("onnx", "torchscript", "savedmodel", "paddle")
#: The formats a feature map can go with (serving encodes raw fields for them).
FEATURE_MAP_FORMATS = ("onnx", "torchscript")
#: The image whose local runtime reads a format's signature and serves it (``launcher.runtimes``).
RUNTIME_IMAGES = {"savedmodel": "tensorflow/tensorflow", "paddle": "paddlepaddle/paddle"}
_PADDLE_GRAPHS = (".pdmodel", ".json")


class UploadError(ValueError):
    """The upload is refused; the message names the file and the problem."""


@dataclasses.dataclass(frozen=True)
class InspectedModel:
    format: str
    root: Path  # what is logged: a file, or a folder
    files: tuple[Path, ...]  # every file, relative to root's folder (a file) or root (a folder)
    signature: dict[str, Any]


def inspect_model(path: str | Path, fmt: str) -> InspectedModel:
    """The model at ``path`` in format ``fmt``, checked, with its signature. Raises ``UploadError``."""
    if fmt not in FORMATS:
        raise UploadError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    source = Path(path)
    if not source.exists() and not (fmt == "paddle" and _paddle_prefix_files(source)):
        raise UploadError(f"{source}: no such file or folder")
    return {"onnx": _onnx, "torchscript": _torchscript, "savedmodel": _savedmodel, "paddle": _paddle}[fmt](source)


def find_model(folder: str | Path, fmt: str | None = None) -> tuple[str, Path]:
    """``(format, path)`` of the model a training job exported into ``folder``, for ``inspect_model``.

    Without ``fmt``: ``*.onnx`` first, then a SavedModel (``saved_model.pb``), a Paddle inference
    model (``NAME.pdiparams``), then ``*.torchscript.pt``. Raises ``UploadError`` when none (or
    several of one kind) is there.
    """
    root = Path(folder)
    if fmt is not None:
        if fmt not in FORMATS:
            raise UploadError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        return fmt, root
    onnx = sorted(root.glob("*.onnx"))
    if onnx:
        return "onnx", _single(root, ".onnx", "ONNX")
    if (root / "saved_model.pb").is_file():
        return "savedmodel", root
    if any(root.glob("*.pdiparams")):
        return "paddle", root
    scripted = sorted(root.glob("*.torchscript.pt"))
    if len(scripted) == 1:
        return "torchscript", scripted[0]
    raise UploadError(
        f"{root}: no exported model to register (an .onnx file, a SavedModel, a Paddle inference model or one "
        f"*.torchscript.pt); name the format to register another file"
    )


def _files_of(root: Path) -> tuple[Path, ...]:
    if root.is_file():
        return (Path(root.name),)
    return tuple(sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()))


def _single(source: Path, suffix: str, what: str) -> Path:
    if source.is_file():
        return source
    found = sorted(source.glob(f"*{suffix}"))
    if len(found) != 1:
        raise UploadError(f"{source}: a {what} folder must hold exactly one *{suffix} file, found {len(found)}")
    return found[0]


def _mismatch_hint(path: Path) -> str:
    if zipfile.is_zipfile(path):
        return " (it is a zip archive, as TorchScript and PyTorch files are: --format torchscript?)"
    return ""


def _onnx(source: Path) -> InspectedModel:
    import onnx
    from google.protobuf.message import DecodeError

    path = _single(source, ".onnx", "ONNX")
    try:
        model = onnx.load(str(path), load_external_data=False)
        onnx.checker.check_model(model)
    except (DecodeError, onnx.checker.ValidationError, ValueError, RuntimeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UploadError(f"{path}: not a valid ONNX model ({first}){_mismatch_hint(path)}") from None
    if not model.graph.output:
        raise UploadError(f"{path}: the ONNX graph has no outputs, so no signature can be read")
    initialisers = {i.name for i in model.graph.initializer}

    def described(value: Any) -> dict[str, Any]:
        tensor = value.type.tensor_type
        shape = [d.dim_param or (d.dim_value if d.HasField("dim_value") else None) for d in tensor.shape.dim]
        return {"name": value.name, "type": onnx.TensorProto.DataType.Name(tensor.elem_type).lower(), "shape": shape}

    signature = {
        "inputs": [described(v) for v in model.graph.input if v.name not in initialisers],
        "outputs": [described(v) for v in model.graph.output],
    }
    return InspectedModel("onnx", path, _files_of(path), signature)


def _torchscript(source: Path) -> InspectedModel:
    path = _single(source, ".pt", "TorchScript") if source.is_dir() else source
    if not zipfile.is_zipfile(path):
        raise UploadError(f"{path}: not a TorchScript archive (TorchScript files are zip archives)")
    import torch

    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as err:
        first = str(err).strip().splitlines()[0]
        raise UploadError(f"{path}: torch.jit.load could not load it as TorchScript ({first})") from None
    try:
        schema = module.forward.schema
    except AttributeError:
        raise UploadError(f"{path}: the TorchScript module has no forward method to serve") from None
    signature = {
        "inputs": [{"name": a.name, "type": str(a.type)} for a in schema.arguments[1:]],
        "outputs": [{"name": r.name or "output", "type": str(r.type)} for r in schema.returns],
    }
    return InspectedModel("torchscript", path, _files_of(path), signature)


def _savedmodel(source: Path) -> InspectedModel:
    if not source.is_dir() or not any((source / n).is_file() for n in ("saved_model.pb", "saved_model.pbtxt")):
        raise UploadError(f"{source}: a SavedModel is a folder holding saved_model.pb")
    signature = _on_runtime("savedmodel", source)
    return InspectedModel("savedmodel", source, _files_of(source), signature)


def _paddle_prefix_files(prefix: Path) -> list[Path]:
    graphs = [prefix.with_name(prefix.name + s) for s in _PADDLE_GRAPHS]
    return [g for g in graphs if g.is_file()]


def _paddle(source: Path) -> InspectedModel:
    if source.is_dir():
        graphs = sorted(
            p for p in source.iterdir() if p.suffix in _PADDLE_GRAPHS and p.with_suffix(".pdiparams").is_file()
        )
        if len(graphs) != 1:
            raise UploadError(
                f"{source}: a Paddle inference model folder must hold exactly one NAME.pdmodel (or NAME.json) "
                f"with its NAME.pdiparams, found {len(graphs)}"
            )
        prefix, root = graphs[0].with_suffix(""), source
    else:
        prefix = source.with_suffix("") if source.suffix in (*_PADDLE_GRAPHS, ".pdiparams") else source
        if not _paddle_prefix_files(prefix) or not prefix.with_suffix(".pdiparams").is_file():
            raise UploadError(
                f"{source}: a Paddle inference model needs {prefix.name}.pdmodel (or .json) and .pdiparams"
            )
        root = prefix.parent
    signature = _on_runtime("paddle", prefix)
    files = tuple(p for p in _files_of(root) if p.name.startswith(prefix.name + "."))
    return InspectedModel("paddle", root, files, signature)


def _on_runtime(fmt: str, target: Path) -> dict[str, Any]:
    """The signature, read by ``modelzoo.read_signature`` on the format's framework runtime."""
    from airflow_mlplat.launcher.runtimes import RuntimeNotFound, replica_base_env, resolve

    try:
        python = resolve(RUNTIME_IMAGES[fmt])
    except RuntimeNotFound as err:
        raise UploadError(f"{target}: reading a {fmt} signature needs its runtime: {err}") from None
    try:
        done = subprocess.run(
            [python, "-m", "airflow_mlplat.modelzoo.read_signature", fmt, str(target)],
            env={**replica_base_env(python), "TF_CPP_MIN_LOG_LEVEL": "3", "GLOG_minloglevel": "3"},
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        raise UploadError(f"{target}: reading its {fmt} signature took over 300 s") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UploadError(f"{target}: not a loadable {fmt} model ({tail})")
    return json.loads(lines[-1])
