"""Resolve ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` and download the version's files.

Talks to the MLflow tracking server's REST API with httpx (importing ``mlflow`` would import
pyspark, which the service must not load). Artifacts are fetched through the server's artifact
proxy (``mlflow-artifacts:/``), read from a local ``file:`` store, or copied from any other store
through fsspec (``s3://``, ``gs://``, ``hdfs://``, ``abfs://`` ...), whose optional package
(``s3fs``, ``gcsfs``, ``pyarrow``, ``adlfs``) the error names when it is missing.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from airflow_mlplat.serving.deep import DESCRIPTOR
from airflow_mlplat.serving.errors import ModelLoadError, ModelNotFoundError

TIMEOUT_S = 30.0
#: The package fsspec needs for an artifact store's scheme.
STORE_PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "hdfs": "pyarrow (with libhdfs)",
    "viewfs": "pyarrow (with libhdfs)",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "az": "adlfs",
    "wasbs": "adlfs",
}


@dataclass(frozen=True)
class ModelRef:
    """A model reference: registry name plus alias or version, or a local directory."""

    text: str
    name: str = ""
    alias: str | None = None
    version: str | None = None
    path: str | None = None

    @property
    def label(self) -> str:
        """The slot name the service shows: the alias, ``v<version>``, or ``local``."""
        return self.alias or (f"v{self.version}" if self.version else "local")

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        if not text.startswith("models:/"):
            if Path(text).exists():
                return cls(text=text, name=Path(text).name, path=text)
            raise ValueError(f"model reference {text!r}: use models:/NAME@ALIAS, models:/NAME/VERSION or a directory")
        rest = text[len("models:/") :].strip("/")
        if "@" in rest:
            name, alias = rest.split("@", 1)
            if name and alias:
                return cls(text=text, name=name, alias=alias)
        elif "/" in rest:
            name, version = rest.rsplit("/", 1)
            if name and version.isdigit():
                return cls(text=text, name=name, version=version)
        raise ValueError(f"model reference {text!r}: use models:/NAME@ALIAS or models:/NAME/VERSION")


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    run_id: str
    source: str
    aliases: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)


def split_share(text: str) -> tuple[str, float | None]:
    """``models:/m@champion=0.9`` -> ``("models:/m@champion", 0.9)``; no share: ``(text, None)``."""
    ref, sep, share = text.rpartition("=")
    if sep and ref:
        try:
            return ref, float(share)
        except ValueError:
            pass
    return text, None


def _is_model_dir(path: Path) -> bool:
    return (path / "MLmodel").exists() or (path / DESCRIPTOR).exists()


class RegistryClient:
    """A small MLflow REST client: model versions, aliases, run metrics, artifact download."""

    def __init__(self, tracking_uri: str | None = None, timeout: float = TIMEOUT_S) -> None:
        import httpx

        self.tracking_uri = (tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or "").rstrip("/")
        if not self.tracking_uri.startswith(("http://", "https://")):
            raise ModelLoadError(
                f"the serving registry client needs an http(s) MLflow tracking URI, got {self.tracking_uri!r} "
                "(set --tracking-uri or MLFLOW_TRACKING_URI)"
            )
        headers, auth = {}, None
        if os.environ.get("MLFLOW_TRACKING_TOKEN"):
            headers["Authorization"] = f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}"
        elif os.environ.get("MLFLOW_TRACKING_USERNAME"):
            auth = (os.environ["MLFLOW_TRACKING_USERNAME"], os.environ.get("MLFLOW_TRACKING_PASSWORD", ""))
        self._http = httpx.Client(base_url=self.tracking_uri, timeout=timeout, headers=headers, auth=auth)

    def close(self) -> None:
        self._http.close()

    def _get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        import httpx

        url = f"{self.tracking_uri}{endpoint}"
        try:
            response = self._http.get(endpoint, params=params)
        except httpx.HTTPError as error:
            raise ModelLoadError(f"MLflow at {url}: {type(error).__name__}: {error}") from error
        if response.status_code != 200:
            message = f"MLflow at {url} {params}: HTTP {response.status_code}: {response.text[:300]}"
            if response.status_code == 404 and "RESOURCE_DOES_NOT_EXIST" in response.text:
                raise ModelNotFoundError(message)
            raise ModelLoadError(message)
        return response.json()

    def resolve(self, ref: ModelRef) -> VersionInfo:
        """The version ``ref`` points at now.

        :raises ModelLoadError: unknown model, alias or version, or the server is unreachable.
        """
        if ref.alias:
            body = self._get("/api/2.0/mlflow/registered-models/alias", name=ref.name, alias=ref.alias)
        else:
            body = self._get("/api/2.0/mlflow/model-versions/get", name=ref.name, version=ref.version)
        mv = body["model_version"]
        return VersionInfo(
            mv["name"],
            str(mv["version"]),
            mv.get("run_id", ""),
            mv.get("source", ""),
            tuple(mv.get("aliases", ())),
            {t["key"]: t.get("value", "") for t in mv.get("tags", []) or []},
        )

    def alias_version(self, name: str, alias: str) -> str | None:
        """The version ``alias`` points at, or None when the model has no such alias (yet).

        :raises ModelLoadError: unknown model, or the server is unreachable.
        """
        body = self._get("/api/2.0/mlflow/registered-models/get", name=name)
        for entry in body.get("registered_model", {}).get("aliases", []) or []:
            if entry.get("alias") == alias:
                return str(entry["version"])
        return None

    def run_metrics(self, run_id: str) -> dict[str, float]:
        if not run_id:
            return {}
        run = self._get("/api/2.0/mlflow/runs/get", run_id=run_id)["run"]
        return {m["key"]: m["value"] for m in run.get("data", {}).get("metrics", [])}

    def download(self, info: VersionInfo, cache_dir: str | Path) -> Path:
        """The version's model directory (with ``MLmodel``, or a deep model's ``mlplat_model.json``),
        downloaded once into ``cache_dir``."""
        target = Path(cache_dir) / _safe(info.name) / info.version
        if _is_model_dir(target):
            return target
        uri = self._get("/api/2.0/mlflow/model-versions/get-download-uri", name=info.name, version=info.version)[
            "artifact_uri"
        ]
        if uri.startswith("models:/m-"):
            model_id = uri[len("models:/") :].split("/")[0]
            uri = self._get(f"/api/2.0/mlflow/logged-models/{model_id}")["model"]["info"]["artifact_uri"]
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{info.version}-", dir=target.parent))
        try:
            self._copy_tree(uri, scratch)
            if not _is_model_dir(scratch):
                raise ModelLoadError(f"model {info.name} version {info.version}: no MLmodel or {DESCRIPTOR} at {uri}")
            try:
                scratch.rename(target)  # atomic: a half-downloaded model is never seen
            except OSError:
                if not _is_model_dir(target):
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return target

    def _copy_tree(self, uri: str, dest: Path) -> None:
        parsed = urlparse(uri)
        if parsed.scheme in ("", "file"):
            shutil.copytree(unquote(parsed.path), dest, dirs_exist_ok=True)
        elif parsed.scheme == "mlflow-artifacts":
            self._download_proxied(parsed.path.lstrip("/"), dest)
        else:
            copy_from_store(uri, dest)

    def _download_proxied(self, path: str, dest: Path) -> None:
        listing = self._get("/api/2.0/mlflow-artifacts/artifacts", path=path)
        dest.mkdir(parents=True, exist_ok=True)
        for entry in listing.get("files", []):
            name = entry["path"].rsplit("/", 1)[-1]
            if name.endswith(".crc"):
                continue
            if entry.get("is_dir"):
                self._download_proxied(f"{path}/{name}", dest / name)
                continue
            url = f"/api/2.0/mlflow-artifacts/artifacts/{path}/{name}"
            response = self._http.get(url)
            if response.status_code != 200:
                raise ModelLoadError(f"MLflow at {self.tracking_uri}{url}: HTTP {response.status_code}")
            (dest / name).write_bytes(response.content)


def copy_from_store(uri: str, dest: Path) -> None:
    """Copy the folder at ``uri`` into ``dest`` through fsspec.

    :raises ModelLoadError: the scheme is unknown, its package is missing (named), or the copy failed.
    """
    import fsspec

    scheme = urlparse(uri).scheme
    protocol = "s3" if scheme == "s3a" else scheme
    try:
        fs, path = fsspec.core.url_to_fs(protocol + uri[len(scheme) :])
    except ImportError as error:
        package = STORE_PACKAGES.get(scheme, "the fsspec implementation of this scheme")
        raise ModelLoadError(
            f"artifact URI {uri!r}: reading {scheme}:// stores needs {package} "
            f"(pip install {package.split()[0]}): {error}"
        ) from error
    except ValueError as error:  # fsspec knows no such protocol
        raise ModelLoadError(f"artifact URI {uri!r}: no filesystem for {scheme}:// ({error})") from error
    try:
        if not fs.isdir(path):
            raise ModelLoadError(f"artifact URI {uri!r}: no such folder in the store")
        dest.mkdir(parents=True, exist_ok=True)
        for source in fs.find(path):
            relative = posixpath.relpath(source, path.rstrip("/"))
            if relative.startswith("..") or relative.endswith(".crc"):
                continue
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(source, str(target))
    except (OSError, RuntimeError) as error:
        raise ModelLoadError(f"artifact URI {uri!r}: {type(error).__name__}: {error}") from error


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
