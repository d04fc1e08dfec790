"""DeployModelOperator: the local backend for real; Kubernetes manifests against the official schema and an
unreachable API server (no cluster runs here). The local test uses Spark: run under the Spark lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from airflow_mlplat.hooks.model_service import KubernetesModelServiceHook, ModelServiceError
from airflow_mlplat.operators.deploy_model import DeployModelOperator
from airflow_mlplat.services.process import port_open
from tests.kube_unreachable import call_bounded, closed_port, kubeconfig


def _kube_operator(**overrides) -> DeployModelOperator:
    args = dict(
        task_id="deploy",
        service_name="purchase-intent",
        models=["models:/pi@champion=0.9", "models:/pi@challenger=0.1"],
        backend="kubernetes",
        image="registry.local/mlplat:1.0",
        tracking_uri="http://mlflow:5000",
        namespace="ml",
        min_replicas=2,
        max_replicas=8,
    )
    return DeployModelOperator(**{**args, **overrides})


@pytest.mark.parametrize("autoscale_on", ["cpu", "rps"])
def test_kubernetes_manifests_match_the_official_schema(autoscale_on):
    from airflow_mlplat.kube.schema import validate_manifests
    from airflow_mlplat.serving.kube_manifests import RPS_METRIC, build_manifests

    spec = _kube_operator(autoscale_on=autoscale_on, target_rps=40).service_spec()
    deployment, service, hpa = validate_manifests(build_manifests(spec))
    pod = deployment["spec"]["template"]["spec"]["containers"][0]
    assert pod["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert pod["resources"]["requests"] == {"cpu": "500m", "memory": "512Mi"}
    assert pod["args"][-4:] == ["--model", "models:/pi@champion=0.9", "--model", "models:/pi@challenger=0.1"]
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 8)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "purchase-intent"}
    metric = hpa["spec"]["metrics"][0]
    if autoscale_on == "cpu":
        assert metric["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}
    else:
        assert metric["pods"]["metric"]["name"] == RPS_METRIC and metric["pods"]["target"]["averageValue"] == "40"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"service_name": "Purchase_Intent"}, "name must be a DNS label"),
        ({"min_replicas": 5, "max_replicas": 2}, "min_replicas <= max_replicas"),
        ({"autoscale_on": "memory"}, "autoscale_on must be 'cpu' or 'rps'"),
        ({"target_cpu_percent": 0}, "target_cpu_percent"),
        ({"image": ""}, "image is required"),
    ],
)
def test_invalid_kubernetes_settings_name_the_field(overrides, message):
    with pytest.raises(ValueError, match=message):
        _kube_operator(**overrides).service_spec()


def test_unknown_backend_or_action_is_rejected_at_construction():
    with pytest.raises(ValueError, match="backend must be one of"):
        DeployModelOperator(task_id="d", service_name="s", models=["models:/m@a"], backend="docker")
    with pytest.raises(ValueError, match="action must be one of"):
        DeployModelOperator(task_id="d", service_name="s", models=["models:/m@a"], action="restart")


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_unreachable_api_server_fails_clearly(kind, request):
    port = request.getfixturevalue("silent_port") if kind == "silent" else closed_port()
    server = f"https://127.0.0.1:{port}"
    hook = KubernetesModelServiceHook(None, request_timeout=1, config_dict=kubeconfig(server))
    spec = _kube_operator().service_spec()
    outcome = call_bounded(lambda: hook.deploy(spec))
    error = outcome.get("error")
    assert isinstance(error, ModelServiceError), outcome
    assert f"Kubernetes API at {server} unreachable while applying Deployment/purchase-intent in namespace ml" in str(
        error
    )
    outcome = call_bounded(lambda: hook.stop("purchase-intent", "ml"))
    assert isinstance(outcome.get("error"), ModelServiceError)
    assert "deleting HorizontalPodAutoscaler/purchase-intent" in str(outcome["error"])


def test_operator_module_imports_nothing_heavy():
    code = (
        "import sys, airflow_mlplat.operators.deploy_model\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'kubernetes', 'fastapi', 'mlflow', 'pyspark', "
        "'kubernetes_validate', 'uvicorn'}\n"
        "sys.exit(str(sorted(heavy)) if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_local_backend_deploys_replaces_and_stops(registered, tmp_path):
    common = dict(
        service_name="pi-local",
        backend="local",
        tracking_uri=registered["uri"],
        state_root=str(tmp_path / "services"),
        poll_interval=0.5,
    )
    deploy = DeployModelOperator(task_id="deploy", models=[f"models:/{registered['name']}@champion"], **common)
    first = deploy.execute({})
    assert first["versions"] == {"champion": "1"}
    answer = httpx.post(f"{first['url']}/predict", json=registered["rows"][0]).json()
    assert answer["version"] == "1"

    redeploy = DeployModelOperator(task_id="redeploy", models=[f"models:/{registered['name']}/2"], **common)
    second = redeploy.execute({})
    assert second["pid"] != first["pid"] and second["versions"] == {"v2": "2"}
    assert not port_open(first["port"]) or first["port"] == second["port"]

    stop = DeployModelOperator(task_id="stop", action="stop", **common)
    assert stop.execute({})["stopped"] is True
    assert not port_open(second["port"])
    assert stop.execute({})["stopped"] is False


def test_local_backend_reports_a_service_that_cannot_start(tmp_path):
    operator = DeployModelOperator(
        task_id="deploy",
        service_name="broken",
        models=["models:/nope@champion"],
        tracking_uri=f"http://127.0.0.1:{closed_port()}",
        state_root=str(tmp_path / "services"),
    )
    with pytest.raises(ModelServiceError, match=r"model service 'broken'.*(exited|never)"):
        operator.execute({})


def _hook_on(standin) -> KubernetesModelServiceHook:
    return KubernetesModelServiceHook(None, request_timeout=5, config_dict=standin.kubeconfig())


def test_a_redeploy_keeps_the_replica_count_the_hpa_set():
    from tests.launcher.kube_standin import KubeApiStandin

    with KubeApiStandin() as standin:
        hook = _hook_on(standin)
        hook.deploy(_kube_operator().service_spec())
        assert standin.get("Deployment", "ml", "purchase-intent")["spec"]["replicas"] == 2  # min_replicas
        assert standin.names("ml") == {
            "Deployment/purchase-intent", "Service/purchase-intent", "HorizontalPodAutoscaler/purchase-intent"
        }  # fmt: skip
        standin.scale("Deployment", "ml", "purchase-intent", 7)  # as the HPA does under load

        hook.deploy(_kube_operator(image="registry.local/mlplat:1.1", max_replicas=12).service_spec())

        deployment = standin.get("Deployment", "ml", "purchase-intent")
        assert deployment["spec"]["replicas"] == 7
        assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/mlplat:1.1"
        assert standin.get("HorizontalPodAutoscaler", "ml", "purchase-intent")["spec"]["maxReplicas"] == 12
        assert ("PATCH", "/apis/apps/v1/namespaces/ml/deployments/purchase-intent") in standin.requests


def test_an_rps_hpa_is_refused_without_a_custom_metrics_adapter():
    import yaml

    from airflow_mlplat.serving.kube_manifests import RPS_METRIC
    from tests.launcher.kube_standin import KubeApiStandin

    spec = _kube_operator(autoscale_on="rps", target_rps=50).service_spec()
    with KubeApiStandin() as standin:
        hook = _hook_on(standin)
        with pytest.raises(ModelServiceError, match=r"autoscale_on='rps' needs the custom metrics API") as error:
            hook.deploy(spec)
        assert "has no apis/custom.metrics.k8s.io/v1beta1" in str(error.value)
        assert "deploy/prometheus-adapter-rules.yaml" in str(error.value)
        assert standin.names("ml") == set()  # refused before anything was created

        standin.custom_metrics.add("some_other_metric")
        with pytest.raises(ModelServiceError, match=f"lists no pods/{RPS_METRIC}"):
            hook.deploy(spec)

        standin.custom_metrics.add(RPS_METRIC)
        hook.deploy(spec)
        metric = standin.get("HorizontalPodAutoscaler", "ml", "purchase-intent")["spec"]["metrics"][0]
        assert metric["pods"]["metric"]["name"] == RPS_METRIC

    # The shipped adapter rule makes that metric from the counter the service exports.
    rules = yaml.safe_load((Path(__file__).parents[2] / "deploy" / "prometheus-adapter-rules.yaml").read_text())
    [rule] = rules["rules"]["custom"]
    assert rule["name"]["as"] == RPS_METRIC
    assert rule["seriesQuery"].startswith("mlplat_predict_requests_total{")
    assert "rate(" in rule["metricsQuery"]
