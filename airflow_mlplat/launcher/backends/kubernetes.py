"""The ``kubernetes`` backend: create, watch and remove a job's objects through the cncf-kubernetes hook.

The client comes from the provider's ``KubernetesHook`` (an Airflow connection, or a kubeconfig
dict for tools and tests). Every API call carries ``request_timeout``, so an unreachable API
server fails the call with a ``LauncherError`` naming the server and the object instead of
hanging a worker slot.

``submit`` validates every manifest against the Kubernetes schema before creating anything,
creates the root ConfigMap, then the rest with ownerReferences to it; if any create fails, what
was created is removed. ``status`` reads the worker Jobs and ps pods; worker-0's final metrics are
its container's termination message (``MLPLAT_METRICS_FILE=/dev/termination-log``).
"""

from __future__ import annotations

import json
import time
from functools import cached_property
from typing import Any

from airflow_mlplat.launcher.backends.base import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    JobStatus,
    LauncherError,
    TrainingBackend,
    timed_out,
)
from airflow_mlplat.launcher.labels import ANNOTATION_DEADLINE, LABEL_INDEX, LABEL_JOB, LABEL_ROLE, MAIN_CONTAINER
from airflow_mlplat.launcher.spec import ClusterProfile, TrainingJob

#: Kinds deleted on failure, in order; ``PersistentVolumeClaim`` is skipped when the job keeps it.
_DELETE_ORDER = ("Ingress", "Service", "Deployment", "Job", "PersistentVolumeClaim", "ConfigMap")


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
        return {
            "backend": self.name,
            "options": self.options(),
            "job": job.name,
            "deadline": time.time() + float(job.timeout),
            "keep_data": bool(job.data_volume and job.data_volume.keep),
            "output_path": job.output_path,
        }

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
        name = handle["job"]
        sel = f"{LABEL_JOB}={name}"
        batch, core = self._apis["batch"], self._apis["core"]
        jobs = self._call("listing worker Jobs", batch.list_namespaced_job, self.namespace, label_selector=sel).items
        pods = self._call("listing pods", core.list_namespaced_pod, self.namespace, label_selector=sel).items
        replicas: dict[str, dict[str, Any]] = {}
        failed: list[str] = []
        succeeded = 0
        for item in jobs:
            st = item.status
            conditions = {c.type: c for c in (st.conditions or []) if c.status == "True"}
            state = "running"
            if (st.succeeded or 0) >= 1 or "Complete" in conditions:
                state, succeeded = "succeeded", succeeded + 1
            elif (st.failed or 0) >= 1 or "Failed" in conditions:
                state = "failed"
                cond = conditions.get("Failed")
                failed.append(f"{item.metadata.name}: {cond.reason}: {cond.message}" if cond else item.metadata.name)
            replicas[item.metadata.name] = {"role": "worker", "state": state}
        for pod in pods:
            role = (pod.metadata.labels or {}).get(LABEL_ROLE)
            if role != "ps":
                continue
            for cs in (pod.status.container_statuses or []) if pod.status else []:
                if cs.restart_count or (cs.state and cs.state.terminated):
                    term = cs.state.terminated if cs.state else None
                    last = cs.last_state.terminated if cs.last_state else None
                    reason = (term or last).reason if (term or last) else "restarted"
                    failed.append(f"{pod.metadata.name}: ps container {reason}")
        if failed:
            return JobStatus(FAILED, "; ".join(failed), replicas)
        if not jobs:
            return JobStatus(FAILED, f"no worker Jobs of {name!r} in namespace {self.namespace} (deleted?)", replicas)
        if succeeded == len(jobs):
            return JobStatus(SUCCEEDED, f"all {succeeded} workers succeeded", replicas, self._metrics(pods))
        if timed_out(handle):
            return JobStatus(FAILED, f"timed out (deadline {handle['deadline']:.0f} passed)", replicas)
        running = any(pod.status and pod.status.phase == "Running" for pod in pods)
        return JobStatus(RUNNING if running else PENDING, "", replicas)

    @staticmethod
    def _metrics(pods: list[Any]) -> dict[str, Any] | None:
        for pod in pods:
            lbls = pod.metadata.labels or {}
            if lbls.get(LABEL_ROLE) == "worker" and lbls.get(LABEL_INDEX) == "0":
                for cs in pod.status.container_statuses or []:
                    term = cs.state.terminated if cs.state else None
                    if cs.name == MAIN_CONTAINER and term and term.message:
                        try:
                            return json.loads(term.message)
                        except ValueError:
                            return None
        return None

    def logs(self, handle: dict[str, Any], replica: str = "worker-0", tail: int = 100) -> str:
        role, _, index = replica.rpartition("-")
        sel = f"{LABEL_JOB}={handle['job']},{LABEL_ROLE}={role},{LABEL_INDEX}={index}"
        core = self._apis["core"]
        pods = self._call("listing pods", core.list_namespaced_pod, self.namespace, label_selector=sel).items
        if not pods:
            return ""
        from kubernetes.client.exceptions import ApiException

        try:
            return self._call(
                f"reading the log of {pods[0].metadata.name}",
                core.read_namespaced_pod_log,
                pods[0].metadata.name,
                self.namespace,
                container=MAIN_CONTAINER,
                tail_lines=tail,
            )
        except ApiException:  # not started yet
            return ""

    # -- cleanup --------------------------------------------------------------------------
    def finish(self, handle: dict[str, Any], status: JobStatus) -> None:
        if status.succeeded:
            # Users of other launchers complain that ps pods linger: remove them once the workers are done.
            self._delete(handle, ("Deployment", "Service"), role="ps")
        else:
            self.kill(handle)

    def kill(self, handle: dict[str, Any]) -> None:
        kinds = [k for k in _DELETE_ORDER if not (k == "PersistentVolumeClaim" and handle.get("keep_data"))]
        self._delete(handle, kinds)

    def _delete(self, handle: dict[str, Any], kinds: Any, role: str | None = None) -> None:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        sel = f"{LABEL_JOB}={handle['job']}" + (f",{LABEL_ROLE}={role}" if role else "")
        body = client.V1DeleteOptions(propagation_policy="Background")
        for kind in kinds:
            api, suffix = self._kind_api(kind)
            items = self._call(
                f"listing {kind} objects of {handle['job']!r}",
                getattr(api, f"list_namespaced_{suffix}"),
                self.namespace,
                label_selector=sel,
            ).items
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
