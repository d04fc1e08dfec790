"""Train a ranking model through the launcher as one task, then register it in MLflow.

The task a pipeline's ``ranking_model`` node becomes (see ``airflow_mlplat.dag_factory``); usable
on its own in a DAG file too. Importing this module imports neither torch nor mlflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_mlplat.operators.distributed_training import DistributedTrainingOperator
from airflow_mlplat.ranking.job import ranking_job

if TYPE_CHECKING:
    from airflow.sdk import Context


class RankingModelOperator(DistributedTrainingOperator):
    """Train ``model`` on encoded tables with PyTorch DDP workers; return its metrics.

    :param model: ``wide_deep``, ``deepfm``, ``dcn``, ``din`` or ``mmoe``.
    :param model_params: the model's declared parameters (``airflow_mlplat.ranking.params``).
    :param launcher: the job's settings: workers, cpu, memory, gpu, gpu_type, image, timeout.
    :param train: the encoded training table (a storage URL or ``hive://DB.TABLE``; templated).
    :param validation: the encoded validation table (templated).
    :param feature_map: the encoder model's folder or a ``feature_map.json`` (templated).
    :param output_path: where the model is published (a URL; templated).
    :param test: an encoded test table to score after training (templated).
    :param register: ``{"name", "alias"?, "description"?}``: register the model in MLflow after
        training (when a tracking URI resolves from ``mlflow_conn_id`` or the environment).
    :param mlflow_conn_id: the MLflow tracking connection (``mlflow_default`` may be undefined).
    :param pipeline_name: the pipeline the step belongs to (MLflow experiment and lineage).

    Invalid parameters or settings raise ``RankingParamsError`` naming each, when the task is
    made (at DAG parse time). Returns (XCom) the job's result: ``{"job", "phase", "output_path",
    "metrics", "message"}``, plus ``registered`` when the model was registered (also pushed as
    the ``tracking`` XCom). Other arguments: see ``DistributedTrainingOperator``.
    """

    ui_color = "#b5d8ff"

    def __init__(
        self,
        *,
        model: str,
        model_params: Mapping[str, Any] | None = None,
        launcher: Mapping[str, Any] | None = None,
        train: str,
        validation: str,
        feature_map: str,
        output_path: str,
        test: str | None = None,
        register: Mapping[str, Any] | None = None,
        mlflow_conn_id: str | None = "mlflow_default",
        pipeline_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        name = pipeline_name or model
        job = ranking_job(
            name=f"{name}-{kwargs['task_id']}",
            model=model,
            params=model_params,
            train=train,
            validation=validation,
            feature_map=feature_map,
            test=test,
            output_path=output_path,
            launcher=launcher,
        )
        register = dict(register) if register else None
        super().__init__(
            job=job, register_as=register["name"] if register else None, mlflow_conn_id=mlflow_conn_id, **kwargs
        )
        self.register = register
        self.pipeline_name = pipeline_name

    def register_model(self, context: Context, result: dict[str, Any], tracking_uri: str) -> dict[str, Any]:
        """The ranking models' own registration: ONNX flavour, metrics per epoch, curve, lineage."""
        from airflow_mlplat.ranking.registration import register_ranking_model

        assert self.register is not None
        return register_ranking_model(
            result["output_path"],
            name=self.register_as or self.register["name"],
            tracking_uri=tracking_uri,
            pipeline=self.pipeline_name,
            alias=self.register.get("alias"),
            lineage={"airflow.dag_id": self.dag_id, "airflow.run_id": context["run_id"]},
        )
