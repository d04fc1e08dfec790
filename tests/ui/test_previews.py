"""The table-preview route: a run's ``previews/NODE/PORT.json`` served as written, with the run routes' checks.

Who may read it is in ``test_permission_matrix`` (the DAG's readers), hostile paths in ``test_fuzz_api``;
here: what it serves, and what it refuses (a run that does not exist, a preview its report does not
list, a file outside the DAG's run folder, ``..`` in a raw request), all without starting Spark.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ui.conftest import DAG_A, DAG_B, sentinel
from tests.ui.runs import PNG, add_dag_run, preview_document, write_run_output

PREVIEW = "previews/run_pipeline/evaluate/data"


@pytest.fixture(scope="module")
def runs(run_root: Path) -> dict[str, Path]:
    """A run of DAG A and one of DAG B, each with the preview ``write_run_output`` lists."""
    for dag in (DAG_A, DAG_B):
        add_dag_run(dag, f"preview_{dag}")
        write_run_output(run_root, dag, f"preview_{dag}", PNG)
    return {dag: run_root / dag / f"preview_{dag}" / "run_pipeline" for dag in (DAG_A, DAG_B)}


def test_a_listed_preview_is_served_as_written_and_listed_with_the_results(client, viewer, runs):
    response = client.get(f"/mlplat/api/runs/{DAG_A}/preview_{DAG_A}/{PREVIEW}", headers=viewer)
    assert response.status_code == 200 and response.json() == preview_document(DAG_A)
    results = client.get(f"/mlplat/api/runs/{DAG_A}/preview_{DAG_A}", headers=viewer).json()
    assert results["previews"] == [{"task": "run_pipeline", "node": "evaluate", "port": "data"}]


@pytest.mark.parametrize(
    "path",
    [
        f"{DAG_A}/preview_{DAG_A}/previews/run_pipeline/evaluate/model",  # a port without a preview
        f"{DAG_A}/preview_{DAG_A}/previews/run_pipeline/other/data",  # a node without one
        f"{DAG_A}/preview_{DAG_A}/previews/another_task/evaluate/data",  # a task without a report
        f"{DAG_A}/never_ran/previews/run_pipeline/evaluate/data",  # files on disk, no run in the DB
    ],
)
def test_a_preview_the_run_does_not_list_is_404(client, admin, runs, run_root: Path, path):
    write_run_output(run_root, DAG_A, "never_ran", PNG)
    assert client.get(f"/mlplat/api/runs/{path}", headers=admin).status_code == 404


def test_a_report_cannot_point_a_preview_at_another_dags_run(client, admin, runs, run_root: Path):
    elsewhere = runs[DAG_B] / "previews" / "evaluate" / "data.json"
    add_dag_run(DAG_A, "preview_pointing_away")
    write_run_output(run_root, DAG_A, "preview_pointing_away", PNG, preview=elsewhere)
    response = client.get(f"/mlplat/api/runs/{DAG_A}/preview_pointing_away/{PREVIEW}", headers=admin)
    assert response.status_code == 404 and sentinel(DAG_B).encode() not in response.content


@pytest.mark.parametrize(
    "path",
    [
        f"/mlplat/api/runs/{DAG_A}/%2e%2e/{DAG_B}/preview_{DAG_B}/{PREVIEW}",
        f"/mlplat/api/runs/{DAG_A}/preview_{DAG_A}/previews/run_pipeline/evaluate/%2e%2e%2f%2e%2e%2fdata",
        f"/mlplat/api/runs/{DAG_A}/preview_{DAG_A}/previews/%2e%2e/evaluate/data",
    ],
)
def test_dot_dot_in_a_raw_request_reads_no_other_preview(raw_http, editor_a, runs, path):
    status, body = raw_http("GET", path, editor_a)
    assert status in (404, 422), (status, body[:300])
    assert sentinel(DAG_B).encode() not in body


def test_a_damaged_preview_is_served_without_a_500(client, admin, runs):
    target = runs[DAG_A] / "previews" / "evaluate" / "data.json"
    original = target.read_text()
    try:
        target.write_text('{"rows": [[NaN, Infinity]], "profile": []}')  # Python's JSON reads these
        response = client.get(f"/mlplat/api/runs/{DAG_A}/preview_{DAG_A}/{PREVIEW}", headers=admin)
        assert response.status_code == 200 and response.json()["rows"] == [["nan", "inf"]]
        target.write_text("not json")
        assert client.get(f"/mlplat/api/runs/{DAG_A}/preview_{DAG_A}/{PREVIEW}", headers=admin).status_code == 404
    finally:
        target.write_text(original)
    assert json.loads(target.read_text()) == preview_document(DAG_A)
