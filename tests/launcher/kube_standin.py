"""A stand-in of the Kubernetes API, not a cluster: the REST subset the launcher's kubernetes backend uses.

No API server can run here, so tests point the backend (through the cncf-kubernetes hook and the
official client) at this HTTP server on 127.0.0.1. It answers, for one or more namespaces:

- create (POST), read (GET NAME), list (GET, ``labelSelector`` with ``k=v``, ``k==v``, ``k!=v``),
  patch (PATCH NAME), replace (PUT NAME: the whole object, 409 Conflict on a stale
  ``resourceVersion``) and delete (DELETE) of ConfigMaps, PersistentVolumeClaims, Services, Pods
  (core/v1), Deployments (apps/v1), Jobs (batch/v1), Ingresses (networking.k8s.io/v1) and
  HorizontalPodAutoscalers (autoscaling/v2). A patch is a merge patch (``merge-patch+json`` or
  ``strategic-merge-patch+json``; lists are replaced whole, a simplification of the strategic
  merge) and the result is checked against the schema; an object sent as ``json-patch+json``
  is refused with 400, as an API server refuses it (a JSON patch is a list of operations);
- pod logs (``GET .../pods/NAME/log``, ``tailLines``), text set by the test with ``set_log``;
- custom-metrics discovery (``GET /apis/custom.metrics.k8s.io/v1beta1``): 404 like a cluster
  without a metrics adapter, until the test adds metric names to ``custom_metrics``.

Like an API server it assigns ``uid``, ``resourceVersion`` and ``creationTimestamp``, answers
``Status`` objects (409 AlreadyExists, 404 NotFound, 422 Invalid, 400 BadRequest), checks every
created body against the official Kubernetes schema (``airflow_mlplat.kube.schema``), and on
delete removes the objects whose every ownerReference points at a deleted uid (the garbage
collector's cascade; ``propagationPolicy: Orphan`` keeps them).

Nothing runs: no controller creates pods or moves a status. The test does, with
``set_job_status``, ``add_pod``, ``create_pods`` (one pod per Job and Deployment, owned by it, with
the template's labels: the Deployment -> ReplicaSet step is skipped) and ``set_log``; and it
injects failures with ``fail_next``. ``requests`` records every ``(method, path)`` answered.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["KIND_OF", "KubeApiStandin", "ago"]

#: URL prefix and plural -> (kind, apiVersion) of every resource the stand-in serves.
KIND_OF: Mapping[tuple[str, str], tuple[str, str]] = {
    ("api/v1", "configmaps"): ("ConfigMap", "v1"),
    ("api/v1", "persistentvolumeclaims"): ("PersistentVolumeClaim", "v1"),
    ("api/v1", "services"): ("Service", "v1"),
    ("api/v1", "pods"): ("Pod", "v1"),
    ("apis/apps/v1", "deployments"): ("Deployment", "apps/v1"),
    ("apis/batch/v1", "jobs"): ("Job", "batch/v1"),
    ("apis/networking.k8s.io/v1", "ingresses"): ("Ingress", "networking.k8s.io/v1"),
    ("apis/autoscaling/v2", "horizontalpodautoscalers"): ("HorizontalPodAutoscaler", "autoscaling/v2"),
}
CUSTOM_METRICS_API = "apis/custom.metrics.k8s.io/v1beta1"
_PLURAL = {kind: plural for (_, plural), (kind, _) in KIND_OF.items()}


def ago(seconds: float) -> str:
    """An RFC 3339 timestamp ``seconds`` before now, as the API server writes them."""
    return (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


class _ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.details = code, reason, details or {}

    def status(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": str(self),
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        }


def _not_found(plural: str, name: str) -> _ApiError:
    return _ApiError(404, "NotFound", f'{plural} "{name}" not found', {"name": name, "kind": plural})


def _matches(labels: Mapping[str, str], selector: str) -> bool:
    for term in filter(None, (part.strip() for part in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.strip() not in labels:
            return False
    return True


class KubeApiStandin:
    """A stand-in of the Kubernetes API (not a cluster), served on ``url`` while started.

    Use as a context manager (or ``start``/``stop``). Objects are plain camelCase dicts kept in
    memory; the test helpers read and change them under the same lock the handlers take.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (plural, namespace, name)
        self._logs: dict[tuple[str, str], str] = {}
        self._version = 0
        self._failures: list[tuple[int | None, str | None]] = []
        self.requests: list[tuple[str, str]] = []
        #: Per-pod metrics the custom metrics API lists (empty: no adapter, discovery answers 404).
        self.custom_metrics: set[str] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- server ---------------------------------------------------------------------------
    def start(self) -> KubeApiStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
                pass

            def do_GET(self) -> None:
                standin._serve(self, "GET")

            def do_POST(self) -> None:
                standin._serve(self, "POST")

            def do_DELETE(self) -> None:
                standin._serve(self, "DELETE")

            def do_PUT(self) -> None:
                standin._serve(self, "PUT")

            def do_PATCH(self) -> None:
                standin._serve(self, "PATCH")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="kube-api-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(10)
            self._server = self._thread = None

    def __enter__(self) -> KubeApiStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "the stand-in is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self) -> dict[str, Any]:
        """A kubeconfig dict pointing at the stand-in (for ``config_dict=`` or a connection's ``kube_config``)."""
        from tests.kube_unreachable import kubeconfig

        return kubeconfig(self.url)

    # -- failure injection ----------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int | None = 500, *, method: str | None = None) -> None:
        """Answer the next ``n`` requests (of ``method`` only, if given) with a ``status`` error.

        ``status=None`` closes the connection without answering. urllib3 retries an idempotent
        request (GET, DELETE) whose connection was dropped up to 3 times, so dropping one client
        call takes 4 failures.
        """
        with self._lock:
            self._failures.extend([(status, method)] * n)

    def heal(self) -> None:
        """Forget the failures still queued by ``fail_next``."""
        with self._lock:
            self._failures.clear()

    # -- test helpers ---------------------------------------------------------------------
    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object (a copy), or None."""
        with self._lock:
            obj = self._objects.get((_PLURAL[kind], namespace, name))
            return json.loads(json.dumps(obj)) if obj is not None else None

    def names(self, namespace: str, kinds: Iterable[str] | None = None) -> set[str]:
        """``Kind/name`` of every object in ``namespace`` (of ``kinds``, if given)."""
        plurals = {_PLURAL[k] for k in kinds} if kinds is not None else set(_PLURAL.values())
        kind_of = {plural: kind for kind, plural in _PLURAL.items()}
        with self._lock:
            return {f"{kind_of[p]}/{name}" for (p, ns, name) in self._objects if ns == namespace and p in plurals}

    def set_job_status(
        self,
        namespace: str,
        name: str,
        *,
        succeeded: int | None = None,
        failed: int | None = None,
        active: int | None = None,
        conditions: list[dict[str, Any]] | None = None,
    ) -> None:
        """Set fields of Job ``name``'s status; a condition gets ``status: True`` and timestamps by default."""
        with self._lock:
            status = self._require("jobs", namespace, name).setdefault("status", {})
            for key, value in (("succeeded", succeeded), ("failed", failed), ("active", active)):
                if value is not None:
                    status[key] = value
            if conditions is not None:
                now = ago(0)
                status["conditions"] = [
                    {"status": "True", "lastProbeTime": now, "lastTransitionTime": now, **c} for c in conditions
                ]

    def succeed_jobs(self, namespace: str, selector: str = "") -> list[str]:
        """Mark every Job matching ``selector`` complete (``succeeded: 1`` and a Complete condition)."""
        with self._lock:
            names = [o["metadata"]["name"] for o in self._list("jobs", namespace, selector)]
        for name in names:
            self.set_job_status(namespace, name, succeeded=1, conditions=[{"type": "Complete"}])
        return names

    def add_pod(
        self,
        namespace: str,
        name: str,
        labels: Mapping[str, str],
        phase: str = "Running",
        *,
        container_statuses: list[dict[str, Any]] | None = None,
        init_container_statuses: list[dict[str, Any]] | None = None,
        conditions: list[dict[str, Any]] | None = None,
        created: str | None = None,
        owner: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store pod ``name`` as a kubelet would report it; returns it.

        A container status needs only what the test cares about (``state``, ``restartCount``,
        ``name`` defaults to ``main``); the fields the client requires are filled in.
        ``created``: its ``creationTimestamp`` (``ago(...)``); ``owner``: the object owning it.
        """

        def filled(statuses: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
            base = {"name": "main", "image": "image", "imageID": "", "ready": phase == "Running", "restartCount": 0}
            return [{**base, **s} for s in statuses] if statuses is not None else None

        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": {"containers": [{"name": "main", "image": "image"}]},
            "status": {"phase": phase},
        }
        if owner is not None:
            meta = owner["metadata"]
            ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta["name"], "uid": meta["uid"]}
            pod["metadata"]["ownerReferences"] = [{**ref, "controller": True, "blockOwnerDeletion": True}]
        for key, value in (
            ("containerStatuses", filled(container_statuses)),
            ("initContainerStatuses", filled(init_container_statuses)),
            ("conditions", conditions),
        ):
            if value is not None:
                pod["status"][key] = value
        with self._lock:
            if ("pods", namespace, name) in self._objects:
                raise ValueError(f"pod {name} exists in the stand-in")
            self._store("pods", namespace, pod)
            if created is not None:
                pod["metadata"]["creationTimestamp"] = created
            return json.loads(json.dumps(pod))

    def create_pods(self, namespace: str, phase: str = "Running", selector: str = "", **pod: Any) -> dict[str, str]:
        """One pod per Job and Deployment matching ``selector`` (as their controllers would); ``{owner: pod}``.

        The pod is ``OWNER-<5 chars>``, has the template's labels and an ownerReference to its
        owner; ``pod`` holds ``add_pod``'s keyword arguments (container statuses, conditions, ...).
        """
        with self._lock:
            owners = self._list("jobs", namespace, selector) + self._list("deployments", namespace, selector)
        out = {}
        for owner in owners:
            name = owner["metadata"]["name"]
            labels = owner["spec"]["template"].get("metadata", {}).get("labels", {})
            out[name] = f"{name}-{owner['metadata']['uid'][:5]}"
            self.add_pod(namespace, out[name], labels, phase, owner=owner, **pod)
        return out

    def patch_status(self, kind: str, namespace: str, name: str, **fields: Any) -> None:
        """Set top-level ``status`` fields of an object (camelCase keys, e.g. ``phase="Running"``)."""
        with self._lock:
            self._require(_PLURAL[kind], namespace, name).setdefault("status", {}).update(fields)

    def scale(self, kind: str, namespace: str, name: str, replicas: int) -> None:
        """Set ``spec.replicas`` as a controller does (an HPA scaling a Deployment)."""
        with self._lock:
            self._require(_PLURAL[kind], namespace, name)["spec"]["replicas"] = replicas

    def delete(self, kind: str, namespace: str, name: str) -> None:
        """Delete an object as a DELETE request would (cascading to what it owns), without a request."""
        with self._lock:
            self._delete(_PLURAL[kind], namespace, name, None)

    def set_log(self, namespace: str, pod: str, text: str) -> None:
        with self._lock:
            self._logs[(namespace, pod)] = text

    # -- internals ------------------------------------------------------------------------
    def _require(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        obj = self._objects.get((plural, namespace, name))
        if obj is None:
            raise _not_found(plural, name)
        return obj

    def _list(self, plural: str, namespace: str, selector: str) -> list[dict[str, Any]]:
        return [
            obj
            for (p, ns, _), obj in sorted(self._objects.items())
            if p == plural and ns == namespace and _matches(obj["metadata"].get("labels") or {}, selector)
        ]

    def _store(self, plural: str, namespace: str, obj: dict[str, Any]) -> None:
        self._version += 1
        meta = obj["metadata"]
        meta.update(namespace=namespace, uid=str(uuid.uuid4()), resourceVersion=str(self._version))
        meta["creationTimestamp"] = ago(0)
        if plural in ("jobs", "deployments"):
            obj.setdefault("status", {})
        self._objects[(plural, namespace, meta["name"])] = obj

    def _create(self, prefix: str, plural: str, namespace: str, body: Any) -> dict[str, Any]:
        from airflow_mlplat.kube.schema import ManifestValidationError, validate_manifests

        kind, api_version = KIND_OF[(prefix, plural)]
        if not isinstance(body, dict):
            raise _ApiError(400, "BadRequest", "the body of the request was not a JSON object")
        name = (body.get("metadata") or {}).get("name")
        if (body.get("kind"), body.get("apiVersion")) != (kind, api_version):
            raise _ApiError(
                400, "BadRequest", f"the API version in the data ({body.get('apiVersion')}) does not match {plural}"
            )
        if not name:
            raise _ApiError(422, "Invalid", f"{kind} is invalid: metadata.name: Required value: name is required")
        if body["metadata"].get("namespace", namespace) != namespace:
            raise _ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            )
        try:
            validate_manifests(body)
        except ManifestValidationError as err:
            raise _ApiError(
                422, "Invalid", f'{kind} "{name}" is invalid: {err}', {"name": name, "kind": plural}
            ) from None
        if (plural, namespace, name) in self._objects:
            raise _ApiError(409, "AlreadyExists", f'{plural} "{name}" already exists', {"name": name, "kind": plural})
        obj = json.loads(json.dumps(body))
        if plural == "pods":
            obj.setdefault("status", {"phase": "Pending"})
        self._store(plural, namespace, obj)
        return obj

    def _delete(self, plural: str, namespace: str, name: str, body: Any) -> dict[str, Any]:
        obj = self._require(plural, namespace, name)
        del self._objects[(plural, namespace, name)]
        self._logs.pop((namespace, name), None)
        if not (isinstance(body, dict) and body.get("propagationPolicy") == "Orphan"):
            self._collect_garbage({obj["metadata"]["uid"]})
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "kind": plural, "uid": obj["metadata"]["uid"]},
        }

    def _patch(self, plural: str, namespace: str, name: str, body: Any, content_type: str) -> dict[str, Any]:
        from airflow_mlplat.kube.schema import ManifestValidationError, validate_manifests

        current = self._require(plural, namespace, name)
        kind = current["kind"]
        if content_type.startswith("application/json-patch+json") and not isinstance(body, list):
            raise _ApiError(400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        if content_type.split(";")[0] not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            raise _ApiError(415, "UnsupportedMediaType", f"the stand-in does not apply {content_type!r} patches")
        if not isinstance(body, dict):
            raise _ApiError(400, "BadRequest", "the body of a merge patch must be a JSON object")
        patched = _merge(json.loads(json.dumps(current)), body)
        checked = {k: v for k, v in patched.items() if k != "status"}
        checked["metadata"] = {k: v for k, v in patched["metadata"].items() if k in ("name", "namespace", "labels")}
        try:
            validate_manifests(checked)
        except ManifestValidationError as err:
            raise _ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {err}') from None
        self._version += 1
        patched["metadata"]["resourceVersion"] = str(self._version)
        self._objects[(plural, namespace, name)] = patched
        return patched

    def _replace(self, prefix: str, plural: str, namespace: str, name: str, body: Any) -> dict[str, Any]:
        from airflow_mlplat.kube.schema import ManifestValidationError, validate_manifests

        current = self._require(plural, namespace, name)
        kind, api_version = KIND_OF[(prefix, plural)]
        if not isinstance(body, dict) or (body.get("kind"), body.get("apiVersion")) != (kind, api_version):
            raise _ApiError(400, "BadRequest", f"the body of a replace must be a {kind} ({api_version})")
        meta = body.get("metadata") or {}
        if meta.get("name") != name:
            raise _ApiError(400, "BadRequest", f"the name of the object ({meta.get('name')}) does not match {name}")
        version = meta.get("resourceVersion")
        if version is not None and version != current["metadata"]["resourceVersion"]:
            raise _ApiError(
                409, "Conflict", f'Operation cannot be fulfilled on {plural} "{name}": the object has been modified'
            )
        try:
            validate_manifests(body)
        except ManifestValidationError as err:
            raise _ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {err}') from None
        replaced = json.loads(json.dumps(body))
        kept = {k: current["metadata"][k] for k in ("uid", "creationTimestamp") if k in current["metadata"]}
        replaced["metadata"].update(namespace=namespace, **kept)
        if "status" in current:
            replaced["status"] = current["status"]
        self._version += 1
        replaced["metadata"]["resourceVersion"] = str(self._version)
        self._objects[(plural, namespace, name)] = replaced
        return replaced

    def _collect_garbage(self, gone: set[str]) -> None:
        while True:
            orphans = [
                key
                for key, obj in self._objects.items()
                if (refs := obj["metadata"].get("ownerReferences")) and all(r["uid"] in gone for r in refs)
            ]
            if not orphans:
                return
            for key in orphans:
                gone.add(self._objects.pop(key)["metadata"]["uid"])
                self._logs.pop((key[1], key[2]), None)

    def _log(self, namespace: str, name: str, query: dict[str, list[str]]) -> str:
        pod = self._require("pods", namespace, name)
        text = self._logs.get((namespace, name))
        if text is None:
            if pod["status"].get("phase") == "Pending":
                container = query.get("container", ["main"])[0]
                raise _ApiError(
                    400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
                )
            return ""
        if "tailLines" in query:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(query["tailLines"][0]) :]) if int(query["tailLines"][0]) else ""
        return text

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, content_type: str = ""
    ) -> tuple[int, Any]:
        if path.strip("/") == CUSTOM_METRICS_API and method == "GET" and self.custom_metrics:
            resources = [
                {"name": f"pods/{m}", "namespaced": True, "kind": "MetricValueList", "verbs": ["get"]}
                for m in sorted(self.custom_metrics)
            ]
            return 200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "custom.metrics.k8s.io/v1beta1",
                         "resources": resources}  # fmt: skip
        parts = path.strip("/").split("/")
        prefix_len = 2 if parts[:1] == ["api"] else 3
        prefix = "/".join(parts[:prefix_len])
        rest = parts[prefix_len:]
        if len(rest) < 3 or rest[0] != "namespaces" or (prefix, rest[2]) not in KIND_OF:
            raise _ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace, plural, tail = rest[1], rest[2], rest[3:]
        kind, api_version = KIND_OF[(prefix, plural)]
        with self._lock:
            if not tail and method == "GET":
                items = self._list(plural, namespace, query.get("labelSelector", [""])[0])
                meta = {"resourceVersion": str(self._version)}
                return 200, {"kind": f"{kind}List", "apiVersion": api_version, "metadata": meta, "items": items}
            if not tail and method == "POST":
                return 201, self._create(prefix, plural, namespace, body)
            if len(tail) == 1 and method == "GET":
                return 200, self._require(plural, namespace, tail[0])
            if len(tail) == 1 and method == "DELETE":
                return 200, self._delete(plural, namespace, tail[0], body)
            if len(tail) == 1 and method == "PATCH":
                return 200, self._patch(plural, namespace, tail[0], body, content_type)
            if len(tail) == 1 and method == "PUT":
                return 200, self._replace(prefix, plural, namespace, tail[0], body)
            if plural == "pods" and len(tail) == 2 and tail[1] == "log" and method == "GET":
                return 200, self._log(namespace, tail[0], query)
        raise _ApiError(405, "MethodNotAllowed", f"the stand-in does not serve {method} {path}")

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append((method, url.path))
            index = next((i for i, (_, m) in enumerate(self._failures) if m in (None, method)), None)
            failure = self._failures.pop(index) if index is not None else None
        if failure is not None and failure[0] is None:
            request.close_connection = True
            return
        try:
            if failure is not None:
                reason = "InternalError" if failure[0] == 500 else HTTPStatus(failure[0]).phrase.replace(" ", "")
                raise _ApiError(failure[0], reason, f"injected failure ({failure[0]})")
            body = json.loads(raw) if raw else None
            content_type = request.headers.get("Content-Type") or ""
            code, payload = self._route(method, url.path, parse_qs(url.query), body, content_type)
        except _ApiError as err:
            code, payload = err.code, err.status()
        except ValueError as err:
            code, payload = 400, _ApiError(400, "BadRequest", f"invalid JSON: {err}").status()
        if isinstance(payload, str):
            data, content_type = payload.encode(), "text/plain"
        else:
            data, content_type = json.dumps(payload).encode(), "application/json"
        request.send_response(code)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 merge patch: mappings merge key by key, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge(target.get(key), value)
    return target
