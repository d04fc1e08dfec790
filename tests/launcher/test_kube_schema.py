"""airflow_mlplat.kube.schema against the official Kubernetes schema (kubernetes-validate)."""

from __future__ import annotations

import pytest
from kubernetes.client import V1ObjectMeta, V1Service, V1ServicePort, V1ServiceSpec

from airflow_mlplat.kube.schema import ManifestValidationError, to_manifest, validate_manifests


def _deployment(**spec_extra):
    spec = {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "d"}},
        "template": {
            "metadata": {"labels": {"app": "d"}},
            "spec": {"containers": [{"name": "c", "image": "busybox", "ports": [{"containerPort": 80}]}]},
        },
    }
    spec.update(spec_extra)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec}


def test_client_models_and_dicts_validate():
    service = V1Service(
        api_version="v1",
        kind="Service",
        metadata=V1ObjectMeta(name="svc"),
        spec=V1ServiceSpec(cluster_ip="None", ports=[V1ServicePort(port=80)]),
    )
    docs = validate_manifests([service, _deployment()])
    assert docs[0]["spec"]["clusterIP"] == "None"  # camelCase, as the API server gets it
    assert to_manifest(service) == docs[0]
    assert validate_manifests(_deployment())[0]["kind"] == "Deployment"


def test_unknown_field_names_kind_name_and_path():
    with pytest.raises(ManifestValidationError, match=r"Deployment/d \(manifests\[1\]\): spec: .*'replica'") as info:
        validate_manifests([_deployment(), {**_deployment(), "spec": {**_deployment()["spec"], "replica": 2}}])
    assert isinstance(info.value, ValueError)
    assert (info.value.kind, info.value.name) == ("Deployment", "d")


def test_wrong_type_names_the_field():
    bad = _deployment()
    bad["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(ManifestValidationError) as info:
        validate_manifests(bad)
    assert info.value.field == "spec.template.spec.containers[0].ports[0].containerPort"
    assert "Kubernetes 1.37" in str(info.value)


def test_unknown_api_version_and_missing_kind():
    with pytest.raises(ManifestValidationError, match="apps/v9"):
        validate_manifests({"apiVersion": "apps/v9", "kind": "Deployment", "metadata": {"name": "d"}})
    with pytest.raises(ManifestValidationError, match="apiVersion and kind are required"):
        validate_manifests({"metadata": {"name": "d"}})
    with pytest.raises(TypeError):
        validate_manifests([42])
