"""``airflow-mlplat notebook``: JupyterLab on 127.0.0.1 behind a token, kernels on this interpreter, clean stop."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO_ROOT
from tests.notebooks.conftest import child_pids, leftover_children


def _call(url: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"token {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as refused:
        return refused.code, {}


def _listening(pid: int) -> set[tuple[str, int]]:
    found = set()
    for process in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        found |= {(c.laddr.ip, c.laddr.port) for c in process.net_connections(kind="inet") if c.status == "LISTEN"}
    return found


def _kernel_processes(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children(recursive=True) if "ipykernel_launcher" in p.cmdline()]


def test_jupyterlab_is_loopback_only_needs_its_token_and_leaves_nothing(tmp_path: Path, monkeypatch):
    from airflow_mlplat.cli import main
    from airflow_mlplat.services.jupyter import running_jupyter

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # nothing may be written there
    root = tmp_path / "services"
    before = child_pids()
    started = main(["notebook", "--detach", "--port", "0", "--root", str(root), "--notebook-dir", str(REPO_ROOT)])
    lab = running_jupyter(root)
    try:
        assert started == 0 and lab is not None
        api = f"{lab.base_url}/api"
        assert _call(f"{api}/kernels")[0] == 403
        assert _call(f"{api}/kernels", token="not-the-token")[0] == 403
        status, specs = _call(f"{api}/kernelspecs", token=lab.token)
        assert status == 200 and "airflow-mlplat" in specs["kernelspecs"]
        assert _call(f"{api}/contents/notebooks/purchase_intent.ipynb", token=lab.token)[0] == 200

        status, kernel = _call(f"{api}/kernels", token=lab.token, body={"name": "airflow-mlplat"})
        assert status == 201 and kernel["name"] == "airflow-mlplat"
        deadline = time.monotonic() + 60
        while not (kernels := _kernel_processes(lab.pid)) or len(_listening(kernels[0].pid)) < 5:
            # An ipykernel binds its five ports (shell, iopub, stdin, control, heartbeat) as it starts.
            assert time.monotonic() < deadline, f"no kernel listening after 60 s: {kernels}"
            time.sleep(0.5)
        (kernel_process,) = kernels
        assert kernel_process.cmdline()[0] == sys.executable

        listening = _listening(lab.pid)
        assert ("127.0.0.1", lab.port) in listening and len(listening) > 1  # the server and the kernel's ports
        assert {ip for ip, _ in listening} == {"127.0.0.1"}
    finally:
        assert main(["notebook", "--stop", "--root", str(root)]) == 0
    assert running_jupyter(root) is None
    assert leftover_children(before, timeout=5) == []
    assert list(home.iterdir()) == []


def test_detach_and_stop_exclude_each_other(capsys):
    from airflow_mlplat.cli import main

    with pytest.raises(SystemExit):
        main(["notebook", "--detach", "--stop"])
    assert "not allowed with argument" in capsys.readouterr().err
