"""Fixtures for the launcher tests: a local state root, job builders, stray-process checks.

Every process these tests start is a real one; ``assert_no_strays`` checks by PID that none
of a job's processes (controller, every init step and main container) outlives it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from airflow_mlplat.launcher.spec import TrainingJob
from airflow_mlplat.services.process import pid_alive

REPO_ROOT = Path(__file__).resolve().parents[2]
CRITEO = REPO_ROOT.parent / "shared" / "data" / "criteo_sample.txt"

#: A command that records its own environment, then behaves as MODE says (env MODE_<ROLE>_<INDEX>).
ENV_DUMP = (
    "import json, os, sys, time\n"
    "role, index = os.environ['MLPLAT_ROLE'], os.environ['MLPLAT_INDEX']\n"
    "out = os.path.join(os.environ['MLPLAT_DATA_DIR'], 'env', f'{role}-{index}.json')\n"
    "os.makedirs(os.path.dirname(out), exist_ok=True)\n"
    "open(out + '.tmp', 'w').write(json.dumps(dict(os.environ)))\n"
    "os.replace(out + '.tmp', out)\n"
    "mode = os.environ.get(f'MODE_{role.upper()}_{index}', 'serve' if role == 'ps' else 'ok')\n"
    "if os.environ.get('MLPLAT_EXPORT') == '1':\n"
    "    open(os.environ['MLPLAT_METRICS_FILE'], 'w').write(json.dumps({'accuracy': 0.9}))\n"
    "if mode == 'serve' or mode == 'hang':\n"
    "    time.sleep(600)\n"
    "if mode == 'slow':\n"
    "    time.sleep(3)\n"
    "sys.exit(3 if mode == 'fail' else 0)\n"
)


def scripted_job(name: str, framework: str = "paddle-ps", **overrides: Any) -> TrainingJob:
    """A job whose replicas run ``ENV_DUMP`` (no framework needed): ps serve until stopped."""
    ps = 1 if framework in ("tensorflow-ps", "paddle-ps") else 0
    fields: dict[str, Any] = dict(
        name=name,
        framework=framework,
        image="python:3.11",
        command=["python", "-c", ENV_DUMP],
        ps=ps,
        workers=2,
        timeout=300.0,
    )
    fields.update(overrides)
    return TrainingJob.from_dict(fields)


@pytest.fixture
def state_root(tmp_path: Path) -> Path:
    return tmp_path / "launcher"


def job_pids(handle: dict[str, Any], status: Any = None) -> list[int]:
    """The controller's PID and every replica process PID the job ever had.

    ``status``: the job's last ``JobStatus`` (needed once the job is over: its state directory is
    removed then); without it, the live ``status.json`` is read.
    """
    pids = [int(handle["controller_pid"])]
    if status is None:
        status = json.loads((Path(handle["state_dir"]) / "status.json").read_text())["status"]
    replicas = status["replicas"] if isinstance(status, dict) else status.replicas
    assert replicas, "the job has no replicas recorded"
    for info in replicas.values():
        pids.extend(info["pids"])
    return pids


def assert_no_strays(handle: dict[str, Any], status: Any = None) -> None:
    alive = [pid for pid in job_pids(handle, status) if pid_alive(pid)]
    assert alive == [], f"processes of {handle['job']} still running: {alive}"


def processes_of(state_dir: Path) -> list[int]:
    """Live processes that belong to the job in ``state_dir``: its controller names the directory
    on its command line, and every replica carries it in its environment (``MLPLAT_DATA_DIR``)."""
    marker = str(state_dir).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker in (proc / "cmdline").read_bytes() or marker in (proc / "environ").read_bytes():
                if (proc / "stat").read_text().split()[2] != "Z":
                    found.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The session's metadata DB (see tests/conftest.py), migrated once."""
    from airflow_mlplat.local_run import migrate_db

    migrate_db()


@pytest.fixture(autouse=True)
def _one_thread_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every replica inherits this; the machine has 2 cores and torch defaults to all of them.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture
def kube_standin() -> Any:
    """A stand-in of the Kubernetes API (not a cluster) on a free 127.0.0.1 port, stopped after the test.

    Yields a ``tests.launcher.kube_standin.KubeApiStandin``; ``kube_standin.kubeconfig()`` points a backend at it.
    """
    from tests.launcher.kube_standin import KubeApiStandin

    with KubeApiStandin() as standin:
        yield standin
