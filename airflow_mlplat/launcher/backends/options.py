"""The keyword arguments of ``get_backend`` from an operator's, a sensor's or the CLI's arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def backend_options(
    backend: str,
    *,
    namespace: str,
    kubernetes_conn_id: str | None,
    cluster_profile: Mapping[str, Any] | None,
    state_root: str | None,
    request_timeout: float,
) -> dict[str, Any]:
    """The keyword arguments of ``get_backend(backend, ...)`` from an operator's arguments."""
    if backend == "kubernetes":
        return {
            "conn_id": kubernetes_conn_id,
            "namespace": namespace,
            "profile": dict(cluster_profile or {}),
            "request_timeout": request_timeout,
        }
    if backend == "local":
        return {"state_root": state_root, "profile": dict(cluster_profile or {})}
    raise ValueError(f"backend must be 'kubernetes' or 'local', got {backend!r}")
