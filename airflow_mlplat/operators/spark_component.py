"""One component as its own Airflow task: a one-node pipeline run through ``spark-submit``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_mlplat.operators.spark_pipeline import BaseSparkPipelineOperator
from airflow_mlplat.pipeline.model import PARAM_REF_KEY

if TYPE_CHECKING:
    from airflow.sdk import Context

_NON_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def _identifier(text: str) -> str:
    """``text`` as a pipeline identifier (letters, digits, underscores; no leading digit)."""
    name = _NON_IDENTIFIER.sub("_", text)
    return name if name[:1].isalpha() or name[:1] == "_" else f"_{name}"


def _param_refs(component_params: Mapping[str, Any]) -> dict[str, str]:
    """``{component param: DAG param}`` for each value written as ``{"$param": NAME}``."""
    return {
        key: value[PARAM_REF_KEY]
        for key, value in component_params.items()
        if isinstance(value, Mapping) and PARAM_REF_KEY in value and isinstance(value[PARAM_REF_KEY], str)
    }


class SparkComponentOperator(BaseSparkPipelineOperator):
    """Run one component in its own Spark application, reading and writing materialized datasets.

    :param component: the component's registered name, e.g. ``synthetic_purchase_intent``.
    :param component_params: the component's parameters (templated). A value may be
        ``{"$param": NAME}``: the DAG Param ``NAME`` of the run. (``params`` is taken by
        Airflow for the task's Params.)
    :param inputs: ``{input port: path or URL}`` of datasets materialized earlier (templated):
        tables as parquet, models as Spark ML saves, metrics as JSON.
    :param outputs: ``{output port: path or URL}`` to materialize the outputs at (templated).
        Outputs not listed are computed and dropped (metrics still reach the XCom).
    :param origin: ``"page"`` when the node comes from a pipeline saved from the page: its
        locations, tables and Spark settings are then confined (``airflow_mlplat.pipeline.page_policy``).
    :param preview: write the first rows and a column profile of each table output beside the run
        report, for the page (the pipeline's ``preview``).

    See ``BaseSparkPipelineOperator`` for the other arguments. The one node's id is the task id
    (made an identifier). Returns (as XCom) ``{node_id: {metric: value}}``.

    :raises PipelineValidationError: the component, a parameter, a port or a referenced DAG
        Param is invalid (nothing was submitted).
    :raises PipelineRunError: the run failed.
    """

    template_fields: Sequence[str] = (
        "component_params",
        "inputs",
        "outputs",
        *BaseSparkPipelineOperator.template_fields,
    )
    template_fields_renderers = {
        **BaseSparkPipelineOperator.template_fields_renderers,
        "component_params": "json",
        "inputs": "json",
        "outputs": "json",
    }

    def __init__(
        self,
        *,
        component: str,
        component_params: Mapping[str, Any] | None = None,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        origin: str = "file",
        preview: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.origin = origin
        self.preview = preview
        self.component = component
        self.component_params = dict(component_params or {})
        self.inputs = dict(inputs or {})
        self.outputs = dict(outputs or {})

    def pipeline_document(self, context: Context) -> tuple[dict[str, Any], str]:
        from airflow_mlplat.pipeline import PipelineValidationError, Problem

        node_id = _identifier(self.task_id)
        source = f"task {self.task_id!r}"
        dag_params = context.get("params") or {}
        refs = _param_refs(self.component_params)
        missing = [
            Problem(f"component_params.{key}", f"refers to DAG Param {name!r}, which the DAG does not declare")
            for key, name in refs.items()
            if name not in dag_params
        ]
        if missing:
            raise PipelineValidationError(missing, source)
        doc = {
            "name": node_id,
            "origin": self.origin,
            "preview": self.preview,
            "params": {name: {"default": dag_params[name]} for name in sorted(set(refs.values()))},
            "nodes": [
                {
                    "id": node_id,
                    "component": self.component,
                    "params": self.component_params,
                    "inputs": {port: {"path": str(path)} for port, path in self.inputs.items()},
                }
            ],
            "outputs": {port: {"from": f"{node_id}.{port}", "path": str(path)} for port, path in self.outputs.items()},
        }
        return doc, source
