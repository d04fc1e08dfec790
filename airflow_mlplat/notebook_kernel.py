"""The project's Jupyter kernel: IPython on the interpreter of the project's environment.

JupyterLab (``airflow-mlplat notebook``) and scheduled notebooks (``NotebookOperator``) both run
notebooks on the kernel named ``airflow-mlplat``. Its kernelspec is written where the caller
says (a state folder, a temporary folder), never into the user's home, and names this process's
interpreter by its absolute path: the kernel runs in the environment that started it (the
project's ``.venv``), whatever ``python3`` is on PATH and whatever kernels the user installed.
Importing this module imports neither Jupyter nor Airflow.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

#: The kernel's name: notebooks of the project name it in their ``kernelspec`` metadata.
KERNEL_NAME = "airflow-mlplat"
DISPLAY_NAME = "airflow-mlplat (project environment)"


def kernel_env(python: str = sys.executable) -> dict[str, str]:
    """What a kernel needs beyond its parent's environment: Spark's Python workers on the same interpreter."""
    return {"PYSPARK_PYTHON": python}


def write_kernelspec(
    data_dir: str | Path, *, python: str = sys.executable, env: Mapping[str, str] | None = None
) -> Path:
    """Write the ``airflow-mlplat`` kernelspec under ``DATA_DIR/kernels/``; return its folder.

    ``DATA_DIR`` is a Jupyter data folder (on ``JUPYTER_PATH``, or ``JUPYTER_DATA_DIR``). The
    kernel runs ``python -m ipykernel_launcher`` with ``kernel_env(python)`` plus ``env`` added
    to the environment of whoever starts it. Rewriting an existing spec is fine.
    """
    folder = Path(data_dir) / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "env": _literal({**kernel_env(python), **(env or {})}),
        "metadata": {"debugger": True},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return folder


def copy_kernelspec(name: str, data_dir: str | Path, *, env: Mapping[str, str] | None = None) -> Path:
    """Copy the installed kernelspec ``name`` (its whole folder) under ``DATA_DIR/kernels/`` with ``env``
    added to its environment; return the copy's folder.

    :raises jupyter_client.kernelspec.NoSuchKernel: no kernel of that name is installed.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    installed = KernelSpecManager().get_kernel_spec(name)
    folder = Path(data_dir) / "kernels" / name
    shutil.copytree(installed.resource_dir, folder, dirs_exist_ok=True)
    spec = installed.to_dict()
    spec["env"] = {**spec.get("env", {}), **_literal(env or {})}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return folder


def _literal(env: Mapping[str, str]) -> dict[str, str]:
    # jupyter_client expands $NAME in a kernelspec's env values from the parent's environment: keep ours literal.
    return {key: str(value).replace("$", "$$") for key, value in env.items()}
