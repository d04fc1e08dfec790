"""A Jupyter notebook as a scheduled task: papermill on the project's kernel, saved under the run folder.

Importing this module imports neither papermill nor Jupyter nor Spark.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_mlplat.storage.runs import task_run_dir

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_mlplat.hooks.notebook import NotebookHook

#: XCom with the executed notebook's path (pushed before it runs, so a failed run's is found too).
NOTEBOOK_XCOM_KEY = "notebook_path"


class NotebookOperator(BaseOperator):
    """Execute a notebook with papermill; save the executed copy in the task's run folder.

    Parameters go in after the notebook's cell tagged ``parameters`` (papermill's convention):
    the DAG's Params fill the notebook parameters of the same name, Params the notebook does not
    declare are ignored, and ``parameters`` wins over both. When the notebook declares a
    parameter named ``run_dir_parameter``, it receives the task's run folder (where the notebook
    can write its pipeline runs).

    :param notebook: path of the ``.ipynb`` to run (templated).
    :param parameters: values for the notebook's parameters (templated; rendered template values
        are strings unless the DAG renders native objects).
    :param output_path: where to save the executed notebook (templated); default
        ``$MLPLAT_RUN_ROOT/DAG_ID/RUN_ID/TASK_ID/NOTEBOOK_NAME.ipynb``.
    :param run_dir_parameter: the notebook parameter that receives the run folder; None: none.
    :param kernel_name: None: the project's kernel (the worker's interpreter, see
        ``airflow_mlplat.notebook_kernel``); else the name of an installed kernelspec.
    :param metastore_conn_id: the Hive metastore connection handed to the notebook's Spark
        session (``airflow_mlplat.sdk.spark()``); ``metastore_default`` may be undefined.
    :param mlflow_conn_id: the MLflow connection handed to the notebook (``MLFLOW_TRACKING_URI``);
        ``mlflow_default`` may be undefined.
    :param cell_timeout: seconds one cell may run; None: no limit (the task's
        ``execution_timeout`` still applies).
    :param start_timeout: seconds the kernel may take to start.
    :param log_output: copy the cells' output to the task log.

    Returns (as XCom) ``{"notebook": path, "parameters": {...}}``; the ``notebook_path`` XCom
    names the executed notebook (the plugin's results page offers it for download).

    :raises papermill.PapermillExecutionError: a cell raised; the saved notebook shows where.
    """

    template_fields: Sequence[str] = ("notebook", "parameters", "output_path")
    template_fields_renderers = {"parameters": "json"}
    ui_color = "#f7c873"

    def __init__(
        self,
        *,
        notebook: str | os.PathLike[str],
        parameters: Mapping[str, Any] | None = None,
        output_path: str | None = None,
        run_dir_parameter: str | None = "run_dir",
        kernel_name: str | None = None,
        metastore_conn_id: str | None = "metastore_default",
        mlflow_conn_id: str | None = "mlflow_default",
        cell_timeout: float | None = None,
        start_timeout: float = 120.0,
        log_output: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.notebook = os.fspath(notebook)
        self.parameters = dict(parameters or {})
        self.output_path = output_path
        self.run_dir_parameter = run_dir_parameter
        self.kernel_name = kernel_name
        self.metastore_conn_id = metastore_conn_id
        self.mlflow_conn_id = mlflow_conn_id
        self.cell_timeout = cell_timeout
        self.start_timeout = start_timeout
        self.log_output = log_output

    @cached_property
    def hook(self) -> NotebookHook:
        from airflow_mlplat.hooks.notebook import NotebookHook

        return NotebookHook(
            metastore_conn_id=self.metastore_conn_id,
            mlflow_conn_id=self.mlflow_conn_id,
            kernel_name=self.kernel_name,
            start_timeout=self.start_timeout,
            cell_timeout=self.cell_timeout,
            log_output=self.log_output,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        notebook = Path(self.notebook)
        if not notebook.is_file():
            raise FileNotFoundError(f"{type(self).__name__} {self.task_id!r}: no notebook at {notebook}")
        run_dir = task_run_dir(self.dag_id, context["run_id"], self.task_id)
        output = self.output_path or os.path.join(run_dir, notebook.name)
        declared = self.hook.declared_parameters(notebook)
        dag_params = context.get("params") or {}
        values = {name: dag_params[name] for name in declared if name in dag_params}
        if self.run_dir_parameter and self.run_dir_parameter in declared:
            values[self.run_dir_parameter] = run_dir
        values.update(self.parameters)
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        context["ti"].xcom_push(key=NOTEBOOK_XCOM_KEY, value=str(output))
        self.hook.run_notebook(notebook, output, values)
        return {"notebook": str(output), "parameters": values}

    def on_kill(self) -> None:
        if "hook" in self.__dict__:
            self.hook.on_kill()
