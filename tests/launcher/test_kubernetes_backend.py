"""The kubernetes backend without a cluster: an unreachable API server fails clearly and in bounded time.

No Kubernetes API server can run here, so these tests point the backend (and the
cncf-kubernetes hook under it) at addresses where none answers: a closed port (connection
refused) and a socket that accepts connections but never replies (read timeout).
"""

from __future__ import annotations

import socket
import threading

import pytest

from airflow_mlplat.launcher.backends import LauncherError, get_backend
from tests.launcher.conftest import scripted_job
from tests.launcher.test_spec import _kubeconfig


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


def call_bounded(fn, limit: float = 120.0):
    """Run ``fn`` in a thread; fail the test if it has not returned after ``limit`` seconds (a hang guard)."""
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


def backend_at(server: str):
    return get_backend("kubernetes", conn_id=None, config_dict=_kubeconfig(server), namespace="ml", request_timeout=1)


def test_refused_connection_fails_submit_naming_server_and_object():
    server = f"https://127.0.0.1:{_closed_port()}"
    backend = backend_at(server)
    job = scripted_job("ctr", "pytorch")
    outcome = call_bounded(lambda: backend.submit(job, backend.handle(job)))
    err = outcome.get("error")
    assert isinstance(err, LauncherError), outcome
    assert f"Kubernetes API at {server} unreachable while creating ConfigMap/ctr in namespace ml" in str(err)


def test_silent_server_times_out_on_every_operation(silent_server):
    server = f"https://127.0.0.1:{silent_server}"
    backend = backend_at(server)
    job = scripted_job("ctr", "tensorflow-ps")
    handle = backend.handle(job)
    for name, call in (
        ("submit", lambda: backend.submit(job, handle)),
        ("status", lambda: backend.status(handle)),
        ("kill", lambda: backend.kill(handle)),
        ("attach", lambda: backend.attach("ctr")),
    ):
        err = call_bounded(call).get("error")
        assert isinstance(err, LauncherError), name
        assert f"Kubernetes API at {server} unreachable" in str(err) and "timed out" in str(err), (name, err)


def test_handle_carries_only_primitives_for_the_trigger():
    import json

    backend = backend_at("https://127.0.0.1:9")
    handle = backend.handle(scripted_job("ctr", "paddle-ps", data_volume={"keep": True}))
    assert json.loads(json.dumps(handle)) == handle
    assert handle["keep_data"] is True and handle["options"]["namespace"] == "ml"
