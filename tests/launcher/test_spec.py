"""TrainingJob validation: every bad field gives a clear error before anything is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_mlplat.launcher import ClusterProfile, DataVolume, Resources, TrainingJob, TrainingJobSpecError
from airflow_mlplat.launcher.backends import get_backend
from tests.kube_unreachable import kubeconfig

GOOD = dict(
    name="ctr-rank", framework="tensorflow-ps", image="registry/ml:1", command=["python", "train.py"], ps=2, workers=3
)


def job(**overrides):
    return TrainingJob.from_dict({**GOOD, **overrides})


def test_good_spec_validates_and_round_trips():
    spec = job(
        worker_resources={"cpu": "4", "memory": "8Gi", "gpu": 1},
        gpu_type="t4",
        tensorboard=True,
        output_path="hdfs://nameservice1/models/ctr",
        env={"BATCH": "512"},
    )
    assert spec.validate() is spec
    assert TrainingJob.from_dict(spec.to_dict()) == spec
    # tensorflow-ps: the launcher adds the chief that TF 2's ParameterServerStrategy trains on.
    assert spec.replicas() == [("ps", 0), ("ps", 1), ("chief", 0), ("worker", 0), ("worker", 1), ("worker", 2)]
    assert (spec.exporter, spec.finishing_roles) == (("chief", 0), frozenset({"chief"}))
    other = TrainingJob.from_dict({**spec.to_dict(), "framework": "paddle-ps"})
    assert other.replicas() == [("ps", 0), ("ps", 1), ("worker", 0), ("worker", 1), ("worker", 2)]
    assert (other.exporter, other.finishing_roles) == (("worker", 0), frozenset({"worker"}))


BAD = [
    ({"name": "CTR_Rank"}, "name must be a DNS label"),
    ({"name": "9lives"}, "name must be a DNS label"),
    ({"name": "a" * 60}, "name is too long: object name 'aaaa"),
    ({"framework": "mxnet"}, "framework must be one of tensorflow-ps, tensorflow-multiworker, pytorch"),
    ({"image": ""}, "image must be a non-empty image reference"),
    ({"command": []}, "command must be a non-empty list"),
    ({"workers": 0}, "workers must be an integer >= 1, got 0"),
    ({"workers": "2"}, "workers must be an integer >= 1, got '2'"),
    ({"ps": 0}, "ps must be >= 1 for tensorflow-ps"),
    ({"framework": "pytorch", "ps": 1}, "ps must be 0 for pytorch (it has no parameter servers)"),
    ({"framework": "paddle-ps", "ps": 0}, "ps must be >= 1 for paddle-ps"),
    ({"worker_resources": {"cpu": "lots"}}, "worker_resources.cpu must be a positive Kubernetes quantity"),
    ({"ps_resources": {"memory": "8 GB"}}, "ps_resources.memory must be a Kubernetes quantity"),
    ({"worker_resources": {"gpu": 1.5}}, "worker_resources.gpu must be a whole number of GPUs or a share below 1"),
    ({"worker_resources": {"gpu": -1}}, "worker_resources.gpu must be a number >= 0"),
    ({"worker_resources": {"gpu": 1}, "gpu_type": "k80"}, "gpu_type 'k80' maps to no node label (known GPU types:"),
    ({"gpu_type": "t4"}, "gpu_type 't4' is set but no role requests a GPU"),
    ({"data_volume": {"size": "ten"}}, "data_volume.size must be a Kubernetes quantity"),
    ({"data_volume": {"mount_path": "data"}}, "data_volume.mount_path must be absolute"),
    ({"data_volume": None, "tensorboard": True}, "tensorboard needs a data_volume"),
    ({"backoff_limit": -1}, "backoff_limit must be an integer >= 0, got -1"),
    ({"backoff_limit": True}, "backoff_limit must be an integer >= 0, got True"),
    ({"pending_timeout": 0}, "pending_timeout must be a number of seconds > 0, got 0"),
    ({"output_path": "/models/ctr"}, "output_path must be a URL with a scheme among"),
    ({"data_source": "ftp://x/y"}, "data_source must be a URL"),
    ({"env": {"TF_CONFIG": "{}"}}, "env: TF_CONFIG is set by the launcher and cannot be overridden"),
    ({"env": {"MLPLAT_ROLE": "x"}}, "env: MLPLAT_ROLE is set by the launcher"),
    ({"env": {"1BAD": "x"}}, "env: '1BAD' is not a valid environment variable name"),
    ({"env": {"N": 3}}, "env.N must be a string, got 3"),
    ({"timeout": 0}, "timeout must be a number of seconds > 0"),
    ({"tensorboard": "yes"}, "tensorboard must be true or false"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_spec_names_the_field(overrides, message):
    with pytest.raises(TrainingJobSpecError) as caught:
        job(**overrides).validate()
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_every_problem_is_reported_at_once():
    with pytest.raises(TrainingJobSpecError) as caught:
        job(name="Bad", workers=0, image="").validate()
    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith("TrainingJob 'Bad' is invalid (3 problems):")


def test_unknown_and_missing_fields():
    with pytest.raises(TrainingJobSpecError, match="replicas: unknown field"):
        TrainingJob.from_dict({**GOOD, "replicas": 3})
    with pytest.raises(TrainingJobSpecError, match="image: required"):
        TrainingJob.from_dict({k: v for k, v in GOOD.items() if k != "image"})
    with pytest.raises(TrainingJobSpecError, match="worker_resources: .*unexpected keyword argument 'gpus'"):
        TrainingJob.from_dict({**GOOD, "worker_resources": {"gpus": 1}})


def test_gpu_types_come_from_the_cluster_profile():
    spec = job(worker_resources=Resources(gpu=1), gpu_type="l4")
    with pytest.raises(TrainingJobSpecError, match="'l4' maps to no node label"):
        spec.validate()
    profile = ClusterProfile(gpu_types={"l4": ("cloud.google.com/gke-accelerator", "nvidia-l4")})
    assert spec.validate(profile) is spec
    assert ClusterProfile.from_dict(profile.to_dict()) == profile


def test_bad_spec_creates_nothing_on_either_backend(tmp_path: Path):
    bad = job(workers=0, data_volume=DataVolume())
    local = get_backend("local", state_root=str(tmp_path / "root"))
    with pytest.raises(TrainingJobSpecError):
        local.submit(bad, local.handle(bad))
    assert not (tmp_path / "root").exists()
    # No API server exists at this address: a spec error must come before any request.
    kube = get_backend("kubernetes", conn_id=None, config_dict=kubeconfig("https://127.0.0.1:9"), request_timeout=1)
    with pytest.raises(TrainingJobSpecError):
        kube.submit(bad, kube.handle(bad))
