"""Every generated manifest validates against the Kubernetes 1.37 schema, for each framework and option."""

from __future__ import annotations

import json

import pytest

from airflow_mlplat.kube.schema import KUBERNETES_VERSION, validate_manifests
from airflow_mlplat.launcher import FRAMEWORKS, ClusterProfile, Resources, SharedGpu, TrainingJob
from airflow_mlplat.launcher.manifests import build_manifests, container_env

UID = "6f1c2a9e-0000-4000-8000-000000000001"


def make_job(framework: str, **overrides) -> TrainingJob:
    ps = 2 if framework in ("tensorflow-ps", "paddle-ps") else 0
    fields = dict(
        name="rank",
        framework=framework,
        image="registry/ml:1",
        command=["python", "train.py"],
        ps=ps,
        workers=3,
        output_path="hdfs://nameservice1/models/rank",
    )
    fields.update(overrides)
    return TrainingJob.from_dict(fields)


OPTIONS = {
    "plain": {},
    "one-worker": {"workers": 1},
    "gpu": {"worker_resources": {"cpu": "8", "memory": "32Gi", "gpu": 1}, "gpu_type": "v100"},
    "multi-gpu": {"worker_resources": {"gpu": 4}, "gpu_type": "a100"},
    "fractional-gpu": {"worker_resources": {"gpu": 0.25}},
    "tensorboard": {"tensorboard": True},
    "init-step": {"data_source": "hdfs://nameservice1/data/criteo", "code_source": "https://git.example/ml.tar.gz"},
    "keep-pvc": {"data_volume": {"keep": True, "size": "100Gi"}},
    "no-volume": {"data_volume": None},
    "env": {"env": {"BATCH_SIZE": "1024"}, "timeout": 600},
}
PROFILE = ClusterProfile(ingress_domain="ml.example.com", ingress_class="nginx")


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_manifests_validate_against_the_kubernetes_schema(framework, option):
    job = make_job(framework, **OPTIONS[option])
    for owner in (None, UID):
        docs = validate_manifests(build_manifests(job, namespace="ml", profile=PROFILE, owner_uid=owner))
        assert docs[0]["kind"] == "ConfigMap" and docs[0]["metadata"]["name"] == "rank"
    kinds = [d["kind"] for d in docs]
    chief = 1 if framework == "tensorflow-ps" else 0
    assert kinds.count("Job") == job.workers + chief
    assert kinds.count("Deployment") == job.ps + (1 if job.tensorboard else 0)
    assert kinds.count("Service") == job.ps + chief + job.workers + (1 if job.tensorboard else 0)
    assert kinds.count("PersistentVolumeClaim") == (0 if job.data_volume is None else 1)
    for doc in docs:
        assert doc["metadata"]["labels"]["mlplat.io/job"] == "rank"
        owned = doc["metadata"].get("ownerReferences")
        if doc["kind"] == "ConfigMap" or (doc["kind"] == "PersistentVolumeClaim" and job.data_volume.keep):
            assert owned is None
        else:
            assert owned == [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "rank", "uid": UID, "blockOwnerDeletion": True}
            ]
    assert KUBERNETES_VERSION == "1.37.0"


def pods(docs):
    """{replica name: pod spec} of the ps Deployments and worker Jobs."""
    out = {}
    for doc in docs:
        lbls = doc["metadata"]["labels"]
        if doc["kind"] in ("Job", "Deployment") and lbls.get("mlplat.io/role") in ("ps", "chief", "worker"):
            out[f"{lbls['mlplat.io/role']}-{lbls['mlplat.io/index']}"] = doc["spec"]["template"]["spec"]
    return out


def envs(job, **kwargs):
    docs = validate_manifests(build_manifests(job, namespace="ml", **kwargs))
    return {name: container_env(spec) for name, spec in pods(docs).items()}


def test_tensorflow_ps_env_is_the_reference_contract():
    env = envs(make_job("tensorflow-ps"))
    ps_hosts = "rank-ps-0.ml.svc:2222,rank-ps-1.ml.svc:2222"
    workers = [f"rank-worker-{i}.ml.svc:2222" for i in range(3)]
    assert env["worker-2"]["PS_HOSTS"] == ps_hosts and env["ps-1"]["WORKER_HOSTS"] == ",".join(workers)
    assert (env["ps-1"]["JOB_NAME"], env["ps-1"]["TASK_INDEX"]) == ("ps", "1")
    chief = "rank-chief-0.ml.svc:2222"
    assert env["worker-1"]["CHIEF_HOSTS"] == chief and (env["chief-0"]["JOB_NAME"], env["chief-0"]["TASK_INDEX"]) == (
        "chief",
        "0",
    )
    assert json.loads(env["worker-2"]["TF_CONFIG"]) == {
        "cluster": {"chief": [chief], "ps": ps_hosts.split(","), "worker": workers},
        "task": {"type": "worker", "index": 2},
    }
    # The chief trains and exports (TF 2's ParameterServerStrategy coordinator).
    assert env["chief-0"]["MLPLAT_EXPORT"] == "1" and env["worker-0"]["MLPLAT_EXPORT"] == "0"
    assert env["chief-0"]["MLPLAT_OUTPUT_PATH"] == "hdfs://nameservice1/models/rank"
    assert env["chief-0"]["MLPLAT_MODEL_DIR"] == "/mnt/mlplat/data/model/chief-0"
    assert {e["MLPLAT_CHECKPOINT_DIR"] for e in env.values()} == {"/mnt/mlplat/data/checkpoints"}


def test_multiworker_gets_tf_config_only():
    env = envs(make_job("tensorflow-multiworker"))["worker-1"]
    assert json.loads(env["TF_CONFIG"])["task"] == {"type": "worker", "index": 1}
    assert not {"PS_HOSTS", "WORKER_HOSTS", "JOB_NAME", "TASK_INDEX", "RANK"} & set(env)


def test_pytorch_env_uses_kubeflow_names():
    env = envs(make_job("pytorch"))
    for i in range(3):
        assert {k: env[f"worker-{i}"][k] for k in ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK")} == {
            "MASTER_ADDR": "rank-worker-0.ml.svc",
            "MASTER_PORT": "23456",
            "WORLD_SIZE": "3",
            "RANK": str(i),
        }


def test_paddle_env_matches_the_role_maker():
    env = envs(make_job("paddle-ps"))
    servers = env["ps-0"]["PADDLE_PSERVERS_IP_PORT_LIST"].split(",")
    for i in range(2):
        ps = env[f"ps-{i}"]
        assert ps["TRAINING_ROLE"] == "PSERVER"
        # PaddleCloudRoleMaker finds a pserver's id as the index of POD_IP:PADDLE_PORT in the list.
        assert servers.index(f"{ps['POD_IP']}:{ps['PADDLE_PORT']}") == i
    trainer = env["worker-1"]
    roles = (trainer["TRAINING_ROLE"], trainer["PADDLE_TRAINER_ID"], trainer["PADDLE_TRAINERS_NUM"])
    assert roles == ("TRAINER", "1", "3")
    assert len(trainer["PADDLE_TRAINER_ENDPOINTS"].split(",")) == 3
    coll = envs(make_job("paddle-collective"))["worker-2"]
    assert coll["PADDLE_CURRENT_ENDPOINT"] == coll["PADDLE_TRAINER_ENDPOINTS"].split(",")[2]
    assert (coll["PADDLE_TRAINER_ID"], coll["PADDLE_TRAINERS_NUM"]) == ("2", "3")


def test_one_headless_service_per_replica_selects_that_replica():
    docs = validate_manifests(build_manifests(make_job("tensorflow-ps"), namespace="ml"))
    services = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "Service"}
    assert services["rank-ps-1"]["clusterIP"] == "None"
    expected = {"mlplat.io/job": "rank", "mlplat.io/role": "ps", "mlplat.io/index": "1"}
    assert services["rank-ps-1"]["selector"] == expected
    job_pod = next(d for d in docs if d["metadata"]["name"] == "rank-worker-1" and d["kind"] == "Job")
    assert services["rank-worker-1"]["selector"].items() <= job_pod["spec"]["template"]["metadata"]["labels"].items()


def test_pvc_access_mode_and_storage_class():
    single = build_manifests(make_job("pytorch", workers=1), namespace="ml")
    shared = build_manifests(make_job("pytorch", workers=2), namespace="ml")
    [one] = [d for d in validate_manifests(single) if d["kind"] == "PersistentVolumeClaim"]
    [many] = [d for d in validate_manifests(shared) if d["kind"] == "PersistentVolumeClaim"]
    assert (one["spec"]["accessModes"], one["spec"]["storageClassName"]) == (["ReadWriteOnce"], "ceph-rbd")
    assert (many["spec"]["accessModes"], many["spec"]["storageClassName"]) == (["ReadWriteMany"], "cephfs")
    for spec in pods(validate_manifests(shared)).values():
        assert {"name": "data", "persistentVolumeClaim": {"claimName": "rank-data"}} in spec["volumes"]


def test_gpu_type_node_selector_and_multi_gpu_packing():
    gpu = pods(validate_manifests(build_manifests(make_job("pytorch", **OPTIONS["gpu"]), namespace="ml")))["worker-0"]
    assert gpu["nodeSelector"] == {"nvidia.com/gpu.product": "Tesla-V100-SXM2-32GB"}
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    multi = pods(validate_manifests(build_manifests(make_job("pytorch", **OPTIONS["multi-gpu"]), namespace="ml")))
    affinity = multi["worker-1"]["affinity"]
    [term] = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": "nvidia.com/gpu.count", "operator": "Gt", "values": ["3"]}]
    [pref] = affinity["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert pref["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert (
        "nodeSelector" in multi["worker-1"]
        and "affinity" not in pods(validate_manifests(build_manifests(make_job("pytorch"), namespace="ml")))["worker-1"]
    )


def test_fractional_gpu_maps_to_the_shared_resource():
    job = make_job("pytorch", worker_resources=Resources(gpu=0.25))
    res = pods(validate_manifests(build_manifests(job, namespace="ml")))["worker-0"]["containers"][0]["resources"]
    assert res["limits"]["nvidia.com/gpu.shared"] == "1" and "nvidia.com/gpu" not in res["limits"]
    assert res["requests"]["nvidia.com/gpu.shared"] == "1"
    memory = ClusterProfile(shared_gpu=SharedGpu(mode="memory", resource="aliyun.com/gpu-mem", memory_per_gpu=24))
    res = pods(validate_manifests(build_manifests(job, namespace="ml", profile=memory)))["worker-0"]
    assert res["containers"][0]["resources"]["limits"]["aliyun.com/gpu-mem"] == "6"


def test_tensorboard_deployment_service_ingress():
    docs = validate_manifests(build_manifests(make_job("pytorch", tensorboard=True), namespace="ml", profile=PROFILE))
    tb = {d["kind"]: d for d in docs if d["metadata"]["name"] == "rank-tensorboard"}
    assert set(tb) == {"Deployment", "Service", "Ingress"}
    rule = tb["Ingress"]["spec"]["rules"][0]
    assert rule["host"] == "rank-tensorboard.ml.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "rank-tensorboard", "port": {"number": 80}}
    command = tb["Deployment"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert "--logdir=/mnt/mlplat/data/tensorboard" in command
    worker = pods(docs)["worker-0"]
    assert container_env(worker)["MLPLAT_TENSORBOARD_DIR"] == "/mnt/mlplat/data/tensorboard"


def test_init_step_stages_data_and_scripts():
    docs = validate_manifests(build_manifests(make_job("paddle-ps", **OPTIONS["init-step"]), namespace="ml"))
    init = pods(docs)["ps-0"]["initContainers"]
    assert [c["name"] for c in init] == ["stage-data", "stage-code"]
    source = "hdfs://nameservice1/data/criteo"
    assert init[0]["command"][-4:] == ["--source", source, "--dest", "/mnt/mlplat/data/input"]
    assert container_env(pods(docs)["ps-0"], "stage-data") == container_env(pods(docs)["ps-0"])


def test_workers_fail_fast_and_respect_the_timeout():
    docs = validate_manifests(build_manifests(make_job("pytorch", timeout=600), namespace="ml"))
    job = next(d for d in docs if d["kind"] == "Job")
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"]) == (0, 600)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_readme_example_job_is_valid():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Distributed deep learning on Kubernetes", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    code = code.replace("\nDistributedTrainingOperator(", "\noperator = DistributedTrainingOperator(", 1)
    exec(compile(code, "README.md", "exec"), namespace)
    operator = namespace["operator"]
    profile = ClusterProfile.from_dict(operator.cluster_profile)
    job = TrainingJob.from_dict(operator.job).validate(profile)
    docs = validate_manifests(build_manifests(job, namespace=operator.namespace, profile=profile))
    kinds = {"ConfigMap", "PersistentVolumeClaim", "Service", "Job", "Deployment", "Ingress"}
    assert {d["kind"] for d in docs} == kinds


def jobs_of(docs):
    """{replica name: Job manifest} of the chief and worker Jobs."""
    return {
        f"{d['metadata']['labels']['mlplat.io/role']}-{d['metadata']['labels']['mlplat.io/index']}": d
        for d in docs
        if d["kind"] == "Job"
    }


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_backoff_limit_restarts_failed_replicas_in_place(framework):
    default = jobs_of(validate_manifests(build_manifests(make_job(framework), namespace="ml")))
    retried = jobs_of(validate_manifests(build_manifests(make_job(framework, backoff_limit=3), namespace="ml")))
    assert set(retried) == set(default) and default
    for name in default:
        assert (default[name]["spec"]["backoffLimit"], retried[name]["spec"]["backoffLimit"]) == (0, 3)
        policies = (default[name], retried[name])
        assert [j["spec"]["template"]["spec"]["restartPolicy"] for j in policies] == ["Never", "OnFailure"]
    ps = pods(validate_manifests(build_manifests(make_job(framework, backoff_limit=3), namespace="ml")))
    assert all(spec["restartPolicy"] == "Always" for name, spec in ps.items() if name.startswith("ps-"))


def test_tensorflow_ps_gets_a_chief_job_that_exports():
    docs = validate_manifests(build_manifests(make_job("tensorflow-ps"), namespace="ml"))
    assert sorted(jobs_of(docs)) == ["chief-0", "worker-0", "worker-1", "worker-2"]
    chief = jobs_of(docs)["chief-0"]
    assert chief["metadata"]["name"] == "rank-chief-0"
    assert "rank-chief-0" in {d["metadata"]["name"] for d in docs if d["kind"] == "Service"}
    spec = chief["spec"]["template"]["spec"]
    env = container_env(spec)
    assert (env["MLPLAT_EXPORT"], env["JOB_NAME"], json.loads(env["TF_CONFIG"])["task"]) == (
        "1",
        "chief",
        {"type": "chief", "index": 0},
    )
    assert spec["containers"][0]["command"][:3] == ["python", "-m", "airflow_mlplat.launcher.entrypoint"]
    worker = jobs_of(docs)["worker-0"]["spec"]["template"]["spec"]
    assert container_env(worker)["MLPLAT_EXPORT"] == "0"
    assert worker["containers"][0]["command"] == ["python", "train.py"]
    plain = validate_manifests(build_manifests(make_job("pytorch"), namespace="ml"))
    assert not any(d["metadata"]["labels"].get("mlplat.io/role") == "chief" for d in plain)


def test_tensorboard_ingress_needs_the_profile_domain():
    from airflow_mlplat.launcher import TrainingJobSpecError

    job = make_job("pytorch", tensorboard=True)
    with pytest.raises(TrainingJobSpecError, match="cluster profile ingress_domain") as info:
        build_manifests(job, namespace="ml")
    assert info.value.job == "rank"
    # The local backend serves TensorBoard itself: no Ingress, so no domain needed.
    docs = validate_manifests(build_manifests(job, namespace="ml", ingress=False))
    assert {d["kind"] for d in docs if d["metadata"]["name"] == "rank-tensorboard"} == {"Deployment", "Service"}
