"""The README's examples are real: its pipeline JSON validates and its DAG file parses."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from airflow_mlplat.pipeline import validate_pipeline
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def _block(language: str, under: str = "") -> str:
    """The first ``language`` block (after the heading ``under`` when given)."""
    text = README.split(f"\n{under}\n", 1)[1] if under else README
    match = re.search(rf"```{language}\n(.*?)```", text, re.S)
    assert match, f"README has no {language} block"
    return match.group(1)


def test_readme_starts_with_the_two_commands():
    first_block = re.search(r"```\n(.*?)```", README, re.S).group(1)
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [["make", "demo"], ["make", "test"]]


def test_readme_pipeline_validates():
    pipeline = validate_pipeline(json.loads(_block("json")), source="README.md")
    assert pipeline.name == "churn_lr"


def test_readme_dag_file_parses(tmp_path):
    dag_file = tmp_path / "readme_dag.py"
    dag_file.write_text(
        _block("python", under="## A minimal DAG file").replace(
            "/opt/airflow/dags/pipelines/churn_lr.json", str(tmp_path / "p.json")
        )
    )
    code = (
        f"import runpy, sys; runpy.run_path({str(dag_file)!r}); "
        "print(sorted(k for k in sys.modules if k.startswith('pyspark')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("[]")
