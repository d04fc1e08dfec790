"""DeployModelOperator's runtimes: TF Serving, Triton and the user's own server next to the mlplat service.

Kubernetes manifests are checked against the official schema (no cluster runs here) and applied to the
API stand-in; Triton's config.pbtxt is compared to the exact expected text; the ``custom`` runtime runs a
real command on the local backend. Neither Spark nor a JVM is started.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from airflow_mlplat.hooks.model_service import KubernetesModelServiceHook, ModelServiceError
from airflow_mlplat.operators.deploy_model import DeployModelOperator
from airflow_mlplat.services.process import pid_alive, port_open
from airflow_mlplat.serving.triton_config import TritonConfigError, triton_config

ONNX_SIGNATURE = {
    "inputs": [
        {"name": "ids", "type": "int64", "shape": ["batch", 8]},
        {"name": "dense", "type": "float", "shape": [None, 4]},
    ],
    "outputs": [{"name": "probability", "type": "float", "shape": ["batch", 1]}],
}
# TorchScript records no types or shapes: a Triton deploy of one gives them by hand.
TORCHSCRIPT_SIGNATURE = {
    "inputs": [{"name": "features", "type": "float32", "shape": [-1, 4]}],
    "outputs": [{"name": "output", "type": "float32", "shape": [-1]}],
}


def _kube(runtime: str, **overrides) -> DeployModelOperator:
    args = dict(
        task_id="serve",
        service_name="ctr",
        models=["models:/ctr@champion"],
        backend="kubernetes",
        runtime=runtime,
        image="registry.local/mlplat:1.0",
        tracking_uri="http://mlflow:5000",
        namespace="ml",
        min_replicas=2,
        max_replicas=6,
    )
    return DeployModelOperator(**{**args, **overrides})


def _manifests(operator: DeployModelOperator) -> dict[str, dict]:
    from airflow_mlplat.kube.schema import validate_manifests
    from airflow_mlplat.serving.kube_manifests import build_manifests

    return {doc["kind"]: doc for doc in validate_manifests(build_manifests(operator.service_spec()))}


def _pod(docs: dict[str, dict]) -> dict:
    return docs["Deployment"]["spec"]["template"]["spec"]


def _common_checks(docs: dict[str, dict]) -> None:
    deployment, service, hpa = docs["Deployment"], docs["Service"], docs["HorizontalPodAutoscaler"]
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    assert deployment["spec"]["strategy"] == strategy
    assert deployment["spec"]["replicas"] == 2
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ctr"}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def _fetch_init_container(pod: dict, runtime: str, reference: str) -> None:
    [init] = pod["initContainers"]
    assert init["image"] == "registry.local/mlplat:1.0"
    assert init["command"] + init["args"] == [
        "python", "-m", "airflow_mlplat.serving.model_repository",
        "--model", reference, "--name", "ctr", "--runtime", runtime, "--root", "/models",
    ]  # fmt: skip
    assert {"name": "MLFLOW_TRACKING_URI", "value": "http://mlflow:5000"} in init["env"]
    assert init["volumeMounts"] == [{"name": "models", "mountPath": "/models"}]
    assert {"name": "models", "emptyDir": {}} in pod["volumes"]


def test_tensorflow_serving_manifests_on_a_gpu_type():
    docs = _manifests(_kube("tensorflow-serving", gpu=1, gpu_type="t4"))
    assert set(docs) == {"Deployment", "Service", "HorizontalPodAutoscaler"}
    _common_checks(docs)
    pod = _pod(docs)
    [server] = pod["containers"]
    assert server["image"] == "tensorflow/serving:2.19.0"
    assert server["command"] == ["tensorflow_model_server"]
    assert server["args"] == ["--rest_api_port=8501", "--model_name=ctr", "--model_base_path=/models/ctr"]
    assert server["readinessProbe"]["httpGet"] == {"path": "/v1/models/ctr", "port": 8501}
    assert {"name": "http", "containerPort": 8501} in server["ports"]
    assert server["volumeMounts"] == [{"name": "models", "mountPath": "/models", "readOnly": True}]
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert server["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "Tesla-T4"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    _fetch_init_container(pod, "tensorflow-serving", "models:/ctr@champion")

    tagged = _pod(_manifests(_kube("tensorflow-serving", runtime_tag="2.18.1")))
    assert tagged["containers"][0]["image"] == "tensorflow/serving:2.18.1"
    assert "nodeSelector" not in tagged and "tolerations" not in tagged  # no GPU asked


@pytest.mark.parametrize(
    ("fmt", "signature", "platform", "model_file"),
    [
        ("onnx", ONNX_SIGNATURE, "onnxruntime_onnx", "model.onnx"),
        ("torchscript", TORCHSCRIPT_SIGNATURE, "pytorch_libtorch", "model.pt"),
    ],
)
def test_triton_manifests_mount_the_generated_config(fmt, signature, platform, model_file):
    from airflow_mlplat.serving.triton_config import MODEL_FILES

    operator = _kube(
        "triton", models=["models:/ctr/3"], model_format=fmt, signature=signature, max_batch_size=32, gpu=0.5
    )
    docs = _manifests(operator)
    _common_checks(docs)
    config = docs["ConfigMap"]
    assert config["metadata"]["name"] == "ctr-triton"
    text = config["data"]["config.pbtxt"]
    assert text == triton_config("ctr", fmt, signature, max_batch_size=32)
    assert f'platform: "{platform}"' in text and "max_batch_size: 32" in text
    assert MODEL_FILES[fmt] == model_file  # where the init container puts the model: /models/ctr/1/<file>
    pod = _pod(docs)
    [server] = pod["containers"]
    assert server["image"] == "nvcr.io/nvidia/tritonserver:25.01-py3"
    assert server["command"] == ["tritonserver"] and "--model-repository=/models" in server["args"]
    assert server["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": 8000}
    assert {"name": "triton-config", "mountPath": "/models/ctr/config.pbtxt", "subPath": "config.pbtxt",
            "readOnly": True} in server["volumeMounts"]  # fmt: skip
    assert {"name": "triton-config", "configMap": {"name": "ctr-triton"}} in pod["volumes"]
    # A fractional GPU is one unit of the shared-GPU resource (time-slicing), as in the launcher.
    assert server["resources"]["limits"]["nvidia.com/gpu.shared"] == "1"
    assert "nvidia.com/gpu" not in server["resources"]["limits"]
    assert "nodeSelector" not in pod
    _fetch_init_container(pod, "triton", "models:/ctr/3")
    # A changed config must roll the pods (a subPath mount is never updated in place).
    other = _manifests(_kube("triton", models=["models:/ctr/3"], model_format=fmt, signature=signature))
    annotation = "airflow-mlplat/config-sha256"
    hashes = {d["Deployment"]["spec"]["template"]["metadata"]["annotations"][annotation] for d in (docs, other)}
    assert len(hashes) == 2
    assert _pod(other)["containers"][0]["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}


def test_custom_manifests_run_the_users_image_on_two_gpus():
    operator = _kube(
        "custom",
        image="registry.local/my-ranker:7",
        command=["ranker-server"],
        args=["--listen", "0.0.0.0:{port}", "--workers", "2"],
        port=9000,
        health_path="/ready",
        env={"RANKER_MODE": "fast"},
        gpu=2,
        gpu_type="a100",
    )
    docs = _manifests(operator)
    _common_checks(docs)
    pod = _pod(docs)
    [server] = pod["containers"]
    assert server["image"] == "registry.local/my-ranker:7"
    assert server["command"] == ["ranker-server"]
    assert server["args"] == ["--listen", "0.0.0.0:9000", "--workers", "2"]
    assert server["ports"] == [{"name": "http", "containerPort": 9000}]
    assert server["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 9000}
    env = {e["name"]: e["value"] for e in server["env"]}
    assert env == {"MLFLOW_TRACKING_URI": "http://mlflow:5000", "MLPLAT_MODELS": "models:/ctr@champion",
                   "RANKER_MODE": "fast"}  # fmt: skip
    assert server["resources"]["requests"]["nvidia.com/gpu"] == "2"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}
    [term] = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": "nvidia.com/gpu.count", "operator": "Gt", "values": ["1"]}]
    assert "initContainers" not in pod and "volumes" not in pod


def test_triton_config_from_an_onnx_signature_with_dynamic_batching():
    text = triton_config("ctr", "onnx", ONNX_SIGNATURE, max_batch_size=64, max_queue_delay_microseconds=200)
    assert text == (
        'name: "ctr"\n'
        'platform: "onnxruntime_onnx"\n'
        "max_batch_size: 64\n"
        "input [\n"
        "  {\n"
        '    name: "ids"\n'
        "    data_type: TYPE_INT64\n"
        "    dims: [ 8 ]\n"
        "  },\n"
        "  {\n"
        '    name: "dense"\n'
        "    data_type: TYPE_FP32\n"
        "    dims: [ 4 ]\n"
        "  }\n"
        "]\n"
        "output [\n"
        "  {\n"
        '    name: "probability"\n'
        "    data_type: TYPE_FP32\n"
        "    dims: [ 1 ]\n"
        "  }\n"
        "]\n"
        "dynamic_batching {\n"
        "  max_queue_delay_microseconds: 200\n"
        "}\n"
    )
    # Without batching every dimension stays; unknown ones are -1. A batch-only tensor is reshaped.
    unbatched = triton_config("ctr", "onnx", ONNX_SIGNATURE)
    assert "max_batch_size: 0" in unbatched and "dims: [ -1, 8 ]" in unbatched and "dynamic_batching" not in unbatched
    scores = {"inputs": [{"name": "x", "type": "double", "shape": ["n"]}], "outputs": ONNX_SIGNATURE["outputs"]}
    reshaped = triton_config("s", "onnx", scores, max_batch_size=8)
    assert "data_type: TYPE_FP64\n    dims: [ 1 ]\n    reshape: { shape: [ ] }" in reshaped


@pytest.mark.parametrize(
    ("signature", "options", "message"),
    [
        ({"inputs": [{"name": "when", "type": "complex64", "shape": [None, 2]}], "outputs": [{"name": "y",
          "type": "float", "shape": [None]}]}, {}, r"input 'when' has type 'complex64', which has no Triton data type"),
        ({"inputs": [{"name": "features", "type": "Tensor"}], "outputs": [{"name": "output", "type": "Tensor"}]},
         {}, r"input 'features' has type 'Tensor'"),
        ({"inputs": [{"name": "features", "type": "float"}], "outputs": [{"name": "y", "type": "float",
          "shape": [None]}]}, {}, r"input 'features' has no shape"),
        ({"inputs": [{"name": "x", "type": "float", "shape": [2, 4]}], "outputs": [{"name": "y", "type": "float",
          "shape": [2]}]}, {"max_batch_size": 8}, r"input 'x' has a fixed first dimension \(2\)"),
        (ONNX_SIGNATURE, {"max_queue_delay_microseconds": 100}, "dynamic batching needs max_batch_size > 0"),
    ],
)  # fmt: skip
def test_triton_config_refuses_what_triton_cannot_serve(signature, options, message):
    with pytest.raises(TritonConfigError, match=message) as error:
        triton_config("ctr", "onnx", signature, **options)
    assert "model 'ctr'" in str(error.value)


# -- the custom runtime on the local backend -------------------------------------------------------


def _http_server(pid_file: Path) -> list[str]:
    """``python -m http.server {port}`` on 127.0.0.1 that first writes its PID (to check the process by PID)."""
    script = (
        "import os, runpy, sys; open(sys.argv[1], 'w').write(str(os.getpid())); "
        "sys.argv = ['http.server', sys.argv[2], '--bind', '127.0.0.1']; runpy.run_module('http.server', "
        "run_name='__main__')"
    )
    return [sys.executable, "-c", script, str(pid_file), "{port}"]


def _local_custom(tmp_path: Path, task_id: str, command: list[str], **overrides) -> DeployModelOperator:
    args = dict(
        task_id=task_id,
        service_name="my-server",
        backend="local",
        runtime="custom",
        command=command,
        health_path="/",
        state_root=str(tmp_path / "services"),
        startup_timeout=30,
    )
    return DeployModelOperator(**{**args, **overrides})


def test_custom_runtime_runs_a_user_command_deploys_replaces_and_stops(tmp_path):
    (tmp_path / "www").mkdir()
    first = _local_custom(tmp_path, "deploy", [*_http_server(tmp_path / "first.pid")]).execute({})
    first_pid = int((tmp_path / "first.pid").read_text())
    assert first["pid"] == first_pid and pid_alive(first_pid)
    assert first["health_url"] == f"http://127.0.0.1:{first['port']}/"
    assert httpx.get(first["health_url"]).status_code == 200

    second = _local_custom(tmp_path, "redeploy", _http_server(tmp_path / "second.pid")).execute({})
    second_pid = int((tmp_path / "second.pid").read_text())
    assert second_pid != first_pid and not pid_alive(first_pid)  # the redeploy replaced the process
    assert httpx.get(second["health_url"]).status_code == 200

    stop = DeployModelOperator(
        task_id="stop", service_name="my-server", action="stop", runtime="custom", state_root=str(tmp_path / "services")
    )
    assert stop.execute({})["stopped"] is True
    assert not pid_alive(second_pid) and not port_open(second["port"])
    assert stop.execute({})["stopped"] is False


def test_a_custom_command_that_never_becomes_healthy_fails_clearly_and_leaves_no_process(tmp_path):
    operator = _local_custom(tmp_path, "deploy", _http_server(tmp_path / "server.pid"), health_path="/ready",
                             startup_timeout=3)  # fmt: skip
    with pytest.raises(ModelServiceError) as error:
        operator.execute({})
    message = str(error.value)
    assert "model service 'my-server': GET http://127.0.0.1:" in message and "/ready did not answer 200" in message
    assert "last answer: HTTP 404" in message
    assert '"GET /ready HTTP/1.1" 404' in message  # the log's tail
    assert not pid_alive(int((tmp_path / "server.pid").read_text()))


def test_a_custom_command_that_exits_names_the_health_url_and_the_log(tmp_path):
    command = [sys.executable, "-c", "import sys; print('cannot load the model', file=sys.stderr); sys.exit(3)"]
    with pytest.raises(ModelServiceError, match=r"/healthz never answered 200: .*exited with code 3") as error:
        _local_custom(tmp_path, "deploy", command, health_path="/healthz").execute({})
    assert "cannot load the model" in str(error.value)


# -- bad settings ----------------------------------------------------------------------------------


def test_an_unknown_runtime_is_refused_at_construction():
    with pytest.raises(ValueError) as error:
        DeployModelOperator(task_id="serve_it", service_name="s", models=["models:/m@a"], runtime="torchserve")
    assert str(error.value) == (
        "DeployModelOperator serve_it: runtime must be one of mlplat, tensorflow-serving, triton, custom, "
        "got 'torchserve'"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"runtime": "tensorflow-serving"}, r"runtime 'tensorflow-serving' needs backend='kubernetes'"),
        ({"runtime": "triton"}, r"runtime 'triton' needs backend='kubernetes'"),
        ({"runtime": "custom", "health_path": "/"}, r"runtime 'custom' on the local backend needs command"),
        ({"runtime": "custom", "command": "python -m http.server"}, r"command must be a list of strings"),
        ({"runtime": "custom", "command": ["srv"]}, r"runtime 'custom' needs health_path"),
        ({"runtime": "custom", "backend": "kubernetes", "port": 80, "health_path": "/"},
         r"runtime 'custom' on the kubernetes backend needs image"),
        ({"runtime": "custom", "backend": "kubernetes", "image": "me/srv:1", "health_path": "/"},
         r"runtime 'custom' on the kubernetes backend needs port"),
    ],
)  # fmt: skip
def test_runtime_settings_are_checked_at_construction(overrides, message):
    with pytest.raises(ValueError, match=message) as error:
        DeployModelOperator(task_id="serve_it", service_name="s", models=["models:/m@a"], **overrides)
    assert str(error.value).startswith("DeployModelOperator serve_it: ")


def test_a_templated_runtime_is_checked_once_rendered(tmp_path):
    operator = DeployModelOperator(
        task_id="serve_it", service_name="s", models=["models:/m@a"], runtime="{{ params.runtime }}"
    )
    operator.runtime = "tensorflow-serving"  # what rendering the template gave
    with pytest.raises(ValueError, match=r"serve_it: runtime 'tensorflow-serving' needs backend='kubernetes'"):
        operator.execute({})


@pytest.mark.parametrize(
    ("runtime", "overrides", "message"),
    [
        ("tensorflow-serving", {"models": ["models:/a@x", "models:/b@y"]}, r"serves one models:/NAME@ALIAS"),
        ("triton", {"models": ["models:/ctr@champion=0.5"]}, r"without a traffic share"),
        ("tensorflow-serving", {"model_format": "onnx"}, r"serves savedmodel models, and models:/ctr@champion is onnx"),
        ("triton", {"model_format": "savedmodel"}, r"serves onnx, torchscript models"),
        ("triton", {"model_format": "onnx", "signature": {"inputs": [{"name": "q", "type": "complex64",
         "shape": [1]}], "outputs": []}}, r"input 'q' has type 'complex64'"),
        ("triton", {"autoscale_on": "rps"}, r"autoscale_on='rps' reads the mlplat service's request counter"),
        ("tensorflow-serving", {"gpu_type": "k80", "gpu": 1}, r"gpu_type 'k80' maps to no node label"),
        ("tensorflow-serving", {"gpu_type": "t4"}, r"gpu_type 't4' is set but no GPU is asked for"),
        ("tensorflow-serving", {"gpu": 1.5}, r"gpu must be a whole number of GPUs or a share below 1"),
        ("tensorflow-serving", {"image": ""}, r"image is required for the kubernetes backend \(an image with "
         r"airflow-mlplat installed: its init container fetches the model\)"),
        ("custom", {"image": "me/srv:1", "port": 8080, "health_path": "ready"}, r"health_path, a path starting"),
    ],
)  # fmt: skip
def test_invalid_runtime_settings_name_the_field(runtime, overrides, message):
    with pytest.raises(ValueError, match=message) as error:
        _kube(runtime, **overrides).service_spec()
    assert "model service 'ctr'" in str(error.value)


def test_triton_needs_a_format_and_signature_to_build_its_manifests():
    from airflow_mlplat.serving.kube_manifests import build_manifests

    with pytest.raises(ValueError, match=r"runtime 'triton' needs the model's format and signature"):
        build_manifests(_kube("triton").service_spec())


# -- applying to the API stand-in ------------------------------------------------------------------


def test_switching_runtimes_replaces_the_deployment_and_stop_removes_the_config():
    from tests.launcher.kube_standin import KubeApiStandin

    triton = _kube("triton", model_format="onnx", signature=ONNX_SIGNATURE, max_batch_size=16)
    with KubeApiStandin() as standin:
        hook = KubernetesModelServiceHook(None, request_timeout=5, config_dict=standin.kubeconfig())
        result = hook.deploy(triton.service_spec())
        assert result["objects"] == ["ConfigMap/ctr-triton", "Deployment/ctr", "Service/ctr",
                                     "HorizontalPodAutoscaler/ctr"]  # fmt: skip
        assert "max_batch_size: 16" in standin.get("ConfigMap", "ml", "ctr-triton")["data"]["config.pbtxt"]
        standin.scale("Deployment", "ml", "ctr", 5)  # as the HPA does under load

        # Back to the mlplat service: a merge patch would keep Triton's container, init container and
        # volumes beside the new one, so the Deployment is replaced whole, keeping the HPA's count.
        hook.deploy(_kube("mlplat").service_spec())
        deployment = standin.get("Deployment", "ml", "ctr")
        pod = deployment["spec"]["template"]["spec"]
        assert [c["name"] for c in pod["containers"]] == ["model-service"]
        assert "initContainers" not in pod and "volumes" not in pod
        assert deployment["spec"]["replicas"] == 5
        assert ("PUT", "/apis/apps/v1/namespaces/ml/deployments/ctr") in standin.requests

        # mlplat -> mlplat stays a patch, as before the runtimes existed.
        hook.deploy(_kube("mlplat", image="registry.local/mlplat:1.1").service_spec())
        assert standin.requests.count(("PATCH", "/apis/apps/v1/namespaces/ml/deployments/ctr")) == 1

        assert hook.stop("ctr", "ml") is True
        assert standin.names("ml") == set()


# -- the init container's model repository, against a real MLflow server ---------------------------


def _tiny_onnx(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["features"], ["probability"], keepdims=1)],
        "tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, str(path))


def test_a_registered_onnx_model_is_described_and_laid_out_for_triton(mlflow_server, tmp_path):
    import subprocess

    from mlflow import MlflowClient

    from airflow_mlplat.modelzoo.upload import upload_model
    from airflow_mlplat.serving.model_repository import describe_version
    from tests.launcher.kube_standin import KubeApiStandin

    _tiny_onnx(tmp_path / "tiny.onnx")
    registered = upload_model(tmp_path / "tiny.onnx", name="tiny_ctr", fmt="onnx", tracking_uri=mlflow_server)
    MlflowClient(mlflow_server).set_registered_model_alias("tiny_ctr", "champion", str(registered["version"]))
    described = describe_version("models:/tiny_ctr@champion", mlflow_server)
    assert (described.format, described.signature) == ("onnx", registered["signature"])

    # The init container's command, run here: the model lands where Triton reads it.
    root = tmp_path / "models"
    command = [sys.executable, "-m", "airflow_mlplat.serving.model_repository", "--model",
               "models:/tiny_ctr@champion", "--name", "tiny_ctr", "--runtime", "triton", "--root", str(root),
               "--tracking-uri", mlflow_server]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == ["tiny_ctr/1/model.onnx"]
    assert (root / "tiny_ctr" / "1" / "model.onnx").read_bytes() == (tmp_path / "tiny.onnx").read_bytes()
    # TF Serving serves SavedModels only: the init container fails naming the format.
    command[command.index("triton")] = "tensorflow-serving"
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "is a onnx model; tensorflow-serving serves savedmodel" in refused.stderr

    # Deploying on Triton without a signature reads it from the version's tags.
    operator = _kube("triton", service_name="tiny", models=["models:/tiny_ctr@champion"], tracking_uri=mlflow_server,
                     max_batch_size=8)  # fmt: skip
    with KubeApiStandin() as standin:
        hook = KubernetesModelServiceHook(None, request_timeout=5, config_dict=standin.kubeconfig())
        hook.deploy(operator.service_spec())
        config = standin.get("ConfigMap", "ml", "tiny-triton")["data"]["config.pbtxt"]
    assert config == triton_config("tiny_ctr", "onnx", registered["signature"], max_batch_size=8)
