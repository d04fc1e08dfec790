"""The ``kubernetes`` backend: create, watch and remove a job's objects through the cncf-kubernetes hook.

The client comes from the provider's ``KubernetesHook`` (an Airflow connection, or a kubeconfig
dict for tools and tests). Every API call carries ``request_timeout``, so an unreachable API
server fails the call with a ``LauncherError`` naming the server and the object instead of
hanging a worker slot.

``submit`` validates every manifest against the Kubernetes schema before creating anything,
creates the root ConfigMap, then the rest with ownerReferences to it; if any create fails, what
was created is removed. ``status`` reads the job's Jobs (chief and workers) and pods; the
exporting replica's final metrics are its container's termination message
(``MLPLAT_METRICS_FILE=/dev/termination-log``). ``finish`` and ``kill`` delete every object but a
kept data volume, so a job's name can be submitted again.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from airflow_mlplat.launcher.backends.base import (
    FAILED,
    PENDING,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    JobStatus,
    LauncherError,
    TrainingBackend,
    timed_out,
)
from airflow_mlplat.launcher.labels import ANNOTATION_DEADLINE, LABEL_INDEX, LABEL_JOB, LABEL_ROLE, MAIN_CONTAINER
from airflow_mlplat.launcher.spec import ClusterProfile, TrainingJob

#: Kinds deleted once a job is over or killed, in order; ``PersistentVolumeClaim`` is skipped when the job keeps it.
_DELETE_ORDER = ("Ingress", "Service", "Deployment", "Job", "PersistentVolumeClaim", "ConfigMap")
#: Roles whose pods run the training (TensorBoard's do not: a TensorBoard that cannot start fails no job).
_REPLICA_ROLES = frozenset({"ps", "chief", "worker"})
#: Waiting reasons of a container whose image cannot be pulled.
_IMAGE_PULL_FAILURES = frozenset({"ImagePullBackOff", "ErrImagePull"})


class KubernetesBackend(TrainingBackend):
    """Run jobs on a cluster.

    :param conn_id: the cncf-kubernetes Airflow connection (None: ``config_dict`` or the default config).
    :param namespace: where the job's objects go.
    :param profile: ``ClusterProfile`` fields as a dict (GPU labels, storage classes, ingress, ...).
    :param request_timeout: seconds for connecting to and reading from the API server, per call.
    :param config_dict: a kubeconfig as a dict, instead of a connection.
    """

    name = "kubernetes"

    def __init__(
        self,
        conn_id: str | None = "kubernetes_default",
        namespace: str = "default",
        profile: dict[str, Any] | None = None,
        request_timeout: float = 30.0,
        config_dict: dict[str, Any] | None = None,
    ) -> None:
        self.conn_id = conn_id
        self.namespace = namespace
        self.profile_options = dict(profile or {})
        self.profile = ClusterProfile.from_dict(profile)
        self.request_timeout = float(request_timeout)
        self.config_dict = config_dict

    def options(self) -> dict[str, Any]:
        return {
            "conn_id": self.conn_id,
            "namespace": self.namespace,
            "profile": self.profile_options,
            "request_timeout": self.request_timeout,
            "config_dict": self.config_dict,
        }

    def handle(self, job: TrainingJob) -> dict[str, Any]:
        handle = {
            "backend": self.name,
            "options": self.options(),
            "job": job.name,
            "deadline": time.time() + float(job.timeout),
            "keep_data": bool(job.data_volume and job.data_volume.keep),
            "output_path": job.output_path,
            "pending_timeout": float(job.pending_timeout),
            "finishing_roles": sorted(job.finishing_roles),
            "exporter": "-".join(map(str, job.exporter)),
        }
        if job.tensorboard and self.profile.ingress_domain:
            handle["tensorboard_url"] = f"http://{job.name}-tensorboard.{self.profile.ingress_domain}/"
        return handle

    def manual_hint(self, handle: dict[str, Any]) -> str:
        name, ns = handle["job"], self.namespace
        kept = ", except the kept PersistentVolumeClaim" if handle.get("keep_data") else ""
        return (
            f"look at it with `kubectl -n {ns} get configmap,job,deployment,service,pod -l {LABEL_JOB}={name}`; "
            f"remove it with `kubectl -n {ns} delete configmap {name}` (it owns every other object{kept})"
        )

    # -- clients --------------------------------------------------------------------------
    @cached_property
    def hook(self) -> Any:
        from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook

        return KubernetesHook(conn_id=self.conn_id, config_dict=self.config_dict)

    @cached_property
    def _apis(self) -> dict[str, Any]:
        from kubernetes import client

        try:
            api_client = self.hook.api_client
        except Exception as err:
            raise LauncherError(
                f"cannot configure a Kubernetes client from connection {self.conn_id!r}: {err}"
            ) from err
        return {
            "core": client.CoreV1Api(api_client),
            "apps": client.AppsV1Api(api_client),
            "batch": client.BatchV1Api(api_client),
            "net": client.NetworkingV1Api(api_client),
        }

    @property
    def host(self) -> str:
        return self._apis["core"].api_client.configuration.host

    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        """One API call with the timeout; errors become ``LauncherError`` naming the call and the server."""
        from kubernetes.client.exceptions import ApiException

        try:
            return method(*args, _request_timeout=(self.request_timeout, self.request_timeout), **kwargs)
        except ApiException:
            raise
        except Exception as err:
            raise LauncherError(f"Kubernetes API at {self.host} unreachable while {what}: {err}") from err

    def _list(self, what: str, method: Any, selector: str) -> list[Any]:
        """The items of one list call; any failure is a ``LauncherError`` naming ``what`` and the server."""
        from kubernetes.client.exceptions import ApiException

        try:
            return self._call(what, method, self.namespace, label_selector=selector).items
        except ApiException as err:
            raise LauncherError(
                f"{what} in namespace {self.namespace} on {self.host} failed: {err.status} {err.reason}"
            ) from None

    def _kind_api(self, kind: str) -> tuple[Any, str]:
        apis = self._apis
        return {
            "ConfigMap": (apis["core"], "config_map"),
            "PersistentVolumeClaim": (apis["core"], "persistent_volume_claim"),
            "Service": (apis["core"], "service"),
            "Deployment": (apis["apps"], "deployment"),
            "Job": (apis["batch"], "job"),
            "Ingress": (apis["net"], "ingress"),
        }[kind]

    # -- submit ---------------------------------------------------------------------------
    def submit(self, job: TrainingJob, handle: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException

        from airflow_mlplat.kube.schema import validate_manifests
        from airflow_mlplat.launcher.manifests import build_manifests

        build = dict(namespace=self.namespace, profile=self.profile, deadline=handle["deadline"])
        # Checked with a stand-in uid: nothing is created unless every object is valid.
        validate_manifests(build_manifests(job, owner_uid="00000000-0000-0000-0000-000000000000", **build))
        root, *_ = build_manifests(job, **build)
        where = f"ConfigMap/{job.name} in namespace {self.namespace}"
        try:
            create_root = self._apis["core"].create_namespaced_config_map
            created = self._call(f"creating {where}", create_root, self.namespace, root)
        except ApiException as err:
            if err.status == 409:
                raise LauncherError(
                    f"a training job {job.name!r} already exists in namespace {self.namespace} on {self.host} "
                    f"(its root {where}); delete it or choose another name"
                ) from None
            detail = f"{err.status} {err.reason}: {err.body}"
            raise LauncherError(f"creating {where} on {self.host} failed: {detail}") from None
        objects = build_manifests(job, owner_uid=created.metadata.uid, **build)[1:]
        for obj in objects:
            api, suffix = self._kind_api(obj.kind)
            what = f"creating {obj.kind}/{obj.metadata.name} in namespace {self.namespace}"
            try:
                self._call(what, getattr(api, f"create_namespaced_{suffix}"), self.namespace, obj)
            except (ApiException, LauncherError) as err:
                if obj.kind == "PersistentVolumeClaim" and handle.get("keep_data") and getattr(err, "status", 0) == 409:
                    continue  # the claim an earlier run of this job kept: reusing its data is what keep is for
                self._cleanup_quietly(handle)
                detail = f"{err.status} {err.reason}: {err.body}" if isinstance(err, ApiException) else str(err)
                raise LauncherError(f"{what} failed ({detail}); removed what was created") from None

    def _cleanup_quietly(self, handle: dict[str, Any]) -> None:
        try:
            self.kill(handle)
        except Exception:  # the create error is the one to report
            pass

    # -- watch ----------------------------------------------------------------------------
    def status(self, handle: dict[str, Any]) -> JobStatus:
        """Where the job stands, from its Jobs (chief and workers) and pods.

        SUCCEEDED once every Job of a finishing role (``TrainingJob.finishing_roles``) succeeded;
        FAILED when a Job failed, a ps container restarted or ended, a replica's pod has been
        unschedulable or unable to pull its image for longer than ``pending_timeout``, the
        deadline passed, or the Jobs are gone. Otherwise RUNNING once a replica's pod runs, QUEUED
        while its pods are all Pending, PENDING before there is any. Raises ``LauncherError`` when
        the API cannot be read (the job may be healthy: callers must not remove it for that).
        """
        name = handle["job"]
        sel = f"{LABEL_JOB}={name}"
        jobs = self._list(f"listing the Jobs of {name!r}", self._apis["batch"].list_namespaced_job, sel)
        pods = self._list(f"listing the pods of {name!r}", self._apis["core"].list_namespaced_pod, sel)
        # A checkpoint export Job (and its pod) belongs to the job but is no replica of it.
        jobs = [item for item in jobs if (item.metadata.labels or {}).get(LABEL_ROLE) in _REPLICA_ROLES]
        pods = [pod for pod in pods if (pod.metadata.labels or {}).get(LABEL_ROLE) in _REPLICA_ROLES]
        replicas: dict[str, dict[str, Any]] = {}
        failed: list[str] = []
        for item in jobs:
            lbls = item.metadata.labels or {}
            state, problem = _job_state(item)
            replicas[f"{lbls.get(LABEL_ROLE)}-{lbls.get(LABEL_INDEX)}"] = {"role": lbls.get(LABEL_ROLE), "state": state}
            failed.extend([problem] if problem else [])
        failed.extend(_ps_problems(pods))
        failed.extend(_stuck(pods, float(handle.get("pending_timeout", TrainingJob.pending_timeout))))
        if failed:
            return JobStatus(FAILED, "; ".join(failed), replicas)
        finishing = set(handle.get("finishing_roles", ["worker"]))
        ending = [info for info in replicas.values() if info["role"] in finishing]
        if not ending:
            roles = "/".join(sorted(finishing))
            return JobStatus(FAILED, f"no {roles} Jobs of {name!r} in namespace {self.namespace} (deleted?)", replicas)
        if all(info["state"] == "succeeded" for info in ending):
            message = f"all {len(ending)} {'/'.join(sorted(finishing))} replica(s) succeeded"
            return JobStatus(SUCCEEDED, message, replicas, self._metrics(pods, handle.get("exporter", "worker-0")))
        if timed_out(handle):
            return JobStatus(FAILED, f"timed out (deadline {handle['deadline']:.0f} passed)", replicas)
        if any(pod.status and pod.status.phase in ("Running", "Succeeded") for pod in pods):
            return JobStatus(RUNNING, "", replicas)
        if pods:
            waiting = "; ".join(
                f"{pod.metadata.name}: {found[0]}" for pod in pods if pod.status and (found := _pending_reason(pod))
            )
            return JobStatus(QUEUED, f"{len(pods)} pod(s) pending" + (f" ({waiting})" if waiting else ""), replicas)
        return JobStatus(PENDING, "", replicas)

    @staticmethod
    def _metrics(pods: list[Any], exporter: str) -> dict[str, Any] | None:
        role, _, index = exporter.rpartition("-")
        for pod in pods:
            lbls = pod.metadata.labels or {}
            if lbls.get(LABEL_ROLE) == role and lbls.get(LABEL_INDEX) == index:
                for cs in pod.status.container_statuses or []:
                    term = cs.state.terminated if cs.state else None
                    if cs.name == MAIN_CONTAINER and term and term.message:
                        try:
                            return json.loads(term.message)
                        except ValueError:
                            return None
        return None

    def logs(self, handle: dict[str, Any], replica: str = "worker-0", tail: int = 100) -> str:
        """The last ``tail`` lines of ``replica``'s main container (its newest pod); "" before it started."""
        role, _, index = replica.rpartition("-")
        sel = f"{LABEL_JOB}={handle['job']},{LABEL_ROLE}={role},{LABEL_INDEX}={index}"
        core = self._apis["core"]
        pods = self._list(f"listing the pods of {handle['job']!r}", core.list_namespaced_pod, sel)
        if not pods:
            return ""
        from kubernetes.client.exceptions import ApiException

        pod = max(pods, key=lambda p: p.metadata.creation_timestamp or datetime.min.replace(tzinfo=UTC))
        try:
            # Unparsed: client 36 returns the repr of the bytes ("b'...'") for a str response, and a
            # preloaded log that looks like JSON would come back as a Python structure.
            response = self._call(
                f"reading the log of {pod.metadata.name}",
                core.read_namespaced_pod_log,
                pod.metadata.name,
                self.namespace,
                container=MAIN_CONTAINER,
                tail_lines=tail,
                _preload_content=False,
            )
        except ApiException:  # not started yet
            return ""
        return response.data.decode("utf-8", errors="replace")

    # -- cleanup --------------------------------------------------------------------------
    def finish(self, handle: dict[str, Any], status: JobStatus) -> None:
        """Success or not, delete every object but a kept data volume: the output is in ``output_path``,
        the name can be submitted again, and serving replicas (ps, tensorflow-ps workers) stop."""
        self.kill(handle)

    def kill(self, handle: dict[str, Any]) -> None:
        kinds = [k for k in _DELETE_ORDER if not (k == "PersistentVolumeClaim" and handle.get("keep_data"))]
        self._delete(handle, kinds)

    def _delete(self, handle: dict[str, Any], kinds: Any) -> None:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        sel = f"{LABEL_JOB}={handle['job']}"
        body = client.V1DeleteOptions(propagation_policy="Background")
        for kind in kinds:
            api, suffix = self._kind_api(kind)
            what = f"listing the {kind} objects of {handle['job']!r}"
            items = self._list(what, getattr(api, f"list_namespaced_{suffix}"), sel)
            for item in items:
                try:
                    self._call(
                        f"deleting {kind}/{item.metadata.name}",
                        getattr(api, f"delete_namespaced_{suffix}"),
                        item.metadata.name,
                        self.namespace,
                        body=body,
                    )
                except ApiException as err:
                    if err.status != 404:
                        raise LauncherError(
                            f"deleting {kind}/{item.metadata.name} in namespace {self.namespace} failed: "
                            f"{err.status} {err.reason}"
                        ) from None

    def export_checkpoint(self, handle: dict[str, Any], timeout: float = 600.0, poll: float = 2.0) -> str:
        """Run the ``NAME-export`` Job (``manifests.checkpoint_export_job``) on the job's volume, wait
        for it, and return the URL its log names; the Job is removed afterwards (and with the job)."""
        from kubernetes.client.exceptions import ApiException

        from airflow_mlplat.kube.schema import validate_manifests
        from airflow_mlplat.launcher.manifests import checkpoint_export_job

        core, batch = self._apis["core"], self._apis["batch"]
        name = handle["job"]
        try:
            root = self._call(f"reading ConfigMap/{name}", core.read_namespaced_config_map, name, self.namespace)
        except ApiException as err:
            raise LauncherError(f"no training job {name!r} in namespace {self.namespace} ({err.status})") from None
        job = TrainingJob.from_dict(json.loads(root.data["spec.json"]))
        try:
            export = checkpoint_export_job(
                job, namespace=self.namespace, profile=self.profile, owner_uid=root.metadata.uid
            )
        except ValueError as err:
            raise LauncherError(str(err)) from None
        validate_manifests([export])
        export_name = export.metadata.name
        self._delete_export(export_name)
        try:
            self._call(f"creating Job/{export_name}", batch.create_namespaced_job, self.namespace, export)
        except ApiException as err:
            raise LauncherError(f"creating Job/{export_name} failed: {err.status} {err.reason}") from None
        deadline = time.monotonic() + timeout
        while True:
            item = self._call(f"reading Job/{export_name}", batch.read_namespaced_job, export_name, self.namespace)
            state, problem = _job_state(item)
            if state != "running":
                break
            if time.monotonic() > deadline:
                state, problem = "failed", f"{export_name} did not finish within {timeout:g} s"
                break
            time.sleep(poll)
        log = self.logs({"job": name}, "export-0", tail=50)
        self._delete_export(export_name)
        if state != "succeeded":
            raise LauncherError(f"exporting the newest checkpoint of {name!r} failed: {problem}; log:\n{log}")
        for line in log.splitlines():
            if line.startswith("published checkpoint ") and " -> " in line:
                return line.rsplit(" -> ", 1)[1].strip()
        return f"{job.output_path.rstrip('/')}/checkpoints/"

    def _delete_export(self, name: str) -> None:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        body = client.V1DeleteOptions(propagation_policy="Background")
        try:
            self._call(
                f"deleting Job/{name}", self._apis["batch"].delete_namespaced_job, name, self.namespace, body=body
            )
        except ApiException as err:
            if err.status != 404:
                raise LauncherError(f"deleting Job/{name} failed: {err.status} {err.reason}") from None

    # -- attach (sensor) ------------------------------------------------------------------
    def attach(self, name: str) -> dict[str, Any]:
        """The handle of a job submitted earlier, from its root ConfigMap."""
        from kubernetes.client.exceptions import ApiException

        try:
            root = self._call(
                f"reading ConfigMap/{name}", self._apis["core"].read_namespaced_config_map, name, self.namespace
            )
        except ApiException as err:
            raise LauncherError(
                f"no training job {name!r} in namespace {self.namespace} on {self.host} ({err.status} {err.reason})"
            ) from None
        job = TrainingJob.from_dict(json.loads(root.data["spec.json"]))
        handle = self.handle(job)
        deadline = (root.metadata.annotations or {}).get(ANNOTATION_DEADLINE)
        handle["deadline"] = float(deadline) if deadline else None
        return handle


def _job_state(item: Any) -> tuple[str, str | None]:
    """``(state, problem)`` of one Kubernetes Job: succeeded, failed (with why) or running."""
    st = item.status
    conditions = {c.type: c for c in (st.conditions or []) if c.status == "True"} if st else {}
    if "Complete" in conditions or (st and (st.succeeded or 0) >= 1):
        return "succeeded", None
    # With backoffLimit N a Job retries N failed pods before it fails.
    limit = (item.spec.backoff_limit if item.spec else 0) or 0
    if "Failed" in conditions or (st and (st.failed or 0) > limit):
        cond = conditions.get("Failed")
        return "failed", f"{item.metadata.name}: {cond.reason}: {cond.message}" if cond else item.metadata.name
    return "running", None


def _ps_problems(pods: list[Any]) -> list[str]:
    """A ps must serve until it is stopped: a restart or an exit loses its variables."""
    out = []
    for pod in pods:
        if (pod.metadata.labels or {}).get(LABEL_ROLE) != "ps" or not pod.status:
            continue
        for cs in pod.status.container_statuses or []:
            if cs.restart_count or (cs.state and cs.state.terminated):
                term = cs.state.terminated if cs.state else None
                last = cs.last_state.terminated if cs.last_state else None
                reason = (term or last).reason if (term or last) else "restarted"
                out.append(f"{pod.metadata.name}: ps container {reason}")
    return out


def _stuck(pods: list[Any], pending_timeout: float) -> list[str]:
    """Pods Pending for longer than ``pending_timeout`` because they cannot be scheduled or pulled."""
    now = datetime.now(UTC)
    out = []
    for pod in pods:
        found = _pending_reason(pod) if pod.status and pod.status.phase == "Pending" else None
        if found is None:
            continue
        reason, since, detail = found
        waited = (now - since).total_seconds() if since else 0.0
        if waited > pending_timeout:
            out.append(
                f"pod {pod.metadata.name}: {reason} for {waited:.0f} s (pending_timeout {pending_timeout:g} s)"
                + (f": {detail}" if detail else "")
            )
    return out


def _pending_reason(pod: Any) -> tuple[str, datetime | None, str] | None:
    """``(reason, since, detail)`` of a Pending pod that cannot make progress by itself, else None.

    Unschedulable counts from its PodScheduled condition's transition; an image pull from the
    pod's scheduling (or, unscheduled, its creation).
    """
    st = pod.status
    scheduled = next((c for c in st.conditions or [] if c.type == "PodScheduled"), None)
    if scheduled is not None and scheduled.status == "False" and scheduled.reason == "Unschedulable":
        since = scheduled.last_transition_time or pod.metadata.creation_timestamp
        return "Unschedulable", since, scheduled.message or ""
    for cs in (st.init_container_statuses or []) + (st.container_statuses or []):
        waiting = cs.state.waiting if cs.state else None
        if waiting is not None and waiting.reason in _IMAGE_PULL_FAILURES:
            since = scheduled.last_transition_time if scheduled is not None and scheduled.status == "True" else None
            detail = f"container {cs.name}" + (f": {waiting.message}" if waiting.message else "")
            return waiting.reason, since or pod.metadata.creation_timestamp, detail
    return None
