"""Kubernetes objects of a training job, built from the official ``kubernetes`` client models.

For m ps and n workers (the reference platform's layout):

- a root ConfigMap ``NAME`` holding the spec; every other object has an ownerReference to it,
  so deleting it removes the whole job (the PVC only when ``data_volume.keep`` is false);
- a PVC ``NAME-data`` (ReadWriteOnce for a single pod, ReadWriteMany when several share it);
- per replica a headless Service ``NAME-ROLE-I`` (stable DNS), m ps Deployments and n worker Jobs
  (plus a ``chief`` Job for ``tensorflow-ps``);
- optional TensorBoard: Deployment, Service and Ingress ``NAME-tensorboard``;
- an init container that stages data and scripts into the volume when sources are given.

Every object carries the labels ``LABEL_JOB``/``LABEL_ROLE``/``LABEL_INDEX`` the backends select on.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client as k8s

from airflow_mlplat.launcher.env import Placement, kubernetes_placement, replica_name, role_env
from airflow_mlplat.launcher.labels import (
    ANNOTATION_DEADLINE,
    LABEL_INDEX,
    LABEL_JOB,
    LABEL_MANAGED,
    LABEL_ROLE,
    MAIN_CONTAINER,
    SPEC_KEY,
)
from airflow_mlplat.launcher.spec import ClusterProfile, Resources, TrainingJob, TrainingJobSpecError

DATA_VOLUME = "data"
WORK_VOLUME = "work"
TENSORBOARD_PORT = 6006


def labels(job: TrainingJob, role: str | None = None, index: int | None = None) -> dict[str, str]:
    out = {LABEL_MANAGED: "airflow-mlplat", LABEL_JOB: job.name}
    if role is not None:
        out[LABEL_ROLE] = role
    if index is not None:
        out[LABEL_INDEX] = str(index)
    return out


def selector(job: TrainingJob, role: str | None = None) -> str:
    """The label selector of the job's objects (of one role)."""
    parts = [f"{LABEL_JOB}={job.name}"]
    if role:
        parts.append(f"{LABEL_ROLE}={role}")
    return ",".join(parts)


def build_manifests(
    job: TrainingJob,
    *,
    namespace: str = "default",
    profile: ClusterProfile | None = None,
    placement: Placement | None = None,
    owner_uid: str | None = None,
    deadline: float | None = None,
    ingress: bool = True,
) -> list[Any]:
    """Every object of ``job``, root ConfigMap first, as ``kubernetes.client`` models.

    ``placement``: addresses and paths (default: Kubernetes DNS names in ``namespace``).
    ``owner_uid``: uid of the created root ConfigMap; when given, the other objects get an
    ownerReference to it (the backend creates the root first to learn its uid).
    ``ingress``: expose TensorBoard through an Ingress (False: the local backend, which serves it
    on 127.0.0.1 itself).
    Validates ``job`` first, and raises ``TrainingJobSpecError`` when TensorBoard needs an Ingress
    but the profile has no ``ingress_domain``.
    """
    profile = profile or ClusterProfile()
    job.validate(profile)
    placement = placement or kubernetes_placement(job, namespace)
    owner = _owner(job, owner_uid)
    objects: list[Any] = [root_config_map(job, namespace, deadline)]
    if job.data_volume is not None:
        objects.append(_pvc(job, namespace, profile, None if job.data_volume.keep else owner))
    for role, index in job.replicas():
        objects.append(_replica_service(job, namespace, placement, role, index, owner))
    for role, index in job.replicas():
        pod = _pod_template(job, profile, placement, role, index)
        if role == "ps":
            objects.append(_deployment(replica_name(job, role, index), namespace, labels(job, role, index), pod, owner))
        else:
            objects.append(_job(job, namespace, role, index, pod, owner))
    if job.tensorboard:
        objects.extend(_tensorboard(job, namespace, profile, placement, owner, ingress=ingress))
    return objects


def root_config_map(job: TrainingJob, namespace: str, deadline: float | None = None) -> k8s.V1ConfigMap:
    annotations = {ANNOTATION_DEADLINE: repr(deadline)} if deadline is not None else None
    return k8s.V1ConfigMap(
        api_version="v1",
        kind="ConfigMap",
        metadata=k8s.V1ObjectMeta(name=job.name, namespace=namespace, labels=labels(job), annotations=annotations),
        data={SPEC_KEY: json.dumps(job.to_dict(), sort_keys=True)},
    )


def container_env(pod_spec: dict[str, Any], container: str = MAIN_CONTAINER) -> dict[str, str]:
    """The ``name -> value`` env of a container of a serialized pod spec (what a process must get)."""
    for item in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
        if item["name"] == container:
            return {e["name"]: e.get("value", "") for e in item.get("env", [])}
    raise KeyError(f"no container {container!r} in pod spec")


def _owner(job: TrainingJob, uid: str | None) -> list[k8s.V1OwnerReference] | None:
    if uid is None:
        return None
    return [k8s.V1OwnerReference(api_version="v1", kind="ConfigMap", name=job.name, uid=uid, block_owner_deletion=True)]


def _meta(name: str, namespace: str, lbls: dict[str, str], owner: Any) -> k8s.V1ObjectMeta:
    return k8s.V1ObjectMeta(name=name, namespace=namespace, labels=lbls, owner_references=owner)


def _pvc(job: TrainingJob, namespace: str, profile: ClusterProfile, owner: Any) -> k8s.V1PersistentVolumeClaim:
    volume = job.data_volume
    assert volume is not None
    if job.distributed:
        mode, storage_class = "ReadWriteMany", volume.shared_storage_class or profile.shared_storage_class
    else:
        mode, storage_class = "ReadWriteOnce", volume.storage_class or profile.storage_class
    return k8s.V1PersistentVolumeClaim(
        api_version="v1",
        kind="PersistentVolumeClaim",
        metadata=_meta(f"{job.name}-data", namespace, labels(job, "data"), owner),
        spec=k8s.V1PersistentVolumeClaimSpec(
            access_modes=[mode],
            storage_class_name=storage_class,
            resources=k8s.V1VolumeResourceRequirements(requests={"storage": str(volume.size)}),
        ),
    )


def _replica_service(
    job: TrainingJob, namespace: str, placement: Placement, role: str, index: int, owner: Any
) -> k8s.V1Service:
    port = placement.ports[(role, index)]
    return k8s.V1Service(
        api_version="v1",
        kind="Service",
        metadata=_meta(replica_name(job, role, index), namespace, labels(job, role, index), owner),
        spec=k8s.V1ServiceSpec(
            cluster_ip="None",
            # Peers must resolve before every pod is ready (workers dial ps while it starts).
            publish_not_ready_addresses=True,
            selector={LABEL_JOB: job.name, LABEL_ROLE: role, LABEL_INDEX: str(index)},
            ports=[k8s.V1ServicePort(name="rpc", port=port, target_port=port)],
        ),
    )


def _resources(job: TrainingJob, profile: ClusterProfile, role: str) -> k8s.V1ResourceRequirements:
    res = job.resources(role)
    requests = {"cpu": str(res.cpu), "memory": str(res.memory)}
    limits = dict(requests)
    extra = gpu_limits(res, profile)
    # Extended resources cannot be overcommitted: requests must equal limits.
    return k8s.V1ResourceRequirements(requests={**requests, **extra}, limits={**limits, **extra})


def gpu_limits(res: Resources, profile: ClusterProfile) -> dict[str, str]:
    """The extended resources of ``res.gpu``: whole GPUs of ``profile.gpu_resource``, or a shared-GPU share.

    They go into both requests and limits (extended resources cannot be overcommitted).
    """
    if res.shared_gpu:
        return profile.shared_gpu.limits(res.gpu)
    if res.whole_gpus:
        return {profile.gpu_resource: str(res.whole_gpus)}
    return {}


def gpu_scheduling(res: Resources, gpu_type: str | None, profile: ClusterProfile) -> dict[str, Any]:
    """Pod-spec fields of a pod asking for ``res.gpu`` GPUs: the GPU type's node selector and the GPU toleration.

    Empty when no GPU is asked for. ``gpu_type`` must be a key of ``profile.gpu_types`` (validated before).
    """
    out: dict[str, Any] = {}
    if res.gpu <= 0:
        return out
    if gpu_type is not None:
        key, value = profile.gpu_types[gpu_type]
        out["node_selector"] = {key: value}
    out["tolerations"] = [k8s.V1Toleration(key=profile.gpu_resource, operator="Exists", effect="NoSchedule")]
    return out


def gpu_node_affinity(res: Resources, profile: ClusterProfile) -> k8s.V1NodeAffinity | None:
    """A pod with several GPUs goes only to nodes with that many (``profile.gpu_count_label``); None otherwise."""
    if res.whole_gpus <= 1:
        return None
    return k8s.V1NodeAffinity(
        required_during_scheduling_ignored_during_execution=k8s.V1NodeSelector(
            node_selector_terms=[
                k8s.V1NodeSelectorTerm(
                    match_expressions=[
                        k8s.V1NodeSelectorRequirement(
                            key=profile.gpu_count_label, operator="Gt", values=[str(res.whole_gpus - 1)]
                        )
                    ]
                )
            ]
        )
    )


def _scheduling(job: TrainingJob, profile: ClusterProfile, role: str) -> dict[str, Any]:
    res = job.resources(role)
    out = gpu_scheduling(res, job.gpu_type, profile)
    if not out:
        return out
    if res.whole_gpus > 1 or (role == "worker" and job.workers > 1 and res.whole_gpus >= 1):
        # Multi-GPU jobs: only nodes with enough GPUs, and the job's GPU pods packed together so
        # NVLink/PCIe peers are used and whole nodes stay free for other multi-GPU jobs.
        pod_affinity = k8s.V1PodAffinity(
            preferred_during_scheduling_ignored_during_execution=[
                k8s.V1WeightedPodAffinityTerm(
                    weight=100,
                    pod_affinity_term=k8s.V1PodAffinityTerm(
                        label_selector=k8s.V1LabelSelector(match_labels={LABEL_JOB: job.name, LABEL_ROLE: role}),
                        topology_key="kubernetes.io/hostname",
                    ),
                )
            ]
        )
        out["affinity"] = k8s.V1Affinity(node_affinity=gpu_node_affinity(res, profile), pod_affinity=pod_affinity)
    return out


def _volumes(job: TrainingJob) -> tuple[list[k8s.V1Volume], list[k8s.V1VolumeMount]]:
    volumes = [k8s.V1Volume(name=WORK_VOLUME, empty_dir=k8s.V1EmptyDirVolumeSource())]
    mounts = [k8s.V1VolumeMount(name=WORK_VOLUME, mount_path="/mnt/mlplat/work")]
    if job.data_volume is not None:
        volumes.append(
            k8s.V1Volume(
                name=DATA_VOLUME,
                persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(claim_name=f"{job.name}-data"),
            )
        )
        mounts.append(k8s.V1VolumeMount(name=DATA_VOLUME, mount_path=job.data_volume.mount_path))
    return volumes, mounts


def _pod_template(
    job: TrainingJob, profile: ClusterProfile, placement: Placement, role: str, index: int
) -> k8s.V1PodTemplateSpec:
    env = [k8s.V1EnvVar(name=k, value=v) for k, v in role_env(job, placement, role, index).items()]
    volumes, mounts = _volumes(job)
    port = placement.ports[(role, index)]
    command = list(job.command)
    if job.output_path and (role, index) == job.exporter:
        # The platform, not the user's script, copies MLPLAT_MODEL_DIR to the output once the command succeeded.
        command = ["python", "-m", "airflow_mlplat.launcher.entrypoint", "--", *command]
    main = k8s.V1Container(
        name=MAIN_CONTAINER,
        image=job.image,
        command=command,
        env=env,
        working_dir=placement.work_dir,
        ports=[k8s.V1ContainerPort(name="rpc", container_port=port)],
        resources=_resources(job, profile, role),
        volume_mounts=mounts,
        termination_message_policy="FallbackToLogsOnError",
    )
    init = []
    for name, source, dest in (
        ("stage-data", job.data_source, placement.input_dir),
        ("stage-code", job.code_source, placement.work_dir),
    ):
        if source:
            init.append(
                k8s.V1Container(
                    name=name,
                    image=profile.init_image or job.image,
                    command=["python", "-m", "airflow_mlplat.launcher.stage", "--source", source, "--dest", dest],
                    env=env,
                    working_dir=placement.work_dir,
                    volume_mounts=mounts,
                    resources=k8s.V1ResourceRequirements(
                        requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
                    ),
                )
            )
    spec = k8s.V1PodSpec(
        containers=[main],
        init_containers=init or None,
        volumes=volumes,
        restart_policy="Always" if role == "ps" else ("OnFailure" if job.backoff_limit else "Never"),
        **_scheduling(job, profile, role),
    )
    return k8s.V1PodTemplateSpec(metadata=k8s.V1ObjectMeta(labels=labels(job, role, index)), spec=spec)


def _deployment(name: str, namespace: str, lbls: dict[str, str], pod: Any, owner: Any) -> k8s.V1Deployment:
    match = {k: v for k, v in lbls.items() if k != LABEL_MANAGED}
    return k8s.V1Deployment(
        api_version="apps/v1",
        kind="Deployment",
        metadata=_meta(name, namespace, lbls, owner),
        spec=k8s.V1DeploymentSpec(
            replicas=1,
            selector=k8s.V1LabelSelector(match_labels=match),
            # A ps holds state in memory: never run two copies of one during an update.
            strategy=k8s.V1DeploymentStrategy(type="Recreate"),
            template=pod,
        ),
    )


def _job(job: TrainingJob, namespace: str, role: str, index: int, pod: Any, owner: Any) -> k8s.V1Job:
    return k8s.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=_meta(replica_name(job, role, index), namespace, labels(job, role, index), owner),
        spec=k8s.V1JobSpec(
            # With restartPolicy OnFailure the kubelet restarts the container in place; the worker
            # resumes from MLPLAT_CHECKPOINT_DIR. 0 (the default) fails fast.
            backoff_limit=job.backoff_limit,
            active_deadline_seconds=max(1, int(job.timeout)),
            template=pod,
        ),
    )


def _tensorboard(
    job: TrainingJob, namespace: str, profile: ClusterProfile, placement: Placement, owner: Any, *, ingress: bool
) -> list[Any]:
    """TensorBoard's Deployment and Service, and with ``ingress`` its Ingress on ``NAME-tensorboard.DOMAIN``."""
    if ingress and not profile.ingress_domain:
        # An Ingress rule without a host matches every host: it would take over / of the ingress controller.
        raise TrainingJobSpecError(
            job.name,
            [
                "tensorboard: the cluster profile ingress_domain is not set, and TensorBoard's Ingress needs "
                "it as its host (set ingress_domain in the cluster profile, or tensorboard=False)"
            ],
        )
    name = f"{job.name}-tensorboard"
    lbls = labels(job, "tensorboard")
    volumes, mounts = _volumes(job)
    container = k8s.V1Container(
        name="tensorboard",
        image=profile.tensorboard_image,
        command=[
            "tensorboard",
            f"--logdir={placement.tensorboard_dir}",
            "--host=0.0.0.0",
            f"--port={TENSORBOARD_PORT}",
        ],
        ports=[k8s.V1ContainerPort(name="http", container_port=TENSORBOARD_PORT)],
        resources=k8s.V1ResourceRequirements(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "2Gi"}
        ),
        volume_mounts=mounts,
    )
    pod = k8s.V1PodTemplateSpec(
        metadata=k8s.V1ObjectMeta(labels=lbls), spec=k8s.V1PodSpec(containers=[container], volumes=volumes)
    )
    deployment = _deployment(name, namespace, lbls, pod, owner)
    service = k8s.V1Service(
        api_version="v1",
        kind="Service",
        metadata=_meta(name, namespace, lbls, owner),
        spec=k8s.V1ServiceSpec(
            selector={LABEL_JOB: job.name, LABEL_ROLE: "tensorboard"},
            ports=[k8s.V1ServicePort(name="http", port=80, target_port=TENSORBOARD_PORT)],
        ),
    )
    if not ingress:
        return [deployment, service]
    tensorboard_ingress = k8s.V1Ingress(
        api_version="networking.k8s.io/v1",
        kind="Ingress",
        metadata=_meta(name, namespace, lbls, owner),
        spec=k8s.V1IngressSpec(
            ingress_class_name=profile.ingress_class,
            rules=[
                k8s.V1IngressRule(
                    host=f"{name}.{profile.ingress_domain}",
                    http=k8s.V1HTTPIngressRuleValue(
                        paths=[
                            k8s.V1HTTPIngressPath(
                                path="/",
                                path_type="Prefix",
                                backend=k8s.V1IngressBackend(
                                    service=k8s.V1IngressServiceBackend(
                                        name=name, port=k8s.V1ServiceBackendPort(number=80)
                                    )
                                ),
                            )
                        ]
                    ),
                )
            ],
        ),
    )
    return [deployment, service, tensorboard_ingress]


def checkpoint_export_job(
    job: TrainingJob, *, namespace: str, profile: ClusterProfile, owner_uid: str | None
) -> k8s.V1Job:
    """A one-off Job ``NAME-export`` that publishes the newest checkpoint on the job's volume to
    ``OUTPUT/checkpoints/NAME`` while the job runs (``airflow-mlplat train export``)."""
    if job.data_volume is None or not job.output_path:
        missing = "a data_volume" if job.data_volume is None else "an output_path"
        raise TrainingJobSpecError(job.name, [f"exporting a checkpoint needs {missing}"])
    volumes, mounts = _volumes(job)
    checkpoints = kubernetes_placement(job, namespace).checkpoint_dir
    container = k8s.V1Container(
        name=MAIN_CONTAINER,
        image=profile.init_image or job.image,
        command=[
            "python",
            "-m",
            "airflow_mlplat.launcher.stage",
            "--newest-in",
            checkpoints,
            "--dest",
            f"{job.output_path.rstrip('/')}/checkpoints",
        ],  # fmt: skip
        volume_mounts=mounts,
        resources=k8s.V1ResourceRequirements(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
        ),
    )
    lbls = labels(job, "export", 0)
    return k8s.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=_meta(f"{job.name}-export", namespace, lbls, _owner(job, owner_uid)),
        spec=k8s.V1JobSpec(
            backoff_limit=0,
            active_deadline_seconds=600,
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=lbls),
                spec=k8s.V1PodSpec(containers=[container], volumes=volumes, restart_policy="Never"),
            ),
        ),
    )
