"""Framework examples run for real through the local launcher: the job runner and the model check
that the TensorFlow and Paddle training tests share."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_mlplat.launcher.backends import conclude, get_backend
from airflow_mlplat.launcher.runtimes import project_root, resolve
from airflow_mlplat.launcher.spec import TrainingJob
from tests.launcher.conftest import CRITEO


@dataclass
class Finished:
    """A job that succeeded, and what its replicas left in its (kept) volume.

    ``ranks``: ``worker-0`` etc. -> the JSON under ``MLPLAT_DATA_DIR/ranks``; ``checkpoints``: the
    names under ``MLPLAT_CHECKPOINT_DIR``; ``summaries``: replica -> its TensorBoard event file's bytes.
    """

    handle: dict[str, Any]
    status: Any
    result: dict[str, Any]
    ranks: dict[str, Any]
    checkpoints: list[str]
    summaries: dict[str, bytes]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.result["metrics"]


def run_job(tmp_path: Path, **fields: Any) -> Finished:
    """Submit the job ``fields`` describe (on the Criteo sample, output to ``tmp_path/out``), wait,
    read the job's volume, conclude. A job that did not succeed fails the test with its status and
    its replicas' logs."""
    spec: dict[str, Any] = dict(
        data_source=CRITEO.as_uri(),
        output_path=(tmp_path / "out").as_uri(),
        timeout=240.0,
        data_volume={"keep": True},  # what the replicas wrote there outlives the job, for the assertions
    )
    spec.update(fields)
    job = TrainingJob.from_dict(spec)
    backend = get_backend("local", state_root=str(tmp_path / "launcher"))
    handle = backend.handle(job)
    backend.submit(job, handle)
    status = backend.wait(handle, poll_interval=0.5, on_log=lambda line: None)
    assert status.succeeded, f"{status.message}\n{replica_logs(backend, handle, job)}"
    data = Path(handle["state_dir"]) / "data"
    checkpoints = data / "checkpoints"
    return Finished(
        handle=handle,
        status=status,
        ranks={p.stem: json.loads(p.read_text()) for p in (data / "ranks").glob("*.json")},
        checkpoints=sorted(p.name for p in checkpoints.iterdir()) if checkpoints.is_dir() else [],
        summaries={p.parent.name: p.read_bytes() for p in (data / "tensorboard").glob("*/events.out.tfevents.*")},
        result=conclude(handle, status),  # last: the volume is read before the job is cleaned up
    )


def replica_logs(backend: Any, handle: dict[str, Any], job: TrainingJob) -> str:
    """The tail of every replica's log, for a failed job's assertion message."""
    try:
        return "\n".join(
            f"--- {role}-{index}\n{backend.logs(handle, f'{role}-{index}', tail=30)}" for role, index in job.replicas()
        )
    except Exception as exc:  # the logs of a job that is gone: the status message has to do
        return f"(no logs: {exc})"


def score_in_runtime(image: str, script: str, model: Path) -> dict[str, Any]:
    """Run ``script`` (``python -c``, argv: ``model``, the Criteo sample) in ``image``'s local runtime;
    the JSON it prints last."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(project_root())
    done = subprocess.run(
        [resolve(image), "-c", script, str(model), str(CRITEO)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
