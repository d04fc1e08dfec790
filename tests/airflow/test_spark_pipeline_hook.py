"""SparkPipelineHook: connection resolution, packaging, and on_kill of a running pipeline."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import psutil
import pytest

from airflow_mlplat.hooks.spark_pipeline import LOCAL_MASTER, PipelineRunError, SparkPipelineHook, build_package_zip


def test_missing_default_connection_runs_locally():
    assert SparkPipelineHook().master == LOCAL_MASTER


def test_missing_named_connection_is_an_error_naming_it():
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    with pytest.raises(AirflowNotFoundException, match="'spark_nowhere' is not defined"):
        SparkPipelineHook(conn_id="spark_nowhere")


def test_defined_connection_is_used(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_SOMEWHERE", "spark://10.1.2.3:7077")
    assert SparkPipelineHook(conn_id="spark_somewhere").master == "spark://10.1.2.3:7077"


def test_env_vars_keep_the_interpreter_settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    hook = SparkPipelineHook(env_vars={"MY_VAR": "1"})
    assert hook._env_vars["MY_VAR"] == "1"
    assert "PYSPARK_PYTHON" in hook._env_vars and "PATH" in hook._env_vars


def test_package_zip_holds_the_engine_without_bytecode(tmp_path: Path):
    with zipfile.ZipFile(build_package_zip(tmp_path)) as archive:
        names = archive.namelist()
    assert "airflow_mlplat/engine/spark_app.py" in names
    assert "airflow_mlplat/components/registry.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_operator_merges_declared_dag_params_under_overrides():
    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator

    op = SparkPipelineOperator(task_id="t", pipeline={}, params_override={"b": "override"})
    doc = {"params": {"a": 1, "b": 2, "c": 3}}
    values = op._param_values(doc, {"params": {"a": 10, "b": 20, "undeclared": 0}})
    assert values == {"a": 10, "b": "override"}


def test_operator_killed_before_submitting_never_starts_spark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator

    pushed = {}

    class TaskInstance:
        def xcom_push(self, key, value):
            pushed[key] = value

    monkeypatch.setattr(SparkPipelineHook, "submit", lambda *a, **k: pytest.fail("spark-submit started"))
    pipeline = {"name": "p", "nodes": [{"id": "gen", "component": "synthetic_purchase_intent"}]}
    op = SparkPipelineOperator(task_id="t", pipeline=pipeline, out_dir=str(tmp_path / "run"))
    op.on_kill()
    with pytest.raises(PipelineRunError, match="killed before spark-submit started"):
        op.execute({"params": {}, "run_id": "r", "ti": TaskInstance()})
    assert pushed == {"report_path": str(tmp_path / "run" / "report.json")}


def test_failed_run_names_the_failing_node(tmp_path: Path):
    pipeline = tmp_path / "failing.json"
    pipeline.write_text(
        json.dumps(
            {
                "name": "failing",
                "nodes": [
                    {"id": "behaviour", "component": "read_table", "params": {"path": str(tmp_path / "missing")}},
                    {"id": "split", "component": "random_split", "inputs": {"data": "behaviour.data"}},
                ],
            }
        )
    )
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    (out_dir / "report.json").write_text(json.dumps({"status": "success", "metrics": {}}))  # an earlier attempt's

    with pytest.raises(PipelineRunError, match=r"failed at node 'behaviour' \(read_table\): ") as caught:
        SparkPipelineHook().submit_pipeline(str(pipeline), str(out_dir))

    assert caught.value.report["nodes"]["split"]["status"] == "skipped"


def _long_pipeline(path: Path) -> None:
    features = ["duration", "freqs_rank", "page_views", "visit_days"]
    path.write_text(
        json.dumps(
            {
                "name": "long_running",
                "nodes": [
                    {"id": "gen", "component": "synthetic_purchase_intent", "params": {"rows": 500000}},
                    {
                        "id": "cast",
                        "component": "cast_columns",
                        "inputs": {"data": "gen.data"},
                        "params": {"columns": features},
                    },
                    {
                        "id": "assemble",
                        "component": "vector_assembler",
                        "inputs": {"data": "cast.data"},
                        "params": {"input_cols": features},
                    },
                    {
                        "id": "gbdt",
                        "component": "gbdt_classifier",
                        "inputs": {"data": "assemble.data"},
                        "params": {"max_iter": 500, "max_depth": 8},
                    },
                ],
                "outputs": {"model": "gbdt.model"},
            }
        )
    )


def _driver_started(hook: SparkPipelineHook) -> bool:
    if hook._submit_sp is None:
        return False
    try:
        tree = psutil.Process(hook._submit_sp.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    return any("spark_app.py" in " ".join(_cmdline(p)) and "java" not in _cmdline(p)[0] for p in tree)


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline() or [""]
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return [""]


def _wait_for_driver(hook: SparkPipelineHook, thread: threading.Thread, outcome: dict) -> None:
    """Until the submitted run's Python driver process exists (the submitting thread must stay alive)."""
    deadline = time.monotonic() + 120
    while not _driver_started(hook):
        assert time.monotonic() < deadline, "the Python driver did not start"
        assert thread.is_alive(), outcome
        time.sleep(0.5)


def _run_processes(out_dir: Path) -> list[psutil.Process]:
    """The processes whose command line names ``out_dir``: spark-submit, its JVM and the Python driver."""
    return [p for p in psutil.process_iter() if str(out_dir) in " ".join(_cmdline(p))]


def test_on_kill_ends_the_whole_process_tree(tmp_path: Path):
    pipeline = tmp_path / "long.json"
    _long_pipeline(pipeline)
    out_dir = tmp_path / "run"
    hook = SparkPipelineHook(kill_grace_s=5)
    outcome: dict[str, BaseException | dict] = {}

    def submit() -> None:
        try:
            outcome["report"] = hook.submit_pipeline(str(pipeline), str(out_dir))
        except BaseException as exc:  # noqa: B036 - the thread hands everything back
            outcome["error"] = exc

    thread = threading.Thread(target=submit, daemon=True)
    thread.start()
    try:
        _wait_for_driver(hook, thread, outcome)
        time.sleep(8)  # let the driver's SparkContext start and the first jobs run
        root = psutil.Process(hook._submit_sp.pid)
        tree = [root, *root.children(recursive=True)]
        assert len(tree) >= 2

        started = time.monotonic()
        hook.on_kill()
        hook.on_kill()  # idempotent
        _, alive = psutil.wait_procs(tree, timeout=10)
        assert alive == [], [(p.pid, _cmdline(p)) for p in alive]
        assert time.monotonic() - started < 15
        assert _run_processes(out_dir) == []

        thread.join(timeout=30)
        assert not thread.is_alive()
        assert isinstance(outcome.get("error"), PipelineRunError), outcome
        assert "killed" in str(outcome["error"])
    finally:
        for process in _run_processes(out_dir):  # a failed test must not leave its long-running driver behind
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


def test_a_local_run_binds_loopback_unless_told_otherwise():
    hook = SparkPipelineHook()
    command = " ".join(hook._build_spark_submit_command("app.py"))
    assert "spark.driver.bindAddress=127.0.0.1" in command and "spark.driver.host=127.0.0.1" in command
    assert hook._local_env()["SPARK_LOCAL_IP"] == "127.0.0.1"
    chosen = SparkPipelineHook(conf={"spark.driver.host": "10.0.0.5"})
    assert "spark.driver.host=10.0.0.5" in " ".join(chosen._build_spark_submit_command("app.py"))


def _listeners(processes: list[psutil.Process]) -> set[tuple[int, str, int]]:
    found = set()
    for process in processes:
        try:
            connections = process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        found |= {(process.pid, c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN}
    return found


def test_a_local_run_listens_on_loopback_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """While a local pipeline runs, no process of ours listens beyond loopback (``ss -ltn`` would show it).

    The package's test settings (spark-defaults binding loopback, SPARK_LOCAL_IP) are taken away:
    the hook alone must keep the driver, its block manager and its web UI on 127.0.0.1.
    """
    bare = tmp_path / "spark-conf"
    bare.mkdir()
    (bare / "spark-defaults.conf").write_text("spark.driver.memory 1g\nspark.sql.shuffle.partitions 4\n")
    monkeypatch.setenv("SPARK_CONF_DIR", str(bare))
    monkeypatch.delenv("SPARK_LOCAL_IP", raising=False)
    pipeline = tmp_path / "long.json"
    _long_pipeline(pipeline)
    hook = SparkPipelineHook(kill_grace_s=5)
    outcome: dict[str, BaseException | dict] = {}

    def submit() -> None:
        try:
            outcome["report"] = hook.submit_pipeline(str(pipeline), str(tmp_path / "run"))
        except BaseException as exc:  # noqa: B036 - the thread hands everything back
            outcome["error"] = exc

    thread = threading.Thread(target=submit, daemon=True)
    thread.start()
    seen: set[tuple[int, str, int]] = set()
    try:
        _wait_for_driver(hook, thread, outcome)
        until = time.monotonic() + 15  # the SparkContext starts: block manager, UI, driver RPC
        while time.monotonic() < until and thread.is_alive():
            root = psutil.Process(hook._submit_sp.pid)
            seen |= _listeners([root, *root.children(recursive=True)])
            time.sleep(0.3)
    finally:
        hook.on_kill()
        thread.join(timeout=60)
    assert seen, "no listener was seen: the check saw nothing"
    outside = sorted(
        entry for entry in seen if not (entry[1].startswith("127.") or entry[1] in ("::1", "::ffff:127.0.0.1"))
    )
    ss = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout if shutil.which("ss") else ""
    assert outside == [], f"listening beyond loopback (pid, address, port): {outside}\n{ss}"


def test_the_driver_validates_with_the_workers_mlplat_settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW__MLPLAT__ALLOW_CODE_IN_SQL", "True")
    monkeypatch.setenv("AIRFLOW__MLPLAT__PAGE_DATA_ROOTS", "/srv/data")
    assert SparkPipelineHook()._local_env()["AIRFLOW__MLPLAT__ALLOW_CODE_IN_SQL"] == "True"
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_YARN", "spark://yarn")
    command = SparkPipelineHook(conn_id="spark_yarn")._build_spark_submit_command("app.py")
    assert "spark.yarn.appMasterEnv.AIRFLOW__MLPLAT__PAGE_DATA_ROOTS=/srv/data" in command
    assert not any("bindAddress" in part for part in command)  # loopback is for local runs only
