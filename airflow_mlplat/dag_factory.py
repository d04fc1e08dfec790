"""Pipeline JSON files become DAGs.

``pipeline_dags(folder)`` turns every ``*.json`` in ``folder`` into a DAG whose id is the
pipeline's name and whose Params are the pipeline's params (typed and bounded from the
declarations of the component parameters that use them, so the UI trigger form checks them).

- ``"execution": "fused"`` (the default): one ``SparkPipelineOperator`` runs the whole graph in
  one Spark application, passing DataFrames in memory.
- ``"execution": "per_node"``: one ``SparkComponentOperator`` per node, wired by the node
  inputs. Every output of a node is materialized at ``RUN_DIR/NODE/PORT`` (or at the path a
  pipeline output names) and downstream tasks read it from there; ``RUN_DIR`` is
  ``RUN_ROOT/DAG_ID/RUN_ID``.

A pipeline's ``"schedule"`` (e.g. ``"@daily"``) becomes its DAG's schedule (default: none).

Parsing validates (no pyspark, no mlflow) and raises ``PipelineValidationError`` naming each
invalid file, node and field, so a broken pipeline shows as a DAG file's import error instead of
failing at run time. In a DAGs folder each pipeline JSON has its own generated DAG file calling
:func:`pipeline_file_dag` (see ``airflow_mlplat.dag_files``): a broken pipeline fails only its
own file and every other pipeline keeps its DAG.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param

from airflow_mlplat.operators.ranking_model import RankingModelOperator
from airflow_mlplat.operators.spark_component import SparkComponentOperator
from airflow_mlplat.operators.spark_pipeline import SparkPipelineOperator
from airflow_mlplat.pipeline import Pipeline, PipelineValidationError, Problem, load_pipeline, validate_pipeline
from airflow_mlplat.pipeline.model import PARAM_REF_KEY, Node, PathInput, split_reference
from airflow_mlplat.pipeline.stages import DeepStep, has_deep_steps, is_deep, location_of, output_locations, split
from airflow_mlplat.pipeline.validate import file_name_problem
from airflow_mlplat.ranking.node import training_settings
from airflow_mlplat.storage.runs import default_run_root
from airflow_mlplat.storage.urls import scheme_of

#: The run id as a path segment: run ids hold ':' and '+', which Hadoop paths reject.
SAFE_RUN_ID = "{{ run_id | replace(':', '_') | replace('+', '_') }}"
#: Task id of the one task of a fused pipeline's DAG.
FUSED_TASK_ID = "run_pipeline"
#: Start date of scheduled pipeline DAGs (catchup is off, so only the next interval runs).
_START_DATE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

_SCHEMA_TYPES = {"integer", "number", "string", "boolean", "null"}
_SCHEMA_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum")


def component_param_schema(component: str, param: str) -> dict[str, Any]:
    """JSON schema (for an Airflow ``Param``) of one component parameter, from its declaration.

    Types a simple schema cannot say (lists, mappings) give an untyped schema.
    """
    from airflow_mlplat.components.registry import get_component

    declared = get_component(component).param(param)
    if declared is None:
        raise KeyError(f"{param!r} is not a parameter of component {component!r}")
    described = declared.to_dict()
    schema = {key: described[key] for key in _SCHEMA_KEYS if key in described}
    types = described["type"].split(" or ")
    if "enum" not in schema and set(types) <= _SCHEMA_TYPES:
        schema["type"] = types[0] if len(types) == 1 else types
    return schema


def component_dag_param(component: str, param: str, *, default: Any = None, description: str | None = None) -> Param:
    """An Airflow ``Param`` for one component parameter: its declared type, bounds and help."""
    from airflow_mlplat.components.registry import get_component

    declared = get_component(component).param(param)
    if declared is None:
        raise KeyError(f"{param!r} is not a parameter of component {component!r}")
    if default is None and not declared.required:
        default = declared.default
    return Param(default, description=description or declared.help, **component_param_schema(component, param))


def dag_params(pipeline: Pipeline) -> dict[str, Param]:
    """The pipeline's params as Airflow Params, typed from the first component parameter using each."""
    schemas: dict[str, dict[str, Any]] = {}
    for node in pipeline.nodes:
        for key, raw in node.params.items():
            if isinstance(raw, Mapping) and set(raw) == {PARAM_REF_KEY}:
                schemas.setdefault(raw[PARAM_REF_KEY], component_param_schema(node.component, key))
    return {
        name: Param(param.default, description=param.description or None, **schemas.get(name, {}))
        for name, param in pipeline.params.items()
    }


def pipeline_dag(source: str | os.PathLike[str], *, run_root: str | None = None, **dag_kwargs: Any) -> DAG:
    """The DAG of one pipeline file.

    :param source: the pipeline JSON file.
    :param run_root: where runs go (default ``default_run_root()``: ``$MLPLAT_RUN_ROOT`` or
        ``$AIRFLOW_HOME/mlplat-runs``); a run's directory is ``RUN_ROOT/DAG_ID/RUN_ID``.
    :param dag_kwargs: override the DAG's arguments (``tags``, ``default_args``, ...).
    :raises PipelineValidationError: the file is not a valid pipeline.
    """
    path = os.fspath(source)
    doc = load_pipeline(Path(path))
    pipeline = validate_pipeline(doc, source=path)
    schedule = pipeline.schedule
    kwargs: dict[str, Any] = {
        "dag_id": pipeline.name,
        "description": pipeline.description.splitlines()[0][:200] if pipeline.description else None,
        "doc_md": f"Pipeline `{path}` ({pipeline.execution}).\n\n{pipeline.description}",
        "schedule": schedule,
        "start_date": _START_DATE if schedule else None,
        "catchup": False,
        "params": dag_params(pipeline),
        "tags": ["mlplat", "pipeline", pipeline.execution],
    }
    kwargs.update(dag_kwargs)
    run_dir = f"{run_root or default_run_root()}/{kwargs['dag_id']}/{SAFE_RUN_ID}"
    if has_deep_steps(pipeline):
        kwargs["tags"] = [*kwargs["tags"], "deep"]
    with DAG(**kwargs) as dag:
        if pipeline.execution == "per_node":
            _per_node_tasks(pipeline, run_dir)
        elif has_deep_steps(pipeline):
            _staged_tasks(pipeline, run_dir, path)
        else:
            SparkPipelineOperator(task_id=FUSED_TASK_ID, pipeline=doc, out_dir=f"{run_dir}/{FUSED_TASK_ID}")
    return dag


def pipeline_file_dag(dag_file: str | os.PathLike[str], *, run_root: str | None = None) -> DAG:
    """The DAG of the pipeline beside a generated DAG file: ``NAME.py`` -> ``NAME.json``.

    :raises PipelineValidationError: the JSON is not a valid pipeline, or its name is not the
        file's stem (file name, pipeline name and DAG id are one identity).
    """
    json_path = Path(dag_file).with_suffix(".json")
    problems: list[Problem] = []
    try:
        mismatch = file_name_problem(json_path, load_pipeline(json_path))
        if mismatch is not None:
            problems.append(mismatch)
        dag = pipeline_dag(json_path, run_root=run_root)
    except PipelineValidationError as error:
        raise PipelineValidationError(problems + list(error.problems), str(json_path)) from None
    if problems:
        raise PipelineValidationError(problems, str(json_path))
    return dag


def _staged_tasks(pipeline: Pipeline, run_dir: str, source: str) -> None:
    """Spark stages (fused sub-pipelines) and deep steps, wired by what they read."""
    tasks: dict[str, Any] = {}
    for step in split(pipeline, run_dir, source):
        if isinstance(step, DeepStep):
            task = _ranking_task(pipeline, step.node, step.inputs, step.output_path, step.register)
        else:
            task = SparkPipelineOperator(
                task_id=step.task_id, pipeline=step.document, out_dir=f"{run_dir}/{step.task_id}"
            )
        for upstream in step.upstream:
            tasks[upstream] >> task
        tasks[step.task_id] = task


def _ranking_task(
    pipeline: Pipeline, node: Node, inputs: dict[str, str], output_path: str, register: dict[str, Any] | None
) -> RankingModelOperator:
    settings = training_settings()
    return RankingModelOperator(
        task_id=node.id,
        model=str(node.model),
        model_params=node.params,
        launcher=node.launcher,
        train=inputs["train"],
        validation=inputs["validation"],
        feature_map=inputs["feature_map"],
        test=inputs.get("test"),
        output_path=output_path if scheme_of(output_path) else f"file://{output_path}",
        register=register,
        pipeline_name=pipeline.name,
        backend=settings["backend"],
        namespace=settings["namespace"],
        cluster_profile=settings["cluster_profile"],
        doc_md=node.description or None,
    )


def _per_node_tasks(pipeline: Pipeline, run_dir: str) -> None:
    from airflow_mlplat.components.registry import get_component

    locations = output_locations(pipeline, run_dir)

    def location(ref: str) -> str:
        return location_of(locations, ref, run_dir)

    registration = pipeline.registration
    tasks: dict[str, Any] = {}
    for node in pipeline.nodes:
        inputs = {port: ref.path if isinstance(ref, PathInput) else location(ref) for port, ref in node.inputs.items()}
        if is_deep(node):
            registered = registration is not None and split_reference(registration.model)[0] == node.id
            register = {"name": registration.name, "alias": registration.alias} if registered else None
            tasks[node.id] = _ranking_task(pipeline, node, inputs, location(f"{node.id}.model"), register)
            continue
        spec = get_component(node.component)
        tasks[node.id] = SparkComponentOperator(
            task_id=node.id,
            component=node.component,
            component_params=node.params,
            inputs=inputs,
            outputs={port.name: location(f"{node.id}.{port.name}") for port in spec.outputs},
            out_dir=f"{run_dir}/{node.id}/_run",
            conf=pipeline.spark_conf,
            origin=pipeline.origin,
            preview=pipeline.preview,
            doc_md=node.description or None,
        )
    for node in pipeline.nodes:
        for ref in node.inputs.values():
            if isinstance(ref, str):
                tasks[split_reference(ref)[0]] >> tasks[node.id]


def pipeline_dags(folder: str | os.PathLike[str], *, run_root: str | None = None) -> dict[str, DAG]:
    """``{dag_id: DAG}`` for every ``*.json`` pipeline in ``folder`` (sorted by file name).

    :raises PipelineValidationError: listing the problems of every invalid file (each line
        names the file), or two files that define the same pipeline name.
    """
    dags: dict[str, DAG] = {}
    files: dict[str, str] = {}
    errors: list[PipelineValidationError] = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            dag = pipeline_dag(path, run_root=run_root)
        except PipelineValidationError as error:
            errors.append(error)
            continue
        if dag.dag_id in dags:
            problem = Problem("name", f"{dag.dag_id!r} is already the name of {files[dag.dag_id]}")
            errors.append(PipelineValidationError([problem], str(path)))
            continue
        dags[dag.dag_id] = dag
        files[dag.dag_id] = str(path)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        problems = [
            Problem(f"{e.source}: {p.where}" if p.where else e.source, p.message) for e in errors for p in e.problems
        ]
        raise PipelineValidationError(problems, source=f"pipelines in {folder}")
    return dags
