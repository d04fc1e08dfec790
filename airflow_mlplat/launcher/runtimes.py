"""Local runtimes: the interpreter that stands in for a container image on the local backend.

On Kubernetes every framework runs in its own image. Locally each gets its own virtualenv
(``.venv-tf``, ``.venv-paddle``; torch lives in the platform's ``.venv``), and the cluster
profile's ``local_runtimes`` maps an image to it. A replica then runs with the runtime's
``bin/`` first on ``PATH`` (so ``python`` and ``tensorboard`` are the runtime's, as in the image)
and the project on ``PYTHONPATH`` (as the platform package is installed in the image).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from airflow_mlplat.launcher.spec import DEFAULT_LOCAL_RUNTIMES

ROOT_ENV = "MLPLAT_RUNTIMES_ROOT"
PLATFORM = "platform"

#: The only variables a replica inherits from the machine: what an image's own env would hold.
#: Nothing else (Airflow connections, database URLs, keys) reaches a training process.
INHERITED_ENV = (
    "PATH",
    "PYTHONPATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "JAVA_HOME",
    "HADOOP_HOME",
    "HADOOP_CONF_DIR",
    "ARROW_LIBHDFS_DIR",
    "CLASSPATH",
)


class RuntimeNotFound(LookupError):
    """An image has no local runtime, or its runtime is not installed; the message says which and what exists."""


def project_root() -> Path:
    """Where the runtimes' relative paths start: ``$MLPLAT_RUNTIMES_ROOT``, else the checkout holding the package."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV])
    return Path(__file__).resolve().parents[2]


def _repository(image: str) -> str:
    """``tensorflow/tensorflow:2.21.0`` -> ``tensorflow/tensorflow`` (a registry port is not a tag)."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def resolve(image: str, runtimes: Mapping[str, str] | None = None) -> str:
    """The interpreter that runs ``image`` locally (an exact image match first, then its repository)."""
    table = dict(DEFAULT_LOCAL_RUNTIMES if runtimes is None else runtimes)
    target = table.get(image) or table.get(_repository(image))
    if target is None:
        known = ", ".join(f"{k} -> {v}" for k, v in sorted(table.items())) or "none"
        raise RuntimeNotFound(
            f"image {image!r} has no local runtime (the cluster profile's local_runtimes: {known}); "
            "add it there, or use one of those images"
        )
    if target == PLATFORM:
        return sys.executable
    path = Path(target) if os.path.isabs(target) else project_root() / target
    if not path.exists():
        raise RuntimeNotFound(
            f"image {image!r} runs locally on {path}, which does not exist "
            "(make tf / make paddle build the framework runtimes)"
        )
    # Not resolved: a virtualenv's python is a symlink, and its own path is what selects the venv.
    return str(path)


def replica_base_env(interpreter: str, source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The env a replica starts from (its manifest env goes on top): the allow-listed variables,
    the runtime's ``bin/`` first on ``PATH`` and the project on ``PYTHONPATH``."""
    source = os.environ if source is None else source
    env = {key: source[key] for key in INHERITED_ENV if key in source}
    bin_dir = str(Path(interpreter).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]
    env["PATH"] = os.pathsep.join([bin_dir, *path])
    root = str(project_root())
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
    env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    return env
