"""End to end in a real headless Chromium: the resource page shows a running training job and a
prediction service with their CPU, and drops them when they end.

Against the browser tests' real Airflow (``browser_airflow``): the job is submitted to the local
launcher under the state root its API server reads (``$MLPLAT_LAUNCHER_ROOT``), the service (the
tiny model, no Spark) is deployed under its local deploy root (``$AIRFLOW_HOME/model-services``),
and a client posts to the service. The script opens the page from the Airflow UI's "Resources"
entry, waits for both rows with CPU above zero, then (a file handshake) the test ends the job (its
replica exits, the cleanup removes it) and stops the service, and the page must drop both rows by
itself. Screenshots go to ``test-output/ui-e2e-resources/``. Starts training processes and a
service: run it under the machine's lock.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from .airflow_cluster import AirflowCluster
from .browser import REPO_ROOT, run_page_script
from .resource_work import Load, busy_job, deploy_tiny_service, running_job, stop_service

OUTPUT = REPO_ROOT / "test-output" / "ui-e2e-resources"
JOB, SERVICE = "res-e2e-job", "res-e2e-service"


def test_the_page_shows_a_running_job_and_service_with_their_cpu_then_drops_them(
    browser_airflow: AirflowCluster, tmp_path: Path
):
    env = browser_airflow.env()  # what the API server reads its state roots from
    launcher_root = Path(env["MLPLAT_LAUNCHER_ROOT"])
    services_root = Path(env.get("MLPLAT_SERVICES_DIR") or Path(env["AIRFLOW_HOME"]) / "model-services")
    handshake = tmp_path / "handshake"
    handshake.mkdir()
    loads: list[Load] = []
    done: list[str] = []

    def serve_then_end(job) -> None:
        # The service starts while Chromium opens the page (both take seconds); once the page showed
        # both rows, the load stops, the job's replica is told to end and the service is stopped.
        try:
            service = deploy_tiny_service(services_root, SERVICE)
            with Load(service["url"], rate=20) as load:
                loads.append(load)
                deadline = time.monotonic() + 300
                while not (handshake / "seen").exists() and time.monotonic() < deadline:
                    time.sleep(0.2)
            job.stop()
            done.append("ended")
        finally:
            stop_service(services_root, SERVICE)

    with running_job(launcher_root, busy_job(JOB)) as job:
        worker = threading.Thread(target=serve_then_end, args=(job,), daemon=True)
        worker.start()
        try:
            result = run_page_script(
                "resources.e2e.mjs",
                browser_airflow,
                OUTPUT,
                tmp_path,
                {"MLPLAT_JOB": JOB, "MLPLAT_SERVICE": SERVICE, "MLPLAT_HANDSHAKE": str(handshake)},
                420,
            )
        finally:
            (handshake / "seen").touch()  # the script failed before: end the work anyway
            worker.join(timeout=120)

    assert done == ["ended"] and loads and not loads[0].failures, loads and loads[0].failures[:3]
    assert result["job_state"] == "running" and result["service_state"] == "running"
    assert result["replica_cpu"] > 0 and result["job_cpu"] >= result["replica_cpu"]
    assert result["replica_memory"] > 1_000_000
    assert result["service_cpu"] > 0 and result["service_memory"] > 10_000_000
    assert result["rps"] > 0 and result["latency_ms"] > 0 and result["ready"] == 1
    assert result["sources"]["training.local"] == "ok" and result["sources"]["services.local"] == "ok"
    assert result["gone"] and result["refreshed"]  # dropped by the page's own polling
    seen = json.loads((handshake / "seen").read_text())
    assert seen == {k: v for k, v in result.items() if k not in ("gone", "refreshed")}
    for shot in ("resources.png", "resources-ended.png"):
        assert (OUTPUT / shot).stat().st_size > 10_000
