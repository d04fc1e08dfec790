"""An SDK pipeline in a DAG file: it parses, without pyspark, into a SparkPipelineOperator."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT
from tests.sdk.conftest import readme_pipelines, readme_python

DAG_FILE = """
from airflow.sdk import DAG

from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator
{pipeline}
with DAG("churn_lr_sdk", schedule=None, catchup=False) as dag:
    SparkPipelineOperator(task_id="train", pipeline=p)
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)


def test_building_a_pipeline_imports_no_pyspark():
    code = (
        "import json, sys\n"
        + readme_python()
        + "print(json.dumps(p.to_json()))\n"
        + "print(sorted(k for k in sys.modules if k.startswith('pyspark')))\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr[-2000:]
    document, pyspark = result.stdout.strip().splitlines()[-2:]
    assert json.loads(document) == readme_pipelines()[0]
    assert pyspark == "[]"


def test_a_dag_file_runs_an_sdk_pipeline(tmp_path):
    dag_file = tmp_path / "churn_lr_sdk.py"
    dag_file.write_text(DAG_FILE.format(pipeline=readme_python()))
    code = (
        "import json, runpy, sys\n"
        f"dag = runpy.run_path({str(dag_file)!r})['dag']\n"
        "task = dag.get_task('train')\n"
        "print(json.dumps(task.pipeline))\n"
        "print(sorted(k for k in sys.modules if k.startswith('pyspark')))\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr[-2000:]
    document, pyspark = result.stdout.strip().splitlines()[-2:]
    assert json.loads(document) == readme_pipelines()[0]  # the operator holds the document itself
    assert pyspark == "[]"
