"""The kubernetes backend without a cluster: an unreachable API server fails clearly and in bounded time.

No Kubernetes API server can run here, so these tests point the backend (and the
cncf-kubernetes hook under it) at addresses where none answers: a closed port (connection
refused) and a socket that accepts connections but never replies (read timeout).
"""

from __future__ import annotations

from airflow_mlplat.launcher.backends import LauncherError, get_backend
from tests.kube_unreachable import call_bounded, closed_port, kubeconfig
from tests.launcher.conftest import scripted_job


def backend_at(server: str):
    return get_backend("kubernetes", conn_id=None, config_dict=kubeconfig(server), namespace="ml", request_timeout=1)


def test_refused_connection_fails_submit_naming_server_and_object():
    server = f"https://127.0.0.1:{closed_port()}"
    backend = backend_at(server)
    job = scripted_job("ctr", "pytorch")
    outcome = call_bounded(lambda: backend.submit(job, backend.handle(job)))
    err = outcome.get("error")
    assert isinstance(err, LauncherError), outcome
    assert f"Kubernetes API at {server} unreachable while creating ConfigMap/ctr in namespace ml" in str(err)


def test_silent_server_times_out_on_every_operation(silent_port):
    server = f"https://127.0.0.1:{silent_port}"
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
