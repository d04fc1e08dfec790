"""Check Kubernetes manifests against the official OpenAPI schema of one pinned Kubernetes version.

Usage::

    from airflow_mlplat.kube.schema import validate_manifests

    validate_manifests(deployment)                 # a dict, or a kubernetes client model
    validate_manifests([deployment, service, hpa]) # or a list of them
    docs = to_manifest(V1Service(...))             # the camelCase dict the API server would get

``validate_manifests`` returns the list of plain dicts it checked and raises
:class:`ManifestValidationError` (a ``ValueError``) naming the object and the field, e.g.::

    Deployment/my-model (manifests[0]): spec.template.spec.containers[0].ports[0].containerPort:
    'http' is not of type 'integer' (Kubernetes 1.37 schema)

Validation is strict: unknown fields (typos such as ``replica``) are errors too.
``kubernetes_validate`` is imported inside the functions so DAG files can import this module cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: The Kubernetes version whose schema every manifest of the platform is checked against
#: (the newest that the installed kubernetes-validate ships).
KUBERNETES_VERSION = "1.37.0"


class ManifestValidationError(ValueError):
    """A manifest does not match the Kubernetes schema; the message names kind/name and the field path."""

    def __init__(self, message: str, *, kind: str = "", name: str = "", field: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.field = field


def to_manifest(obj: Any) -> dict[str, Any]:
    """A manifest as the plain camelCase dict the API server receives.

    Accepts a dict (returned as a copy with ``None`` values dropped, as the client does) or any
    ``kubernetes.client`` model (serialized with ``ApiClient().sanitize_for_serialization``;
    note that a model's ``to_dict()`` uses snake_case and would not validate).
    """
    if isinstance(obj, Mapping):
        return _drop_none(dict(obj))
    if hasattr(obj, "openapi_types") and hasattr(obj, "attribute_map"):
        from kubernetes.client import ApiClient

        return ApiClient().sanitize_for_serialization(obj)
    raise TypeError(f"a manifest must be a dict or a kubernetes client model, got {type(obj).__name__}")


def validate_manifests(
    manifests: Any,
    *,
    version: str = KUBERNETES_VERSION,
    strict: bool = True,
) -> list[dict[str, Any]]:
    """Validate one manifest or a list of manifests; return them as plain dicts.

    ``manifests``: a dict, a kubernetes client model, or an iterable of those (a ``kind: List``
    dict is expanded into its ``items``). ``version``: the Kubernetes version of the schema.
    ``strict``: reject fields the schema does not know.

    Raises :class:`ManifestValidationError` for the first manifest that does not validate, or whose
    ``apiVersion``/``kind`` has no schema in that version.
    """
    import kubernetes_validate

    if isinstance(manifests, Mapping) or not isinstance(manifests, Iterable):
        manifests = [manifests]
    docs: list[dict[str, Any]] = []
    for item in manifests:
        doc = to_manifest(item)
        if doc.get("kind") == "List":
            docs.extend(to_manifest(sub) for sub in doc.get("items", []))
        else:
            docs.append(doc)
    for index, doc in enumerate(docs):
        kind = str(doc.get("kind") or "")
        name = str((doc.get("metadata") or {}).get("name") or "")
        where = f"{kind or '<no kind>'}/{name or '<no name>'} (manifests[{index}])"
        if not kind or not doc.get("apiVersion"):
            raise ManifestValidationError(f"{where}: apiVersion and kind are required", kind=kind, name=name)
        try:
            kubernetes_validate.validate(doc, version, strict=strict)
        except kubernetes_validate.ValidationError as err:
            field = _path(err.absolute_path)
            raise ManifestValidationError(
                f"{where}: {field or '<root>'}: {err.message} (Kubernetes {err.version} schema)",
                kind=kind,
                name=name,
                field=field,
            ) from None
        except kubernetes_validate.utils.SchemaNotFoundError as err:
            raise ManifestValidationError(f"{where}: {err.message}", kind=kind, name=name) from None
    return docs


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
