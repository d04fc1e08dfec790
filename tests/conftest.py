"""Test-session set-up shared by every test module.

Airflow reads AIRFLOW_HOME and its DB URL when it is first imported, so both are set here,
at conftest import, before any test module imports Airflow.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="mlplat-tests-"))
os.environ.setdefault("AIRFLOW_HOME", str(_SESSION_TMP / "airflow"))
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_SESSION_TMP / 'airflow' / 'airflow.db'}")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ.setdefault("AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS", "False")
# Table previews cost a Spark job per table a run makes (bench/preview_cost.py); the tests
# that check them switch them on (tests/engine/test_preview.py; the browser tests' Airflow, which
# does not inherit AIRFLOW__ settings, writes them as a deployment does by default).
os.environ.setdefault("AIRFLOW__MLPLAT__TABLE_PREVIEWS", "False")
Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
# spark-submit and the engine's driver must use this interpreter and its venv's scripts.
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

# Property tests are the same on every run and machine: derandomized, no example database, no
# deadline (a shared 2-core machine stalls). HYPOTHESIS_PROFILE=explore searches anew.
settings.register_profile(
    "mlplat", derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "mlplat"))

# py4j logs at INFO from __del__ at interpreter exit, after pytest has closed the streams
# Airflow's log handlers write to; its INFO lines are noise anyway.
logging.getLogger("py4j").setLevel(logging.WARNING)


def _interrupt(signum, frame):
    # SIGTERM (a CI timeout, `timeout`) ends the session like Ctrl-C: session fixtures still
    # stop the servers they started, so no metastore or MLflow process outlives the tests.
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _interrupt)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def local_hive():
    """A real Hive metastore (Derby) on 127.0.0.1 for the whole test session; HiveServer2 starts on demand."""
    from airflow_mlplat.services.hive import LocalHive, start_metastore, stop_hive

    hive = LocalHive(_SESSION_TMP / "services" / "hive")
    start_metastore(hive)
    yield hive
    stop_hive(hive)


@pytest.fixture(scope="session")
def hiveserver2(local_hive):
    """HiveServer2 (the Spark Thrift Server) on the session's metastore; yields its port."""
    from airflow_mlplat.services.hive import start_hiveserver2

    return start_hiveserver2(local_hive)


@pytest.fixture(scope="session")
def spark(local_hive):
    """One local SparkSession for the whole test process, its catalogue on the session's Hive metastore."""
    from airflow_mlplat.engine.session import get_session

    conf = {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4", **local_hive.spark_conf()}
    session = get_session("mlplat-tests", conf)
    yield session
    session.stop()


@pytest.fixture
def ctx(spark, tmp_path):
    """A component context for calling a component function directly."""
    from airflow_mlplat.engine.context import ComponentContext

    return ComponentContext(spark=spark, node_id="node", artifacts_dir=str(tmp_path / "artifacts"))


@pytest.fixture(scope="session")
def mlflow_server():
    """A real MLflow tracking + registry server (SQLite, local artifacts) on 127.0.0.1; yields its URI."""
    from airflow_mlplat.services.mlflow_server import start_mlflow, stop_mlflow

    root = _SESSION_TMP / "services"
    uri = start_mlflow(root)
    yield uri
    stop_mlflow(root)


@pytest.fixture(scope="session")
def spark_connect_server():
    """A Spark Connect server (``local[2]``) on 127.0.0.1 for the session; yields its ``sc://`` URL."""
    from airflow_mlplat.services.spark_connect import start_spark_connect, stop_spark_connect

    root = _SESSION_TMP / "services" / "spark-connect"
    url = start_spark_connect(root, master="local[2]")
    yield url
    stop_spark_connect(root)


@pytest.fixture
def spark_connect_default(spark_connect_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session's Spark Connect server as the ``spark_connect_default`` connection of one test."""
    from airflow_mlplat.services.spark_connect import connection_uri

    monkeypatch.setenv("AIRFLOW_CONN_SPARK_CONNECT_DEFAULT", connection_uri(spark_connect_server))
    return spark_connect_server


@pytest.fixture(scope="session")
def behaviour(spark):
    """4000 synthetic purchase-intent rows (seed 3) as parquet; yields the folder's path."""
    from airflow_mlplat.components.datasets import synthetic_purchase_intent
    from airflow_mlplat.engine.context import ComponentContext

    path = _SESSION_TMP / "data" / "behaviour"
    ctx = ComponentContext(spark=spark, node_id="gen", artifacts_dir=str(path.parent))
    synthetic_purchase_intent(ctx, rows=4000, seed=3, partitions=2).write.parquet(str(path))
    return str(path)


@pytest.fixture(scope="session")
def purchase_table(spark):
    """4000 synthetic purchase-intent rows in one partition of a Hive table; yields the pipeline's params for it."""
    from airflow_mlplat.components.registry import get_component
    from airflow_mlplat.engine.context import ComponentContext

    ctx = ComponentContext(spark=spark, node_id="purchase_table", artifacts_dir=str(_SESSION_TMP / "purchase"))
    spark.sql("CREATE DATABASE IF NOT EXISTS mlplat_tests")
    data = get_component("synthetic_purchase_intent").func(ctx, rows=4000, seed=3, partitions=2)
    table = "mlplat_tests.purchase_intent_behaviour"
    get_component("write_hive_table").func(ctx, data, table=table, partition={"dt": "2024-01-01"})
    return {"input_table": table, "partition_filter": "dt = '2024-01-01'"}


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 that accepts connections and never answers (see tests/kube_unreachable.py)."""
    from tests.kube_unreachable import silent_port_server

    yield from silent_port_server()
