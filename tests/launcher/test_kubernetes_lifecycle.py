"""The kubernetes backend's lifecycle against a stand-in of the Kubernetes API (not a cluster).

The stand-in (``kube_standin.py``) stores objects and answers as an API server would; no
controller runs, so each test sets Job statuses and pods itself (old timestamps instead of sleeping).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_mlplat.launcher.backends import LauncherError, TrainingJobFailed, conclude, get_backend
from airflow_mlplat.launcher.backends.base import FAILED, PENDING, QUEUED, RUNNING, SUCCEEDED, JobStatusUnknown
from airflow_mlplat.launcher.spec import PS_FRAMEWORKS, TrainingJob, TrainingJobSpecError
from tests.launcher.kube_standin import KubeApiStandin, ago

NS = "ml"
ROLE = "mlplat.io/role"


def make_job(name: str = "ctr", framework: str = "pytorch", **overrides: Any) -> TrainingJob:
    fields: dict[str, Any] = dict(
        name=name,
        framework=framework,
        image="registry.example/ml:1",
        command=["python", "train.py"],
        ps=1 if framework in PS_FRAMEWORKS else 0,
        workers=2,
        timeout=3600,
    )
    return TrainingJob.from_dict({**fields, **overrides})


#: Per API call. The stand-in answers in milliseconds, but validates each body against the schema in
#: this process: on a busy 2-core machine a 2 s limit timed out (two full local runs).
REQUEST_TIMEOUT = 15


def backend_at(standin: KubeApiStandin, **options: Any):
    return get_backend(
        "kubernetes",
        conn_id=None,
        config_dict=standin.kubeconfig(),
        namespace=NS,
        request_timeout=REQUEST_TIMEOUT,
        **options,
    )


def submitted(standin: KubeApiStandin, job: TrainingJob, **options: Any) -> tuple[Any, dict[str, Any]]:
    backend = backend_at(standin, **options)
    handle = backend.handle(job)
    backend.submit(job, handle)
    return backend, handle


def first_event(trigger: Any) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(run(), 60))


def deletes(standin: KubeApiStandin) -> list[tuple[str, str]]:
    return [r for r in standin.requests if r[0] == "DELETE"]


def operator_for(job: TrainingJob):
    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator

    return DistributedTrainingOperator(task_id="train", job=job, backend="kubernetes", namespace=NS)


# -- the stand-in ------------------------------------------------------------------------------
def test_standin_answers_like_an_api_server(kube_standin):
    from kubernetes.client.exceptions import ApiException

    job = make_job(data_volume={"keep": True})
    backend, handle = submitted(kube_standin, job)
    core = backend._apis["core"]
    root = kube_standin.get("ConfigMap", NS, "ctr")
    assert root["metadata"]["uid"] and root["metadata"]["resourceVersion"] and root["metadata"]["creationTimestamp"]
    with pytest.raises(LauncherError, match="a training job 'ctr' already exists"):  # 409 AlreadyExists
        backend.submit(job, handle)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("nope", NS)
    assert (missing.value.status, json.loads(missing.value.body)["reason"]) == (404, "NotFound")
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad"}, "data": {"n": 1}}
    with pytest.raises(ApiException) as invalid:  # checked against the official schema
        core.create_namespaced_config_map(NS, bad)
    assert invalid.value.status == 422 and "data.n" in json.loads(invalid.value.body)["message"]
    kube_standin.create_pods(NS)
    # The garbage collector's cascade: every object owned by the root goes, pods with their Jobs.
    core.delete_namespaced_config_map("ctr", NS)
    assert kube_standin.names(NS) == {"PersistentVolumeClaim/ctr-data"}


def test_logs_are_text_and_wait_streams_the_exporting_replica(kube_standin):
    backend, handle = submitted(kube_standin, make_job())
    pods = kube_standin.create_pods(NS)
    kube_standin.set_log(NS, pods["ctr-worker-0"], 'epoch 1\nepoch 2\n{"auc": 0.8}\n')
    # kubernetes client 36 returns a str log as the repr of its bytes ("b'epoch 1\\n...'").
    assert backend.logs(handle, "worker-0", tail=2) == 'epoch 2\n{"auc": 0.8}\n'
    kube_standin.succeed_jobs(NS)
    lines: list[str] = []
    assert backend.wait(handle, poll_interval=0.05, on_log=lines.append).succeeded
    assert lines == ["epoch 1", "epoch 2", '{"auc": 0.8}']


# -- a. a transient API error never deletes a job ----------------------------------------------
def test_wait_rides_out_transient_api_errors(kube_standin):
    backend, handle = submitted(kube_standin, make_job())
    kube_standin.create_pods(NS)
    kube_standin.succeed_jobs(NS)
    kube_standin.fail_next(3, 503, method="GET")
    status = backend.wait(handle, poll_interval=0.05, on_log=lambda line: None, status_unknown_timeout=60)
    assert status.phase == SUCCEEDED
    assert kube_standin.names(NS) == set()  # finish ran once the job was over


def test_wait_leaves_a_job_whose_status_stays_unknown(kube_standin):
    backend, handle = submitted(kube_standin, make_job())
    kube_standin.create_pods(NS)
    before = kube_standin.names(NS)
    kube_standin.fail_next(100_000, 500, method="GET")
    with pytest.raises(JobStatusUnknown, match="its status could not be read for .*left running") as info:
        backend.wait(handle, poll_interval=0.05, on_log=lambda line: None, status_unknown_timeout=0.5)
    kube_standin.heal()
    assert "kubectl -n ml delete configmap ctr" in str(info.value)
    assert kube_standin.names(NS) == before and deletes(kube_standin) == []
    assert backend.status(handle).phase == RUNNING


def test_wait_still_kills_the_job_on_an_interrupt(kube_standin):
    backend, handle = submitted(kube_standin, make_job())
    kube_standin.set_log(NS, kube_standin.create_pods(NS)["ctr-worker-0"], "step 1\n")

    def interrupt(line: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backend.wait(handle, poll_interval=0.05, on_log=interrupt)
    assert kube_standin.names(NS) == set()


def test_trigger_rides_out_transient_api_errors(kube_standin):
    from airflow_mlplat.triggers.training_job import TrainingJobTrigger

    _, handle = submitted(kube_standin, make_job())
    kube_standin.create_pods(NS)
    kube_standin.succeed_jobs(NS)
    kube_standin.fail_next(5, 500, method="GET")
    kube_standin.fail_next(4, None, method="GET")  # a dropped connection (urllib3 retries it 3 times)
    event = first_event(TrainingJobTrigger(handle=handle, poll_interval=0.05, status_unknown_timeout=60))
    assert event["status"]["phase"] == SUCCEEDED


def test_trigger_gives_up_on_an_unknown_status_and_the_task_leaves_the_job(kube_standin):
    from airflow_mlplat.triggers.training_job import TrainingJobTrigger

    job = make_job()
    _, handle = submitted(kube_standin, job)
    kube_standin.create_pods(NS)
    before = kube_standin.names(NS)
    kube_standin.fail_next(100_000, 503, method="GET")
    event = first_event(TrainingJobTrigger(handle=handle, poll_interval=0.05, status_unknown_timeout=0.5))
    kube_standin.heal()
    assert event["status"]["phase"] == "unknown" and "503" in event["status"]["message"]
    with pytest.raises(JobStatusUnknown, match="left running: look at it with `kubectl -n ml get"):
        operator_for(job).execute_complete({}, json.loads(json.dumps(event)))
    assert kube_standin.names(NS) == before and deletes(kube_standin) == []


def test_operator_hands_its_timeouts_and_ownership_to_the_trigger(kube_standin, monkeypatch):
    from airflow.sdk.exceptions import TaskDeferred

    monkeypatch.setenv("AIRFLOW_CONN_KUBE_STANDIN", _connection(kube_standin))
    task = operator_for(make_job())
    task.kubernetes_conn_id, task.status_unknown_timeout = "kube_standin", 90.0
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({})
    _, kwargs = deferred.value.trigger.serialize()
    assert (kwargs["status_unknown_timeout"], kwargs["kill_on_cancel"]) == (90.0, True)
    task.on_kill()
    assert kube_standin.names(NS) == set()


# -- b. a job's name can be submitted again after success ---------------------------------------
def test_success_removes_everything_so_the_name_can_be_reused(kube_standin):
    job = make_job(framework="paddle-ps")
    backend, handle = submitted(kube_standin, job)
    kube_standin.create_pods(NS)
    kube_standin.succeed_jobs(NS, f"{ROLE}=worker")
    status = backend.status(handle)
    assert status.phase == SUCCEEDED
    assert conclude(handle, status)["phase"] == SUCCEEDED
    assert kube_standin.names(NS) == set()
    backend.submit(job, backend.handle(job))
    assert "ConfigMap/ctr" in kube_standin.names(NS)


def test_success_keeps_a_kept_data_volume_and_the_next_run_reuses_it(kube_standin):
    job = make_job(data_volume={"keep": True})
    backend, handle = submitted(kube_standin, job)
    claim = kube_standin.get("PersistentVolumeClaim", NS, "ctr-data")["metadata"]["uid"]
    kube_standin.succeed_jobs(NS)
    conclude(handle, backend.status(handle))
    assert kube_standin.names(NS) == {"PersistentVolumeClaim/ctr-data"}
    backend.submit(job, backend.handle(job))
    assert kube_standin.get("PersistentVolumeClaim", NS, "ctr-data")["metadata"]["uid"] == claim
    assert {"ConfigMap/ctr", "Job/ctr-worker-1"} <= kube_standin.names(NS)


# -- c. a sensor never deletes the job it watches ----------------------------------------------
def _connection(standin: KubeApiStandin) -> str:
    return json.dumps({"conn_type": "kubernetes", "extra": {"kube_config": json.dumps(standin.kubeconfig())}})


def test_trigger_on_kill_removes_the_job_only_for_its_owner(kube_standin):
    from airflow_mlplat.triggers.training_job import TrainingJobTrigger

    _, handle = submitted(kube_standin, make_job())
    before = kube_standin.names(NS)
    watcher = TrainingJobTrigger(handle=handle, poll_interval=0.05, kill_on_cancel=False)
    path, kwargs = watcher.serialize()
    assert kwargs["kill_on_cancel"] is False and json.loads(json.dumps(kwargs)) == kwargs
    asyncio.run(TrainingJobTrigger(**kwargs).on_kill())
    assert kube_standin.names(NS) == before and deletes(kube_standin) == []
    asyncio.run(TrainingJobTrigger(handle=handle, poll_interval=0.05).on_kill())
    assert kube_standin.names(NS) == set()


def test_sensor_reports_without_removing_the_job(kube_standin, monkeypatch):
    from airflow.sdk import PokeReturnValue
    from airflow.sdk.exceptions import TaskDeferred

    from airflow_mlplat.launcher.backends import JobStatus
    from airflow_mlplat.sensors.training_job import TrainingJobSensor

    monkeypatch.setenv("AIRFLOW_CONN_KUBE_STANDIN", _connection(kube_standin))
    backend, handle = submitted(kube_standin, make_job())
    kube_standin.create_pods(NS)
    before = kube_standin.names(NS)
    sensor = TrainingJobSensor(
        task_id="wait", job_name="ctr", namespace=NS, kubernetes_conn_id="kube_standin", request_timeout=REQUEST_TIMEOUT
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    assert deferred.value.trigger.serialize()[1]["kill_on_cancel"] is False
    assert sensor.poke({}) is False
    kube_standin.succeed_jobs(NS)
    done = sensor.poke({})
    assert isinstance(done, PokeReturnValue) and done.xcom_value["phase"] == SUCCEEDED
    failed = JobStatus(FAILED, "ctr-worker-1: BackoffLimitExceeded: Job has reached the specified backoff limit")
    with pytest.raises(TrainingJobFailed, match="BackoffLimitExceeded"):
        sensor.execute_complete({}, {"status": failed.to_dict(), "handle": handle})
    assert kube_standin.names(NS) == before and deletes(kube_standin) == []


# -- d. queued and stuck pods ------------------------------------------------------------------
def test_phase_follows_the_pods_pending_queued_running(kube_standin):
    backend, handle = submitted(kube_standin, make_job())
    assert backend.status(handle).phase == PENDING  # no pod yet
    pods = kube_standin.create_pods(NS, phase="Pending")
    queued = backend.status(handle)
    assert (queued.phase, queued.done) == (QUEUED, False)
    kube_standin.patch_status("Pod", NS, pods["ctr-worker-1"], phase="Running")
    assert backend.status(handle).phase == RUNNING


def image_pull(created: float) -> dict[str, Any]:
    waiting = {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "registry.example/ml:1"'}
    return {"container_statuses": [{"state": {"waiting": waiting}}], "created": ago(created)}


def unschedulable(since: float, created: float = 800) -> dict[str, Any]:
    message = "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."
    condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
    return {"conditions": [{**condition, "lastTransitionTime": ago(since)}], "created": ago(created)}


@pytest.mark.parametrize(
    ("reason", "pod_status"),
    [
        ("ImagePullBackOff", image_pull),
        # Measured from the condition's transition, not from the pod's creation (800 s ago in both).
        ("Unschedulable", unschedulable),
    ],
)
def test_a_pod_stuck_longer_than_pending_timeout_fails_the_job(kube_standin, reason, pod_status):
    # Timestamps are made here, not at collection: a long session would age a "fresh" pod past the timeout.
    stuck, fresh = pod_status(700), pod_status(30)
    backend, handle = submitted(kube_standin, make_job(workers=1, pending_timeout=600))
    pod = kube_standin.create_pods(NS, phase="Pending", **fresh)["ctr-worker-0"]
    queued = backend.status(handle)
    assert queued.phase == QUEUED and f"({pod}: {reason})" in queued.message
    kube_standin.delete("Pod", NS, pod)
    pod = kube_standin.create_pods(NS, phase="Pending", **stuck)["ctr-worker-0"]
    status = backend.status(handle)
    assert status.phase == FAILED
    assert f"pod {pod}: {reason} for 7" in status.message and "pending_timeout 600 s" in status.message
    if reason == "Unschedulable":
        assert "Insufficient nvidia.com/gpu" in status.message


# -- e. the finishing roles decide success -----------------------------------------------------
def test_tensorflow_ps_succeeds_when_its_chief_succeeds(kube_standin):
    backend, handle = submitted(kube_standin, make_job(framework="tensorflow-ps"))
    kube_standin.create_pods(NS, selector=f"{ROLE}!=chief")
    chief = kube_standin.get("Job", NS, "ctr-chief-0")
    done = {"terminated": {"exitCode": 0, "reason": "Completed", "message": json.dumps({"auc": 0.8})}}
    labels = chief["spec"]["template"]["metadata"]["labels"]
    kube_standin.add_pod(NS, "ctr-chief-0-x", labels, "Succeeded", container_statuses=[{"state": done}], owner=chief)
    assert backend.status(handle).phase == RUNNING
    kube_standin.succeed_jobs(NS, f"{ROLE}=chief")
    status = backend.status(handle)
    assert (status.phase, status.metrics) == (SUCCEEDED, {"auc": 0.8})
    assert status.replicas["worker-1"] == {"role": "worker", "state": "running"}  # serving until stopped
    assert conclude(handle, status)["metrics"] == {"auc": 0.8}
    assert kube_standin.names(NS) == set()


def test_a_failed_worker_fails_a_tensorflow_ps_job(kube_standin):
    backend, handle = submitted(kube_standin, make_job(framework="tensorflow-ps"))
    kube_standin.set_job_status(
        NS, "ctr-worker-1", failed=1, conditions=[{"type": "Failed", "reason": "BackoffLimitExceeded", "message": "x"}]
    )
    status = backend.status(handle)
    assert status.phase == FAILED and "ctr-worker-1: BackoffLimitExceeded" in status.message


# -- f. an Ingress without a host is refused ---------------------------------------------------
def test_tensorboard_without_an_ingress_domain_is_refused_before_anything_is_created(kube_standin):
    job = make_job(tensorboard=True)
    backend = backend_at(kube_standin)
    with pytest.raises(TrainingJobSpecError, match="cluster profile ingress_domain"):
        backend.submit(job, backend.handle(job))
    assert kube_standin.requests == [] and kube_standin.names(NS) == set()
    backend, _ = submitted(kube_standin, job, profile={"ingress_domain": "ml.example.com"})
    [rule] = kube_standin.get("Ingress", NS, "ctr-tensorboard")["spec"]["rules"]
    assert rule["host"] == "ctr-tensorboard.ml.example.com"


def test_export_runs_a_job_on_the_volume_and_returns_the_checkpoint_url(kube_standin):
    import threading

    job = make_job(output_path="hdfs://nn/models/ctr")
    backend, handle = submitted(kube_standin, job)
    kube_standin.create_pods(NS)

    def export_finishes() -> None:
        # What the export Job's pod does on a cluster: publish, log the URL, complete.
        while kube_standin.get("Job", NS, "ctr-export") is None:
            threading.Event().wait(0.05)
        pods = kube_standin.create_pods(NS, selector=f"{ROLE}=export")
        kube_standin.set_log(NS, pods["ctr-export"], "published checkpoint /mnt/mlplat/data/checkpoints/step-000300 "
                             "-> hdfs://nn/models/ctr/checkpoints/step-000300\n")  # fmt: skip
        kube_standin.succeed_jobs(NS, f"{ROLE}=export")

    helper = threading.Thread(target=export_finishes, daemon=True)
    helper.start()
    assert backend.export_checkpoint(handle, poll=0.1) == "hdfs://nn/models/ctr/checkpoints/step-000300"
    helper.join(5)
    assert "Job/ctr-export" not in kube_standin.names(NS)  # removed once it has done its work
    # The replicas are untouched and the export Job never counted as one of them.
    assert backend.status(handle).phase == RUNNING
    assert {"Job/ctr-worker-0", "Job/ctr-worker-1", "ConfigMap/ctr"} <= kube_standin.names(NS)


def test_export_job_mounts_the_volume_and_publishes_the_newest_checkpoint():
    from airflow_mlplat.kube.schema import validate_manifests
    from airflow_mlplat.launcher.manifests import checkpoint_export_job
    from airflow_mlplat.launcher.spec import ClusterProfile

    job = make_job(output_path="hdfs://nn/models/ctr")
    (doc,) = validate_manifests([checkpoint_export_job(job, namespace=NS, profile=ClusterProfile(), owner_uid=None)])
    container = doc["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == [
        "python", "-m", "airflow_mlplat.launcher.stage",
        "--newest-in", "/mnt/mlplat/data/checkpoints", "--dest", "hdfs://nn/models/ctr/checkpoints",
    ]  # fmt: skip
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/mnt/mlplat/data"}
    with pytest.raises(TrainingJobSpecError, match="exporting a checkpoint needs an output_path"):
        checkpoint_export_job(make_job(), namespace=NS, profile=ClusterProfile(), owner_uid=None)
