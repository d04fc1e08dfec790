"""The resource page's API and its sources, against real things.

A real local training job (controller and replica processes) and a queued one, a real prediction
service on the tiny model with a client load, a real Spark driver UI (the session's SparkSession),
Spark masters that refuse or never answer, and the Kubernetes API stand-in of the launcher tests
(no cluster runs here). Who may read the page is in ``test_permission_matrix``.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from airflow_mlplat.services.process import free_port
from airflow_mlplat.ui.resources import collect, kubernetes_report, local_training_report
from airflow_mlplat.ui.resources.metrics import ServiceCounters, parse_samples, quantile, service_rates
from airflow_mlplat.ui.resources.sampling import History, Pair, Reading
from airflow_mlplat.ui.resources.sources import OFF, OK, UNREACHABLE, SourceStatus
from airflow_mlplat.ui.resources.spark import spark_report

from .resource_work import Load, busy_job, deploy_tiny_service, running_job, stop_service

URL = "/mlplat/api/resources"


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The launcher's and the local deploy's state roots the API reads, empty."""
    roots = {"launcher": tmp_path / "launcher", "services": tmp_path / "services"}
    monkeypatch.setenv("MLPLAT_LAUNCHER_ROOT", str(roots["launcher"]))
    monkeypatch.setenv("MLPLAT_SERVICES_DIR", str(roots["services"]))
    return roots


def _poll(client, headers, until, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(URL, headers=headers)
        assert response.status_code == 200, response.text
        data = response.json()
        if until(data):
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.5)


def _job(data: dict, name: str) -> dict | None:
    return next((j for j in data["training"] if j["name"] == name), None)


# -- the endpoint ---------------------------------------------------------------------------------


def test_without_a_login_the_api_is_refused_and_the_page_sends_to_the_login(client):
    assert client.get(URL).status_code == 401
    page = client.get("/mlplat/resources", follow_redirects=False)
    assert page.status_code in (302, 307) and "login" in page.headers["location"]


def test_the_page_is_served_to_a_viewer(client, viewer):
    page = client.get("/mlplat/resources", headers=viewer)
    assert page.status_code == 200 and "<title>Resources" in page.text
    script = next(part.split('"')[0] for part in page.text.split('src="./')[1:] if part.startswith("assets/"))
    assert client.get(f"/mlplat/{script}", headers=viewer).status_code == 200


def test_a_viewer_sees_jobs_by_state_with_each_replica_s_cpu_and_memory(client, viewer, roots):
    profile = {"local_capacity": {"cpu": "1"}}  # room for one of the two jobs: the second waits in the queue
    with (
        running_job(roots["launcher"], busy_job("res-api-first"), profile) as first,
        running_job(roots["launcher"], busy_job("res-api-second"), profile),
    ):
        data = _poll(
            client,
            viewer,
            lambda d: (
                (j := _job(d, "res-api-first")) is not None
                and j["state"] == "running"
                and (j["cpu_percent"] or 0) > 0
                and (_job(d, "res-api-second") or {}).get("state") == "queued"
            ),
        )
        running, queued = _job(data, "res-api-first"), _job(data, "res-api-second")
        [replica] = running["replicas"]
        assert replica["name"] == "worker-0" and replica["state"] == "running"
        assert replica["cpu_percent"] > 0 and replica["memory_bytes"] > 1_000_000
        assert replica["pid"] in replica["pids"]
        assert running["requested"] == {"cpu": 1.0, "memory_bytes": 256 * 2**20, "gpus": {}}
        assert queued["message"].startswith("queued: waiting for resources")
        assert queued["replicas"][0]["cpu_percent"] is None  # nothing runs yet: nothing is shown
        assert [j["state"] for j in data["training"]] == ["running", "queued"]  # running jobs first
        assert {s["id"]: s["state"] for s in data["sources"]}["training.local"] == OK

        first.stop()  # its replica ends by itself; cleaning up removes the job

        data = _poll(
            client,
            viewer,
            lambda d: _job(d, "res-api-first") is None and (_job(d, "res-api-second") or {}).get("state") == "running",
        )
    assert _poll(client, viewer, lambda d: _job(d, "res-api-second") is None)["training"] == []


def test_a_failed_job_shows_why_without_its_log(roots):
    from airflow_mlplat.ui.resources.training import local_jobs

    line = "a line of the replica's own log"
    failing = busy_job("res-failing", command=["python", "-c", f"print({line!r}); raise SystemExit(3)"])
    with running_job(roots["launcher"], failing) as job:
        deadline = time.monotonic() + 60
        while not (status := job.backend.status(job.handle)).done and time.monotonic() < deadline:
            time.sleep(0.2)
        [row] = local_jobs(roots["launcher"])
    assert line in status.message  # the backend's message ends with the log's tail, for the task's log
    assert row["state"] == "failed" and row["message"] == "worker-0 exited with code 3"
    assert all(r["cpu_percent"] is None for r in row["replicas"])


def test_a_service_s_requests_per_second_and_latency_come_from_two_readings_of_its_metrics(roots):
    from airflow_mlplat.ui.resources.services import local_services, scrape

    service = deploy_tiny_service(roots["services"], "res-tiny")
    try:
        metrics = f"{service['url']}/metrics"
        before = scrape(metrics)
        with httpx.Client(base_url=service["url"], timeout=10) as http:
            for n in range(12):
                assert http.post("/predict", json={"n": n, "x": 0.5, "s": "b"}).status_code == 200
        after = scrape(metrics)
        # Two readings 4 s apart (as if polled then): 12 requests in between are 3 per second.
        rates = service_rates([Pair(Reading(10.0, before), Reading(14.0, after))])
        assert after.requests - before.requests == after.latency_count - before.latency_count == 12
        assert rates["rps"] == 3.0 and rates["failed_rps"] == 0.0 and rates["window_s"] == 4.0
        mean = 1000 * (after.latency_sum - before.latency_sum) / 12
        assert rates["latency_mean_ms"] == pytest.approx(mean, abs=0.01) and mean > 0
        assert 0 < rates["latency_p95_ms"] <= 1000 * max(b for b in after.buckets if b != float("inf"))

        # The source reads the service twice by itself, while clients post to it.
        history = History()
        with Load(service["url"], rate=20) as load:
            time.sleep(1.0)
            [row] = local_services(roots["services"], history)
        assert not load.failures
        assert row["name"] == "res-tiny" and row["state"] == "running" and row["ready"] == row["replicas"] == 1
        assert row["rps"] > 0 and row["latency_mean_ms"] > 0 and row["window_s"] >= 1.0
        assert row["cpu_percent"] > 0 and row["memory_bytes"] > 10_000_000
        assert row["requests_total"] >= 12 + load.sent - 20
    finally:
        stop_service(roots["services"], "res-tiny")
    assert local_services(roots["services"], history) == []  # stopped: gone from the page


def test_metrics_text_counters_and_the_quantile_of_a_histogram():
    text = (
        "# HELP mlplat_predict_requests_total Prediction requests\n"
        "# TYPE mlplat_predict_requests_total counter\n"
        'mlplat_predict_requests_total{slot="champion",status="200",version="3"} 40.0\n'
        'mlplat_predict_requests_total{slot="champion",status="500",version="3"} 2.0\n'
        'mlplat_predict_requests_total{slot="challenger",status="200",version="4"} 8.0\n'
        'mlplat_predict_latency_seconds_bucket{le="0.001",slot="champion"} 10.0\n'
        'mlplat_predict_latency_seconds_bucket{le="0.005",slot="champion"} 50.0\n'
        'mlplat_predict_latency_seconds_bucket{le="+Inf",slot="champion"} 50.0\n'
        'mlplat_predict_latency_seconds_count{slot="champion"} 50.0\n'
        'mlplat_predict_latency_seconds_sum{slot="champion"} 0.125\n'
        'mlplat_model_version{slot="champion"} 3.0\n'
        'other_metric{path="a \\"quoted\\" \\\\ path"} 1e3 1700000000000\n'
    )
    assert parse_samples(text)[-1] == ("other_metric", {"path": 'a "quoted" \\ path'}, 1000.0)
    counters = ServiceCounters.from_text(text)
    assert (counters.requests, counters.failed, counters.latency_count) == (50.0, 2.0, 50.0)
    assert counters.versions == {"champion": "3"}
    # 95 % of 50 is the 47.5th observation: 37.5 of the 40 in (0.001, 0.005].
    assert quantile(0.95, counters.buckets) == pytest.approx(0.001 + 0.004 * 37.5 / 40)
    assert quantile(0.95, {0.001: 0.0, float("inf"): 0.0}) is None

    # A service that restarted between two readings: its counters started again from zero.
    restarted = ServiceCounters(requests=6, latency_sum=0.012, latency_count=6, buckets={0.005: 6, float("inf"): 6})
    rates = service_rates([Pair(Reading(0.0, counters), Reading(2.0, restarted))])
    assert rates["rps"] == 3.0 and rates["latency_mean_ms"] == 2.0
    with pytest.raises(ValueError, match="not an airflow-mlplat prediction service"):
        ServiceCounters.from_text("process_cpu_seconds_total 3\n")


# -- Spark ----------------------------------------------------------------------------------------


def test_an_unreachable_spark_master_is_reported_as_unreachable(silent_port):
    closed = free_port()
    report = spark_report(f"spark://127.0.0.1:{closed}", [f"http://127.0.0.1:{closed}"])
    [status] = report.statuses
    assert status.state == UNREACHABLE and f"127.0.0.1:{closed}/json/" in status.message
    assert report.rows == {"spark": []}

    started = time.monotonic()
    [status] = spark_report("spark://127.0.0.1:7077", [f"http://127.0.0.1:{silent_port}"]).statuses
    assert status.state == UNREACHABLE and "no answer within 2 s" in status.message
    assert time.monotonic() - started < 4  # one request's timeout, not a hung page


def test_a_local_master_without_a_driver_ui_says_so():
    [status] = spark_report("local[*]", [], local_ports=[free_port()]).statuses
    assert status.state == OK and "no driver UI is known" in status.message
    [status] = spark_report("yarn", []).statuses
    assert status.state == OFF and "resources_spark_ui_urls" in status.message


def test_a_driver_ui_lists_its_application_with_executors_cores_and_memory(spark):
    url = spark.sparkContext.uiWebUrl
    for _ in range(3):  # a UI's first REST answer can take longer than a source may wait
        report = spark_report("local[2]", [url])
        if report.statuses[0].state == OK:
            break
    assert report.statuses[0].state == OK, report.statuses
    app = next(a for a in report.rows["spark"] if a["id"] == spark.sparkContext.applicationId)
    assert app["running"] and app["state"] == "running" and app["source"] == url
    assert app["executors"] == 1 and app["cores"] == 2  # local[2]: the driver runs the tasks
    assert app["memory_max_bytes"] > 0 and app["memory_used_bytes"] >= 0


def test_the_master_is_the_one_the_pipeline_hook_submits_to(monkeypatch):
    from airflow_mlplat.hooks.spark_pipeline import SparkPipelineHook
    from airflow_mlplat.ui.resources.spark import master_ui_urls, spark_master

    monkeypatch.delenv("AIRFLOW_CONN_SPARK_DEFAULT", raising=False)
    conns = {
        "res_standalone": "spark://10.0.0.5:7077",
        "res_k8s": '{"conn_type": "spark", "host": "k8s://https://10.0.0.9", "port": 6443}',
        "res_yarn": '{"conn_type": "spark", "host": "yarn"}',
        "res_local": '{"conn_type": "spark", "host": "local[4]"}',
    }
    for conn_id, uri in conns.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", uri)
    for conn_id in ["spark_default", *conns]:
        assert spark_master(conn_id) == SparkPipelineHook(conn_id=conn_id, metastore_conn_id=None).master, conn_id
    assert spark_master("spark_default") == "local[*]"
    assert master_ui_urls("spark://m1:7077,m2:7077") == ["http://m1:8080", "http://m2:8080"]


# -- the whole page -------------------------------------------------------------------------------


def test_a_source_slower_than_the_deadline_is_reported_and_the_others_shown(roots, silent_port):
    with running_job(roots["launcher"], busy_job("res-deadline")):
        slow = SourceStatus("spark", "a master that never answers")
        sources = [
            (SourceStatus("training.local", "jobs"), lambda: local_training_report(roots["launcher"])),
            (slow, lambda: spark_report("spark://x:7077", [f"http://127.0.0.1:{silent_port}"])),
        ]
        started = time.monotonic()
        data = collect(sources, deadline=1.5)
        assert time.monotonic() - started < 2.5
    states = {s["id"]: (s["state"], s["message"]) for s in data["sources"]}
    assert states["spark"] == (UNREACHABLE, "no answer within 1.5 s")
    assert states["training.local"][0] == OK and [j["name"] for j in data["training"]] == ["res-deadline"]


def test_this_machine_s_gpus_are_reported_by_nvidia_smi_or_said_to_be_absent():
    import shutil

    from airflow_mlplat.ui.resources import local_gpus_report
    from airflow_mlplat.ui.resources.gpus import parse_apps, parse_gpus

    [status] = local_gpus_report().statuses
    if shutil.which("nvidia-smi") is None:
        assert status.state == OFF and "no nvidia-smi" in status.message
    else:
        assert status.state == OK
    # The CSV nvidia-smi writes for GPU_QUERY and APPS_QUERY (noheader, nounits).
    gpus = parse_gpus(
        "0, GPU-5e1c, NVIDIA H100 80GB HBM3, 81559, 1024, 37\n1, GPU-77aa, NVIDIA H100 80GB HBM3, 81559, 0, [N/A]\n"
    )
    assert [(g["index"], g["type"], g["memory_used_bytes"], g["utilization_percent"]) for g in gpus] == [
        (0, "NVIDIA H100 80GB HBM3", 1024 * 2**20, 37.0),
        (1, "NVIDIA H100 80GB HBM3", 0, None),
    ]
    assert parse_apps("GPU-5e1c, 4242, 1000\n") == [{"uuid": "GPU-5e1c", "pid": 4242, "memory_bytes": 1000 * 2**20}]


# -- Kubernetes (the API stand-in: no cluster runs here) --------------------------------------------


def test_jobs_and_services_on_kubernetes_are_listed_from_their_pods_and_deployments():
    from airflow_mlplat.hooks.model_service import KubernetesModelServiceHook
    from airflow_mlplat.launcher.backends.kubernetes import KubernetesBackend
    from airflow_mlplat.serving.kube_manifests import ServiceSpec
    from airflow_mlplat.ui.resources.kube import KubeReader
    from tests.launcher.kube_standin import KubeApiStandin

    with KubeApiStandin() as standin:
        config = standin.kubeconfig()
        backend = KubernetesBackend(None, namespace="ml", config_dict=config)
        job = busy_job("res-kube", workers=2)
        backend.submit(job, backend.handle(job))
        pods = standin.create_pods("ml", selector="mlplat.io/job=res-kube")
        standin.patch_status("Pod", "ml", pods["res-kube-worker-1"], phase="Pending")
        spec = ServiceSpec(name="res-svc", models=["models:/m@champion"], image="i", tracking_uri="u", namespace="ml")
        KubernetesModelServiceHook(None, request_timeout=5, config_dict=config).deploy(spec)
        standin.create_pods("ml", selector="app.kubernetes.io/name=res-svc")
        standin.patch_status("Deployment", "ml", "res-svc", readyReplicas=1)

        report = kubernetes_report(KubeReader(None, config_dict=config), ["ml"])

    [status] = report.statuses
    assert status.state == OK, status
    assert "no metrics-server" in status.message and "GPUs: GET /api/v1/nodes" in status.message
    [listed] = report.rows["training"]
    assert listed["name"] == "res-kube" and listed["namespace"] == "ml" and listed["state"] == "running"
    assert sorted((r["name"], r["state"]) for r in listed["replicas"]) == [
        ("worker-0", "running"),
        ("worker-1", "pending"),
    ]
    assert listed["cpu_percent"] is None  # no metrics API: not known, not zero
    [service] = report.rows["services"]
    assert (service["name"], service["ready"], service["state"]) == ("res-svc", 1, "running")
    assert service["rps"] is None and "/metrics of 1 of 1 pod(s) unreadable" in service["message"]


def test_an_unreachable_cluster_is_reported_as_unreachable():
    from airflow_mlplat.ui.resources.kube import KubeReader
    from tests.kube_unreachable import kubeconfig

    started = time.monotonic()
    report = kubernetes_report(KubeReader(None, config_dict=kubeconfig(f"http://127.0.0.1:{free_port()}")), ["ml"])
    [status] = report.statuses
    assert status.state == UNREACHABLE and "unreachable" in status.message
    assert time.monotonic() - started < 10
    [off] = kubernetes_report(None, ["default"]).statuses
    assert off.state == OFF and "resources_kubernetes_conn_id" in off.message
