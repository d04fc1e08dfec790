"""Deep models in the prediction service: ONNX Runtime or TorchScript, chosen by the version's format.

A deep model version's folder holds ``mlplat_model.json`` (written by ``airflow-mlplat models upload``
and by the ranking models' registration): its ``format``, the ``signature`` read from the model,
its ``files`` and, for models trained on the platform's features, ``feature_map`` (the file) and
``tasks`` (one output column each). The runtime library is imported only when a version of its
format is loaded, so a service of Spark models never imports onnxruntime or torch.

- With a feature map, a request row holds the raw fields; ``FeatureMap.encode_records`` turns them
  into the model's inputs, the same function training used. The answer is ``p_TASK`` per task.
- Without one, a request row holds each input tensor of one example (a number or a nested list);
  the answer holds each output of that example.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from airflow_mlplat.modelzoo.formats import RUNTIME_IMAGES
from airflow_mlplat.serving.errors import InvalidInputError, ModelLoadError

DESCRIPTOR = "mlplat_model.json"
#: Threads one runtime uses per batch (``MLPLAT_SERVING_THREADS``); one by default, as the
#: service scales by processes and replicas.
THREADS_ENV = "MLPLAT_SERVING_THREADS"
#: Element types as the signatures name them (ONNX, TensorFlow and Paddle spellings).
_DTYPES = {
    "float": np.float32,
    "float32": np.float32,
    "double": np.float64,
    "float64": np.float64,
    "float16": np.float16,
    "int64": np.int64,
    "int32": np.int32,
    "bool": np.bool_,
}


def _threads() -> int:
    try:
        return max(1, int(os.environ.get(THREADS_ENV, "1")))
    except ValueError:
        return 1


class OnnxRuntime:
    def __init__(self, path: Path, signature: Mapping[str, Any]) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = _threads()
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(self.outputs, {name: feed[name] for name in self.inputs})


class TorchScriptRuntime:
    def __init__(self, path: Path, signature: Mapping[str, Any]) -> None:
        import torch

        torch.set_num_threads(_threads())
        self.torch = torch
        self.module = torch.jit.load(str(path), map_location="cpu").eval()
        self.inputs = [i["name"] for i in signature.get("inputs", [])]
        self.outputs = [o.get("name") or "output" for o in signature.get("outputs", [])] or ["output"]

    def run(self, feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        tensors = [self.torch.from_numpy(np.ascontiguousarray(feed[name])) for name in self.inputs]
        with self.torch.no_grad():
            result = self.module(*tensors)
        results = result if isinstance(result, (tuple, list)) else (result,)
        return [r.numpy() for r in results]


class SavedModelRuntime:
    """TensorFlow's ``serving_default`` signature; needs the TensorFlow runtime (``.venv-tf``)."""

    def __init__(self, path: Path, signature: Mapping[str, Any]) -> None:
        import tensorflow as tf

        self.tf = tf
        self.function = tf.saved_model.load(str(path)).signatures["serving_default"]
        self.inputs = sorted(self.function.structured_input_signature[1])
        self.outputs = sorted(self.function.structured_outputs)

    def run(self, feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        result = self.function(**{name: self.tf.constant(feed[name]) for name in self.inputs})
        return [result[name].numpy() for name in self.outputs]


class PaddleRuntime:
    """Paddle Inference on CPU; needs the Paddle runtime (``.venv-paddle``). A predictor is not
    thread-safe, so batches take turns."""

    def __init__(self, path: Path, signature: Mapping[str, Any]) -> None:
        import threading

        from paddle import inference

        config = inference.Config(str(path), str(path.with_suffix(".pdiparams")))
        config.disable_gpu()
        config.set_cpu_math_library_num_threads(_threads())
        config.disable_glog_info()
        self.predictor = inference.create_predictor(config)
        self.inputs = list(self.predictor.get_input_names())
        self.handles = list(self.predictor.get_output_names())  # internal names (save_infer_model/...)
        named = [o.get("name") for o in signature.get("outputs", [])]
        self.outputs = named if len(named) == len(self.handles) and all(named) else self.handles
        self.lock = threading.Lock()

    def run(self, feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        with self.lock:
            for name in self.inputs:
                handle = self.predictor.get_input_handle(name)
                handle.reshape(feed[name].shape)
                handle.copy_from_cpu(np.ascontiguousarray(feed[name]))
            self.predictor.run()
            return [self.predictor.get_output_handle(name).copy_to_cpu() for name in self.handles]


RUNTIMES = {
    "onnx": OnnxRuntime,
    "torchscript": TorchScriptRuntime,
    "savedmodel": SavedModelRuntime,
    "paddle": PaddleRuntime,
}


class FeatureMapScorer:
    """Raw fields -> the feature map's encoding -> the model -> ``{"p_TASK": probability}`` per row."""

    def __init__(self, runtime: Any, feature_map: Any, tasks: Sequence[str], where: str) -> None:
        self.runtime, self.feature_map = runtime, feature_map
        missing = [name for name in runtime.inputs if name not in feature_map.names]
        if missing:
            raise ModelLoadError(f"{where}: model inputs {missing} are not fields of its feature map")
        probe = self._scores([dict.fromkeys(feature_map.names)])  # every field missing: the model must still run
        width = probe.shape[1] if probe.ndim == 2 else 1
        self.tasks = list(tasks) if tasks else list(feature_map.labels)[:width]
        if len(self.tasks) != width:
            raise ModelLoadError(
                f"{where}: the model has {width} outputs but names {len(self.tasks)} tasks {self.tasks}"
            )

    def _scores(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        from airflow_mlplat.ranking.feature_map import FeatureMapError

        try:
            feed = self.feature_map.encode_records(rows)
        except FeatureMapError as error:
            raise InvalidInputError(str(error)) from error
        return np.asarray(self.runtime.run(feed)[0])

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
        scores = self._scores(rows).reshape(len(rows), len(self.tasks)).astype(np.float64)
        return [{f"p_{task}": float(value) for task, value in zip(self.tasks, row, strict=True)} for row in scores]


class TensorScorer:
    """Rows of input tensors (one example each) -> the model -> each output of that example."""

    def __init__(self, runtime: Any, signature: Mapping[str, Any]) -> None:
        self.runtime = runtime
        self.specs = {i["name"]: i for i in signature.get("inputs", [])}

    def _batch(self, name: str, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        spec = self.specs.get(name, {})
        dtype = _DTYPES.get(str(spec.get("type", "")).lower())
        shape = spec.get("shape")
        values = []
        for index, row in enumerate(rows):
            if row.get(name) is None:
                raise InvalidInputError(f"field {name!r} (row {index}): a value is required", field=name, row=index)
            try:
                value = np.asarray(row[name], dtype=dtype)
            except (ValueError, TypeError) as error:
                raise InvalidInputError(f"field {name!r} (row {index}): {error}", field=name, row=index) from None
            if dtype is None and value.dtype.kind not in "biuf":
                raise InvalidInputError(f"field {name!r} (row {index}): numbers expected", field=name, row=index)
            if shape and len(shape) > 0 and not _fits(value.shape, shape[1:]):
                raise InvalidInputError(
                    f"field {name!r} (row {index}): shape {list(value.shape)} does not fit {shape[1:]}",
                    field=name,
                    row=index,
                )
            values.append(value)
        if len({v.shape for v in values}) > 1:
            raise InvalidInputError(f"field {name!r}: the rows' shapes differ", field=name)
        batch = np.stack(values)
        if dtype is None:  # TorchScript signatures carry no element type: JSON integers or floats
            batch = batch.astype(np.int64 if batch.dtype.kind in "biu" else np.float32)
        return batch

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
        feed = {name: self._batch(name, rows) for name in self.runtime.inputs}
        outputs = self.runtime.run(feed)
        return [
            {name: np.asarray(out[i]).tolist() for name, out in zip(self.runtime.outputs, outputs, strict=True)}
            for i in range(len(rows))
        ]


def _fits(actual: tuple[int, ...], declared: Sequence[Any]) -> bool:
    if len(actual) != len(declared):
        return False
    return all(not isinstance(d, int) or d == a for a, d in zip(actual, declared, strict=True))


def read_descriptor(model_dir: Path, where: str) -> dict[str, Any]:
    try:
        descriptor = json.loads((model_dir / DESCRIPTOR).read_text())
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{where}: {DESCRIPTOR} cannot be read ({error})") from error
    if descriptor.get("format") not in RUNTIMES:
        raise ModelLoadError(f"{where}: unknown format {descriptor.get('format')!r} (known: {', '.join(RUNTIMES)})")
    return descriptor


def _model_path(model_dir: Path, descriptor: Mapping[str, Any], where: str) -> Path:
    """The file (or SavedModel folder) the format's runtime loads."""
    fmt = descriptor["format"]
    wanted = {
        "onnx": (".onnx",),
        "torchscript": (".pt",),
        "savedmodel": ("saved_model.pb", "saved_model.pbtxt"),
        "paddle": (".json", ".pdmodel"),
    }[fmt]
    files = [str(f) for f in descriptor.get("files", [])]
    if fmt == "paddle":  # NAME.json (or .pdmodel) beside NAME.pdiparams
        files = [f for f in files if Path(f).with_suffix(".pdiparams").as_posix() in files]
    candidates = [f for f in files if f.endswith(wanted)]
    if len(candidates) != 1 or not (model_dir / candidates[0]).is_file():
        raise ModelLoadError(f"{where}: {DESCRIPTOR} lists no single {' or '.join(wanted)} file present in {model_dir}")
    path = model_dir / candidates[0]
    return path.parent if fmt == "savedmodel" else path


def input_columns(descriptor: Mapping[str, Any], feature_map: Any) -> dict[str, tuple[str, bool]]:
    """``{column: (kind, required)}`` a request row is validated against (see ``signature.row_validator``)."""
    if feature_map is not None:
        return {spec.name: ("numeric" if spec.bucketised else spec.kind, False) for spec in feature_map.fields}
    return {spec["name"]: ("tensor", True) for spec in descriptor["signature"].get("inputs", [])}


def load_deep_model(model_dir: Path, where: str) -> tuple[Any, str, dict[str, tuple[str, bool]]]:
    """``(scorer, flavor, columns)`` of the deep model version in ``model_dir``."""
    descriptor = read_descriptor(model_dir, where)
    fmt = descriptor["format"]
    path = _model_path(model_dir, descriptor, where)
    signature = descriptor.get("signature") or {}
    feature_map = None
    if descriptor.get("feature_map"):
        from airflow_mlplat.ranking.feature_map import FeatureMap, FeatureMapError

        try:
            feature_map = FeatureMap.from_json((model_dir / descriptor["feature_map"]).read_text())
        except (OSError, FeatureMapError) as error:
            raise ModelLoadError(f"{where}: its feature map cannot be read ({error})") from error
        if fmt == "torchscript":  # traced inputs are positional: one per field, in the map's order
            declared = signature.get("inputs", [])
            if len(declared) != len(feature_map.names):
                raise ModelLoadError(
                    f"{where}: the model takes {len(declared)} inputs, its feature map has "
                    f"{len(feature_map.names)} fields"
                )
            signature = {**signature, "inputs": [{"name": name} for name in feature_map.names]}
    try:
        runtime = RUNTIMES[fmt](path, signature)
    except ImportError as error:
        on = f": run the service on the {RUNTIME_IMAGES[fmt]} runtime" if fmt in RUNTIME_IMAGES else ""
        raise ModelLoadError(f"{where}: the {fmt} runtime is not installed here ({error}){on}") from error
    except (RuntimeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelLoadError(f"{where}: {path.name} cannot be loaded by the {fmt} runtime ({first})") from error
    if feature_map is not None:
        scorer: Any = FeatureMapScorer(runtime, feature_map, descriptor.get("tasks") or (), where)
    else:
        scorer = TensorScorer(runtime, signature)
    return scorer, fmt, input_columns(descriptor, feature_map)
