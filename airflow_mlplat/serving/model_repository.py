"""A registered deep model as TF Serving or Triton reads it: its format, signature and model repository.

``describe_version`` reads a version's ``mlplat.format`` and ``mlplat.signature`` tags (written by
``airflow-mlplat models upload``) without downloading it; the deploy reads them to check the
runtime serves that format and to write Triton's ``config.pbtxt``.

``fetch_into_repository`` downloads the version (``RegistryClient.download``) and lays its files out
as the runtime expects under ``root`` (``/models``)::

    tensorflow-serving   ROOT/NAME/VERSION/saved_model.pb, variables/...
    triton               ROOT/NAME/1/model.onnx | model.pt   (config.pbtxt comes from a ConfigMap)

On Kubernetes it is the init container of those runtimes' pods::

    python -m airflow_mlplat.serving.model_repository --model models:/ctr@champion --name ctr \
        --runtime triton --root /models

(``MLFLOW_TRACKING_URI`` in the environment, or ``--tracking-uri``). Exit code 2 names the problem.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_mlplat.serving.deep import DESCRIPTOR
from airflow_mlplat.serving.errors import ModelLoadError
from airflow_mlplat.serving.registry import ModelRef, RegistryClient
from airflow_mlplat.serving.runtimes import MODEL_ROOT, RUNTIMES
from airflow_mlplat.serving.triton_config import MODEL_FILES

LAYOUTS = ("tensorflow-serving", "triton")


class ModelRepositoryError(ValueError):
    """The version cannot be served by the runtime (wrong format, no descriptor); the message names it."""


@dataclass(frozen=True)
class VersionDescription:
    name: str
    version: str
    format: str
    signature: dict[str, Any]


def describe_version(ref_text: str, tracking_uri: str | None) -> VersionDescription:
    """The format and signature of the version ``ref_text`` points at, from its tags.

    :raises ModelRepositoryError: the version has no ModelZoo tags, or its signature tag was cut.
    :raises ModelLoadError: unknown model, alias or version, or MLflow is unreachable.
    """
    ref = ModelRef.parse(ref_text)
    client = RegistryClient(tracking_uri)
    try:
        info = client.resolve(ref)
    finally:
        client.close()
    version, tags = info.version, info.tags
    where = f"model {ref.name} version {version} ({ref_text})"
    fmt = tags.get("mlplat.format")
    if not fmt:
        raise ModelRepositoryError(f"{where}: no mlplat.format tag, so not a ModelZoo model (models upload)")
    try:
        signature = json.loads(tags.get("mlplat.signature", ""))
    except ValueError:
        raise ModelRepositoryError(
            f"{where}: the mlplat.signature tag is missing or cut at the tag limit; pass the signature explicitly"
        ) from None
    return VersionDescription(ref.name, version, fmt, signature)


def fetch_into_repository(
    ref_text: str, *, name: str, runtime: str, root: str | Path = MODEL_ROOT, tracking_uri: str | None = None
) -> Path:
    """Download the version ``ref_text`` points at into ``root/name`` in ``runtime``'s layout; returns the folder.

    :raises ModelRepositoryError: ``runtime`` has no model repository, or does not serve the version's format.
    :raises ModelLoadError: the version cannot be resolved or downloaded.
    """
    if runtime not in LAYOUTS:
        raise ModelRepositoryError(f"runtime must be one of {', '.join(LAYOUTS)}, got {runtime!r}")
    client = RegistryClient(tracking_uri)
    try:
        info = client.resolve(ModelRef.parse(ref_text))
        with tempfile.TemporaryDirectory(prefix="mlplat-fetch-") as scratch:
            folder = client.download(info, scratch)
            where = f"model {info.name} version {info.version} ({ref_text})"
            try:
                descriptor = json.loads((folder / DESCRIPTOR).read_text())
            except FileNotFoundError:
                raise ModelRepositoryError(
                    f"{where}: no {DESCRIPTOR}: not a ModelZoo model, {runtime} cannot serve it"
                ) from None
            fmt = descriptor.get("format")
            if fmt not in RUNTIMES[runtime].formats:
                serves = ", ".join(RUNTIMES[runtime].formats)
                raise ModelRepositoryError(f"{where} is a {fmt} model; {runtime} serves {serves}")
            files = [Path(f) for f in descriptor.get("files", [])]
            if runtime == "tensorflow-serving":
                target = Path(root) / name / info.version
                placed = {f: target / f for f in files}
            else:
                if len(files) != 1:
                    raise ModelRepositoryError(f"{where}: Triton loads one {fmt} file, the version has {len(files)}")
                target = Path(root) / name / "1"
                placed = {files[0]: target / MODEL_FILES[fmt]}
            shutil.rmtree(target, ignore_errors=True)
            for source, dest in placed.items():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / source, dest)
    finally:
        client.close()
    return Path(root) / name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_mlplat.serving.model_repository",
        description="Put a registered model's files where TF Serving or Triton reads them.",
    )
    parser.add_argument("--model", required=True, help="models:/NAME@ALIAS or models:/NAME/VERSION")
    parser.add_argument("--name", required=True, help="the served model's name (the folder under --root)")
    parser.add_argument("--runtime", required=True, choices=LAYOUTS)
    parser.add_argument("--root", default=MODEL_ROOT)
    parser.add_argument("--tracking-uri", default=None, help="MLflow (default $MLFLOW_TRACKING_URI)")
    args = parser.parse_args(argv)
    try:
        folder = fetch_into_repository(
            args.model, name=args.name, runtime=args.runtime, root=args.root, tracking_uri=args.tracking_uri
        )
    except (ModelRepositoryError, ModelLoadError, ValueError) as err:
        print(f"cannot fetch {args.model}: {err}", file=sys.stderr)
        return 2
    print(f"{args.model} -> {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
