"""Test support: Kubernetes API servers that do not answer, and a guard against calls that hang.

No cluster runs here, so backends are pointed at a closed port (connection refused) or at a
socket that accepts connections and never replies (read timeout). The ``silent_port`` fixture
is shared through tests/conftest.py.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from airflow_mlplat.services.process import free_port as closed_port  # nothing listens there

__all__ = ["call_bounded", "closed_port", "kubeconfig", "silent_port_server"]


def kubeconfig(server: str) -> dict:
    """An in-memory kubeconfig for ``server`` (token auth, TLS verification off)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": "test"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }


def silent_port_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers; yields its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def call_bounded(fn: Callable[[], Any], limit: float = 120.0) -> dict:
    """Run ``fn`` in a thread; fail the test if it has not returned after ``limit`` s (a hang guard).

    Returns ``{"value": ...}`` or ``{"error": exception}``.
    """
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - handed back to the test
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"call did not return within {limit} s"
    return outcome
