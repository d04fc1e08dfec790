"""DistributedTrainingOperator, TrainingJobSensor and TrainingJobTrigger, run for real with ``dag.test()``.

The DeepFM test is the issue's acceptance run: 2 DistributedDataParallel workers (gloo, CPU,
one thread each) train on the shared Criteo sample through the local backend; the operator
defers to the trigger, which polls the job's state directory.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from airflow_mlplat.local_run import run_dag, task_states, xcom_value
from tests.launcher.conftest import CRITEO, job_pids, processes_of, scripted_job


def deepfm_job(output: Path) -> dict:
    return {
        "name": "deepfm-ctr",
        "framework": "pytorch",
        "image": "pytorch/pytorch:2.13.0",
        "command": ["python", "-m", "airflow_mlplat.launcher.examples.deepfm", "--epochs", "8"],
        "workers": 2,
        "worker_resources": {"cpu": "1", "memory": "2Gi"},
        "data_source": CRITEO.resolve().as_uri(),
        "output_path": output.as_uri(),
        "env": {"OMP_NUM_THREADS": "1"},
        "data_volume": {"keep": True},  # the ranks' records outlive the job, for the assertions
        "timeout": 600,
    }


def test_deepfm_trains_with_two_ddp_workers_through_the_operator(airflow_db, tmp_path: Path):
    import torch
    from airflow.sdk import DAG

    from airflow_mlplat.launcher.examples.deepfm import DeepFM
    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator

    output = tmp_path / "models" / "deepfm"
    state_root = tmp_path / "launcher"
    with DAG("deepfm_ddp", schedule=None) as dag:
        DistributedTrainingOperator(
            task_id="train", job=deepfm_job(output), backend="local", state_root=str(state_root), poll_interval=0.5
        )
    dag_run = run_dag(dag)

    assert task_states(dag_run) == {"train": "success"}
    result = xcom_value(dag_run, "train")
    assert result["output_path"] == output.as_uri() and result["phase"] == "succeeded"
    metrics = result["metrics"]
    assert metrics["world_size"] == 2 and metrics["rows"] == 200
    assert metrics["loss_last_epoch"] < metrics["loss_first_epoch"]

    state_dir = state_root / "deepfm-ctr"
    ranks = [json.loads((state_dir / "data" / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["digest"] == ranks[1]["digest"]  # identical weights on both ranks
    assert ranks[0]["loss"] == ranks[1]["loss"] and ranks[0]["loss"][-1] < ranks[0]["loss"][0]
    assert ranks[0]["loss"][-1] == metrics["loss_last_epoch"]

    exported = torch.load(output / "model.pt", weights_only=True)
    model = DeepFM(**exported["config"])
    model.load_state_dict(exported["state_dict"])
    from airflow_mlplat.launcher.examples.deepfm import parameter_digest

    assert parameter_digest(model) == ranks[0]["digest"]
    assert json.loads((output / "metrics.json").read_text()) == metrics
    assert processes_of(state_dir) == []
    assert sorted(p.name for p in state_dir.iterdir()) == ["data"]  # the kept volume, nothing else


def test_failed_job_fails_the_task_and_leaves_nothing_running(airflow_db, tmp_path: Path):
    from airflow.sdk import DAG

    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator

    job = scripted_job("opfail", env={"MODE_WORKER_1": "fail", "MODE_WORKER_0": "hang"})
    with DAG("training_fails", schedule=None) as dag:
        DistributedTrainingOperator(
            task_id="train", job=job, backend="local", state_root=str(tmp_path), poll_interval=0.3
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"train": "failed"}
    assert processes_of(tmp_path / "opfail") == []
    assert not (tmp_path / "opfail").exists()


def test_invalid_job_fails_before_anything_is_created(airflow_db, tmp_path: Path):
    from airflow.sdk import DAG

    from airflow_mlplat.launcher import TrainingJobSpecError
    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator

    bad = {**scripted_job("badjob", "tensorflow-ps").to_dict(), "ps": 0}
    with DAG("training_invalid", schedule=None) as dag:
        task = DistributedTrainingOperator(task_id="train", job=bad, backend="local", state_root=str(tmp_path))
    assert task_states(run_dag(dag)) == {"train": "failed"}
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TrainingJobSpecError, match="ps must be >= 1 for tensorflow-ps"):
        task.execute({})


def test_on_kill_of_a_deferred_operator_stops_every_process(tmp_path: Path):
    from airflow.sdk.exceptions import TaskDeferred

    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator
    from airflow_mlplat.services.process import pid_alive, wait_until

    job = scripted_job("opkill", env={"MODE_WORKER_0": "hang", "MODE_WORKER_1": "hang"})
    task = DistributedTrainingOperator(task_id="train", job=job, backend="local", state_root=str(tmp_path))
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({})
    trigger = deferred.value.trigger
    path, kwargs = trigger.serialize()
    assert path == "airflow_mlplat.triggers.training_job.TrainingJobTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs  # primitives only
    state_dir = tmp_path / "opkill"
    handle = kwargs["handle"]

    def running() -> list[int]:
        raw = json.loads((state_dir / "status.json").read_text()) if (state_dir / "status.json").exists() else None
        return job_pids(handle, raw["status"]) if raw and raw["status"]["replicas"] else []

    assert wait_until(lambda: len(running()) == 4 and all(pid_alive(p) for p in running()), timeout=60)
    pids = running()
    task.on_kill()
    assert not any(pid_alive(p) for p in pids)
    assert processes_of(state_dir) == []


def test_trigger_on_kill_removes_the_job(tmp_path: Path):
    from airflow_mlplat.launcher.backends import get_backend
    from airflow_mlplat.services.process import wait_until
    from airflow_mlplat.triggers.training_job import TrainingJobTrigger

    # every replica stays up, so "controller + ps + 2 workers" is a state to wait for, not a moment
    job = scripted_job("trigkill", env={"MODE_WORKER_0": "hang", "MODE_WORKER_1": "hang"})
    backend = get_backend("local", state_root=str(tmp_path))
    handle = backend.handle(job)
    backend.submit(job, handle)
    state_dir = tmp_path / "trigkill"
    assert wait_until(lambda: len(processes_of(state_dir)) == 4, timeout=60)
    asyncio.run(TrainingJobTrigger(handle=handle, poll_interval=0.2).on_kill())
    assert processes_of(state_dir) == []
    assert not state_dir.exists()


def test_sensor_waits_for_a_job_submitted_elsewhere(airflow_db, tmp_path: Path):
    from airflow.sdk import DAG

    from airflow_mlplat.launcher.backends import get_backend
    from airflow_mlplat.sensors.training_job import TrainingJobSensor

    job = scripted_job("sensed", env={"MODE_WORKER_1": "slow"})
    backend = get_backend("local", state_root=str(tmp_path))
    handle = backend.handle(job)
    backend.submit(job, handle)
    with DAG("training_sensor", schedule=None) as dag:
        TrainingJobSensor(
            task_id="wait", job_name="sensed", backend="local", state_root=str(tmp_path), poke_interval=0.3
        )
        TrainingJobSensor(
            task_id="wait_poke",
            job_name="sensed",
            backend="local",
            state_root=str(tmp_path),
            poke_interval=0.3,
            deferrable=False,
            mode="poke",
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"wait": "success", "wait_poke": "success"}
    for task_id in ("wait", "wait_poke"):
        result = xcom_value(dag_run, task_id)
        assert (result["job"], result["phase"], result["metrics"]) == ("sensed", "succeeded", {"accuracy": 0.9})
    # The sensors only watched: the job is still there for whoever submitted it to conclude.
    assert (tmp_path / "sensed" / "status.json").exists()
    backend.finish(handle, backend.status(handle))
    assert processes_of(tmp_path / "sensed") == [] and not (tmp_path / "sensed").exists()


def test_non_deferrable_operator_waits_in_the_task(tmp_path: Path):
    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator

    job = scripted_job("inline", framework="paddle-ps")
    task = DistributedTrainingOperator(
        task_id="train", job=job, backend="local", state_root=str(tmp_path), deferrable=False, poll_interval=0.2
    )
    result = task.execute({})
    assert (result["phase"], result["metrics"]) == ("succeeded", {"accuracy": 0.9})
    assert processes_of(tmp_path / "inline") == [] and not (tmp_path / "inline").exists()


@pytest.mark.parametrize("kind", ["operator", "sensor"])
def test_docstring_signature_and_template_fields_agree(kind):
    import inspect
    import re

    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator
    from airflow_mlplat.sensors.training_job import TrainingJobSensor

    cls = DistributedTrainingOperator if kind == "operator" else TrainingJobSensor
    documented = set(re.findall(r":param (\w+):", cls.__doc__))
    accepted = {n for n, p in inspect.signature(cls.__init__).parameters.items() if p.kind == p.KEYWORD_ONLY}
    assert documented == accepted
    task = cls(task_id="t", **({"job": scripted_job("x").to_dict()} if kind == "operator" else {"job_name": "x"}))
    assert all(hasattr(task, field) for field in cls.template_fields)


#: A replica that exports a two-by-two linear ONNX model (y = x @ [[1, 2], [3, 4]]) where the launcher says.
EXPORT_ONNX = (
    "import os\n"
    "from onnx import TensorProto, helper, save\n"
    "if os.environ.get('MLPLAT_EXPORT') == '1':\n"
    "    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', 2])\n"
    "    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, ['batch', 2])\n"
    "    w = helper.make_tensor('w', TensorProto.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0])\n"
    "    graph = helper.make_graph([helper.make_node('MatMul', ['x', 'w'], ['y'])], 'linear', [x], [y], [w])\n"
    "    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])\n"
    "    model.ir_version = 8\n"
    "    os.makedirs(os.environ['MLPLAT_MODEL_DIR'], exist_ok=True)\n"
    "    save(model, os.path.join(os.environ['MLPLAT_MODEL_DIR'], 'model.onnx'))\n"
)


def test_register_as_registers_the_exported_model_which_then_serves(
    airflow_db, mlflow_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from airflow.sdk import DAG
    from mlflow import MlflowClient

    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator
    from airflow_mlplat.serving.model import load_model_dir
    from airflow_mlplat.serving.registry import ModelRef, RegistryClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    output = tmp_path / "exported"
    job = scripted_job(
        "exporter", framework="pytorch", workers=1, command=["python", "-c", EXPORT_ONNX], output_path=output.as_uri()
    )
    with DAG("training_registers", schedule=None) as dag:
        DistributedTrainingOperator(
            task_id="train",
            job=job,
            backend="local",
            state_root=str(tmp_path / "launcher"),
            poll_interval=0.3,
            register_as="launcher-exported-linear",
            mlflow_conn_id=None,
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"train": "success"}
    registered = xcom_value(dag_run, "train")["registered"]
    assert registered["name"] == "launcher-exported-linear" and registered["format"] == "onnx"

    version = MlflowClient(mlflow_server).get_model_version("launcher-exported-linear", str(registered["version"]))
    assert version.tags["mlplat.framework"] == "pytorch" and version.tags["mlplat.job"] == "exporter"
    assert version.tags["airflow.dag_id"] == "training_registers" and version.tags["mlplat.source"] == output.as_uri()
    registry = RegistryClient(mlflow_server)
    info = registry.resolve(ModelRef.parse(f"models:/launcher-exported-linear/{registered['version']}"))
    model = load_model_dir(registry.download(info, tmp_path / "cache"), name=info.name, version=info.version, slot="s")
    assert model.predict([{"x": [1.0, 1.0]}, {"x": [0.0, 2.0]}]) == [{"y": [4.0, 6.0]}, {"y": [6.0, 8.0]}]


def test_register_settings_and_an_output_with_no_model_are_named(tmp_path: Path):
    from airflow_mlplat.modelzoo.formats import UploadError
    from airflow_mlplat.modelzoo.upload import register_exported_model
    from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator

    with pytest.raises(ValueError, match=r"DistributedTrainingOperator\(train\).register_format='keras': must be one"):
        DistributedTrainingOperator(task_id="train", job=scripted_job("x"), register_as="m", register_format="keras")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.pt").write_bytes(b"state dict")
    with pytest.raises(UploadError, match="no exported model to register"):
        register_exported_model((tmp_path / "out").as_uri(), name="m", tracking_uri="http://127.0.0.1:9")
