"""Hostile requests to every route of the page's API: never a 5xx, never a file outside the allowed
roots, never another DAG's data.

Path segments holding ``..``, ``%2e``, ``/`` and NUL are sent byte for byte through a real HTTP
server (``raw_http``: a client library would normalise them); bodies and query strings go through
the in-process client. A file outside every root, a report above the run root listing it, and DAG
B's pipeline and run (readable by admin and viewer, not by the editor of DAG A) are the bait.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz_values import deep_json, json_values, segments
from tests.ui.conftest import DAG_A, DAG_B, SMALL_NODES, sentinel
from tests.ui.runs import add_dag_run, write_run_output

EXAMPLES = 500
OUTSIDE_SECRET = b"\x89PNG\r\n\x1a\n-outside-every-root-" + b"\0" * 8
SECRET_B = b"\x89PNG\r\n\x1a\n-run-output-of-dag-b-" + b"\0" * 8
USERS = ("admin", "viewer", "editor_a")
UPLOAD = "/mlplat/api/models/upload"


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def bait(run_root: Path, dags_folder: Path, tmp_path_factory: pytest.TempPathFactory):
    """Plant the bait; after the module, check that nothing was written outside the allowed roots."""
    outside = tmp_path_factory.getbasetemp() / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret.png"
    secret.write_bytes(OUTSIDE_SECRET)
    # A report the run-folder glob would find if a run id climbed above the run root.
    write_run_output(run_root.parent / "above-root", "dag", "run", b"", artifact=secret)
    add_dag_run(DAG_B, "run_b_fuzz")
    write_run_output(run_root, DAG_B, "run_b_fuzz", SECRET_B)
    add_dag_run(DAG_A, "run_a_fuzz")
    write_run_output(run_root, DAG_A, "run_a_fuzz", b"\x89PNG-a")
    base = tmp_path_factory.getbasetemp()
    before = _files(base)
    yield
    from airflow_mlplat.dag_files import write_dag_file

    for dag in (DAG_A, DAG_B):  # an admin's fuzzed DELETE may have removed them
        path = dags_folder / "pipelines" / f"{dag}.json"
        path.write_text(json.dumps({"name": dag, "description": sentinel(dag), "nodes": SMALL_NODES}))
        write_dag_file(path)
    allowed = (dags_folder / "pipelines", run_root)
    created = _files(base) - before
    outside = [p for p in created if not any(p.is_relative_to(root) for root in allowed)]
    assert outside == [], f"files written outside the allowed roots: {outside[:10]}"
    for path in created:  # pipelines the fuzzed saves made, under names of their own
        if path.is_relative_to(dags_folder / "pipelines"):
            path.unlink()


@pytest.fixture(scope="module")
def users(admin, viewer, editor_a):
    return {"admin": admin, "viewer": viewer, "editor_a": editor_a}


def _check(user: str, status: int, body: bytes, request: object) -> None:
    assert status < 500, (request, status, body[:500])
    assert OUTSIDE_SECRET not in body, request
    if user == "editor_a":
        assert SECRET_B not in body and sentinel(DAG_B).encode() not in body, (request, body[:300])


def _segment(text: str) -> str:
    """A segment as sent: percent-escapes kept as written (``%2e``), anything else quoted."""
    return urllib.parse.quote(text, safe="%.~-_")


#: The routes with path parameters, each a template of its segments (``{}``), and its method.
PATH_ROUTES = {
    "component": ("GET", "/mlplat/api/catalogue/{}"),
    "read": ("GET", "/mlplat/api/pipelines/{}"),
    "save": ("PUT", "/mlplat/api/pipelines/{}"),
    "delete": ("DELETE", "/mlplat/api/pipelines/{}"),
    "run": ("GET", "/mlplat/api/runs/{}/{}"),
    "artifact": ("GET", "/mlplat/api/runs/{}/{}/artifacts/{}/{}/{}"),
    "preview": ("GET", "/mlplat/api/runs/{}/{}/previews/{}/{}/{}"),
    "asset": ("GET", "/mlplat/assets/{}/{}"),
}
#: Segments a request may hold: hostile ones, DAG A and B, their runs and the report's names.
path_segments = segments | st.sampled_from(
    [DAG_A, DAG_B, "run_a_fuzz", "run_b_fuzz", "run_pipeline", "evaluate", "0", "data"]
)


@pytest.mark.parametrize("route", PATH_ROUTES)
def test_hostile_path_segments(raw_http, users, bait, route):
    method, template = PATH_ROUTES[route]

    @settings(max_examples=EXAMPLES)
    @given(user=st.sampled_from(USERS), parts=st.lists(path_segments, min_size=5, max_size=5))
    def check(user, parts):
        path = template.format(*[_segment(p) for p in parts])
        # A save's body names the pipeline as the path does, when the path names one at all.
        body = _json({"pipeline": {"name": parts[0], "nodes": SMALL_NODES}}) if method == "PUT" else None
        status, body = raw_http(method, path, users[user], body)
        _check(user, status, body, (user, method, path))

    check()


@settings(max_examples=EXAMPLES)
@given(user=st.sampled_from(USERS), q=st.text(max_size=40), category=st.none() | st.text(max_size=20))
def test_catalogue_queries(client, users, bait, user, q, category):
    params = {"q": q} if category is None else {"q": q, "category": category}
    response = client.get("/mlplat/api/catalogue", params=params, headers=users[user])
    _check(user, response.status_code, response.content, params)


def _json(body: object) -> bytes:
    """The body as JSON, NaN and Infinity included (Python's parser, and so FastAPI's, reads them)."""
    return json.dumps(body, allow_nan=True).encode()


def _typed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json"}


def _mutated(doc: dict, draw_value: object, key: str) -> dict:
    mutated = json.loads(json.dumps(doc))
    mutated["nodes"][0]["params"][key] = draw_value
    return mutated


#: Pipeline documents: random JSON, a good pipeline with a random or hostile value, and paths that climb.
def pipelines(name: str):
    good = {"name": name, "nodes": SMALL_NODES}
    hostile_paths = st.sampled_from(
        ["../../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "..", "%2e%2e/x", "a\0b", "hdfs://x/../y", ""]
    )
    reader = st.builds(
        lambda path, fmt: {
            "name": name,
            "nodes": [{"id": "r", "component": "read_table", "params": {"path": path, "format": fmt}}],
        },
        hostile_paths | st.text(max_size=30),
        st.sampled_from(["csv", "parquet", "json"]),
    )
    return st.one_of(
        json_values,
        reader,
        st.builds(lambda value: _mutated(good, value, "rows"), json_values),
        st.builds(lambda value: {**good, "nodes": value}, json_values),
        st.builds(lambda value: {**good, "spark_conf": value}, json_values),
    )


@settings(max_examples=EXAMPLES)
@given(user=st.sampled_from(USERS), doc=pipelines("ui_fuzzed"), layout=st.none() | json_values)
def test_save_bodies(client, users, admin, bait, user, doc, layout):
    body = {"pipeline": doc} if layout is None else {"pipeline": doc, "layout": layout}
    response = client.put("/mlplat/api/pipelines/ui_fuzzed", content=_json(body), headers=_typed(users[user]))
    _check(user, response.status_code, response.content, body)
    if response.status_code == 200:
        assert client.delete("/mlplat/api/pipelines/ui_fuzzed", headers=admin).status_code == 204


@settings(max_examples=EXAMPLES)
@given(user=st.sampled_from(USERS), doc=pipelines("ui_validated"))
def test_validate_bodies(client, users, bait, user, doc):
    response = client.post("/mlplat/api/validate", content=_json({"pipeline": doc}), headers=_typed(users[user]))
    _check(user, response.status_code, response.content, doc)


@settings(max_examples=EXAMPLES)
@given(user=st.sampled_from(USERS), raw=deep_json | st.binary(max_size=100) | json_values.map(json.dumps))
def test_raw_bodies(client, users, bait, user, raw):
    payload = raw if isinstance(raw, bytes) else raw.encode()
    headers = {**users[user], "Content-Type": "application/json"}
    routes = (("PUT", f"/mlplat/api/pipelines/{DAG_A}"), ("POST", "/mlplat/api/validate"), ("POST", UPLOAD))
    for method, path in routes:
        response = client.request(method, path, content=payload, headers=headers)
        _check(user, response.status_code, response.content, (method, path, payload[:80]))
        if response.status_code == 200 and method == "PUT":  # a valid pipeline named A replaced A: put A back
            client.put(path, json={"pipeline": {"name": DAG_A, "nodes": SMALL_NODES}}, headers=headers)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def upload_env(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory):
    """MLflow configured (a well-formed form reaches the model checks) and uploads' scratch under the
    test's base folder, so the bait's check sees anything an upload leaves behind."""
    import tempfile

    scratch = tmp_path_factory.getbasetemp() / "upload-scratch"
    scratch.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", mlflow_server)
        patch.setattr(tempfile, "tempdir", str(scratch))
        yield scratch


text_or_hostile = segments | st.text(max_size=30)
model_files = (
    st.binary(max_size=2000)
    | st.lists(st.tuples(text_or_hostile.filter(bool), st.binary(max_size=200)), max_size=4).map(_zip)
    | json_values.map(lambda v: json.dumps(v).encode())
)


@settings(max_examples=EXAMPLES)
@given(
    user=st.sampled_from(USERS),
    name=text_or_hostile,
    fmt=st.sampled_from(["onnx", "torchscript", "savedmodel", "paddle", "keras", ""]) | st.text(max_size=10),
    content=model_files,
    filename=st.text(max_size=30).filter(lambda t: "\0" not in t),
    extra=st.dictionaries(st.sampled_from(["description", "tasks", "path", "name"]), text_or_hostile, max_size=2),
)
def test_upload_forms(client, users, bait, upload_env, user, name, fmt, content, filename, extra):
    data = {"name": name, "format": fmt, **extra}
    response = client.post(UPLOAD, data=data, files={"file": (filename, content)}, headers=users[user])
    _check(user, response.status_code, response.content, (name, fmt, filename, content[:80]))
    assert response.status_code != 201, response.content  # nothing generated here is a model
    assert list(upload_env.iterdir()) == []  # every upload's scratch is gone


@pytest.mark.parametrize(
    "path", ["/mlplat/api/pipelines", "/mlplat/openapi.json", "/mlplat/", "/mlplat/resources", "/mlplat/api/resources"]
)
@pytest.mark.parametrize("user", USERS)
def test_routes_without_input(client, users, bait, path, user):
    response = client.get(path, headers=users[user])
    _check(user, response.status_code, response.content, path)
