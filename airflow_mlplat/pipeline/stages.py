"""A pipeline with deep training steps, split into the tasks of its DAG.

Spark nodes and ``ranking_model`` nodes cannot share one Spark application. The graph is cut
where it crosses between the two: each maximal run of Spark nodes becomes one *Spark stage* (a
sub-pipeline, run fused in one application as a pipeline without deep nodes is), and each deep
node its own *deep step* (a launcher job). A node's stage is the number of crossings on its
longest path from the sources; Spark nodes of one stage number share a stage.

Tables and models passed across a cut are materialised under the run directory, at
``RUN_DIR/NODE/PORT`` (or at the path a pipeline output gives them): a Spark stage writes them as
outputs of its sub-pipeline, and the next task reads them from there (a Spark stage as
``{"path": ...}`` inputs). A deep step publishes its model at ``RUN_DIR/NODE/model``; its
``predictions`` are the ``test_predictions.parquet`` inside. Pure Python: runs at DAG parse time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from airflow_mlplat.pipeline.errors import PipelineValidationError, Problem
from airflow_mlplat.pipeline.graph import topological_order, upstream_ids
from airflow_mlplat.pipeline.model import Node, PathInput, Pipeline, PipelineOutput, split_reference
from airflow_mlplat.ranking.node import PREDICTIONS_FILE, RANKING_COMPONENT

#: Task id of the Spark stage ``N`` (from 1) when a pipeline has deep steps.
SPARK_STAGE_TASK = "spark_stage_{}"


@dataclasses.dataclass(frozen=True)
class SparkStage:
    """Spark nodes run in one application: ``document`` is their sub-pipeline."""

    task_id: str
    document: dict[str, Any]
    upstream: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class DeepStep:
    """One ``ranking_model`` node: its inputs' and its model's locations, and its registration."""

    task_id: str
    node: Node
    inputs: dict[str, str]
    output_path: str
    register: dict[str, Any] | None
    upstream: tuple[str, ...]


def is_deep(node: Node) -> bool:
    return node.component == RANKING_COMPONENT


def has_deep_steps(pipeline: Pipeline) -> bool:
    return any(is_deep(node) for node in pipeline.nodes)


def output_locations(pipeline: Pipeline, run_dir: str) -> dict[str, str]:
    """``{"NODE.PORT": location}`` of every output another task may read."""
    chosen: dict[str, str] = {}
    for output in pipeline.outputs.values():
        if isinstance(output, PipelineOutput) and output.path:
            chosen.setdefault(output.from_, output.path)
    locations: dict[str, str] = {}
    for node in pipeline.nodes:
        if is_deep(node):
            model = chosen.get(f"{node.id}.model", f"{run_dir}/{node.id}/model")
            locations[f"{node.id}.model"] = model
            locations[f"{node.id}.predictions"] = f"{model.rstrip('/')}/{PREDICTIONS_FILE}"
    return {**chosen, **locations}


def location_of(locations: dict[str, str], ref: str, run_dir: str) -> str:
    node_id, port = split_reference(ref)
    return locations.get(ref, f"{run_dir}/{node_id}/{port}")


def stage_numbers(pipeline: Pipeline) -> dict[str, int]:
    """Each node's stage: the most Spark/deep crossings on a path from a source to it."""
    nodes = {node.id: node for node in pipeline.nodes}
    stage: dict[str, int] = {}
    for node_id in topological_order(pipeline.nodes):
        node = nodes[node_id]
        stage[node_id] = max(
            (stage[up] + (1 if is_deep(node) or is_deep(nodes[up]) else 0) for up in upstream_ids(node)),
            default=0,
        )
    return stage


def split(pipeline: Pipeline, run_dir: str, source: str = "pipeline") -> list[SparkStage | DeepStep]:
    """The pipeline's tasks in an order where every task comes after its upstreams.

    :raises PipelineValidationError: a registered Spark model's ``sample`` lies in another stage,
        or a node id is a Spark stage's task id.
    """
    stage = stage_numbers(pipeline)
    locations = output_locations(pipeline, run_dir)
    spark_numbers = sorted({stage[n.id] for n in pipeline.nodes if not is_deep(n)})
    spark_task = {number: SPARK_STAGE_TASK.format(index) for index, number in enumerate(spark_numbers, 1)}
    task_of = {n.id: n.id if is_deep(n) else spark_task[stage[n.id]] for n in pipeline.nodes}
    clashes = sorted(set(spark_task.values()) & {n.id for n in pipeline.nodes})
    if clashes:
        raise PipelineValidationError(
            [Problem(f"node {c!r}", "this id names a Spark stage's task; rename the node") for c in clashes], source
        )
    registration = pipeline.registration
    register_task = task_of.get(split_reference(registration.model)[0]) if registration else None
    if registration and registration.sample and task_of[split_reference(registration.sample)[0]] != register_task:
        raise PipelineValidationError(
            [Problem("register.sample", "must come from the Spark stage of register.model (nodes after no deep step)")],
            source,
        )
    # Every reference read by a task other than its producer's is materialised.
    crossing: dict[str, set[str]] = {}
    for node in pipeline.nodes:
        for ref in node.inputs.values():
            if isinstance(ref, str) and task_of[split_reference(ref)[0]] != task_of[node.id]:
                crossing.setdefault(task_of[split_reference(ref)[0]], set()).add(ref)

    def upstream_tasks(members: list[Node]) -> tuple[str, ...]:
        ups = {task_of[up] for node in members for up in upstream_ids(node)} - {task_of[members[0].id]}
        return tuple(sorted(ups))

    order = {node_id: index for index, node_id in enumerate(stage)}  # stage_numbers keeps topological order
    steps: list[tuple[int, SparkStage | DeepStep]] = []
    for number, task_id in spark_task.items():
        members = [n for n in pipeline.nodes if not is_deep(n) and stage[n.id] == number]
        document = _sub_pipeline(pipeline, members, task_of, crossing.get(task_id, set()), locations, run_dir)
        if register_task == task_id:
            document["register"] = registration.model_dump(mode="json", by_alias=True, exclude_none=True)
        steps.append((min(order[n.id] for n in members), SparkStage(task_id, document, upstream_tasks(members))))
    for node in pipeline.nodes:
        if not is_deep(node):
            continue
        inputs = {
            port: ref.path if isinstance(ref, PathInput) else location_of(locations, ref, run_dir)
            for port, ref in node.inputs.items()
        }
        register = None
        if registration and register_task == node.id:
            register = {"name": registration.name, "alias": registration.alias}
        step = DeepStep(node.id, node, inputs, locations[f"{node.id}.model"], register, upstream_tasks([node]))
        steps.append((order[node.id], step))
    # A task's first node comes after every node it reads from, so this order respects the edges.
    return [step for _, step in sorted(steps, key=lambda item: item[0])]


def _sub_pipeline(
    pipeline: Pipeline,
    members: list[Node],
    task_of: dict[str, str],
    materialise: set[str],
    locations: dict[str, str],
    run_dir: str,
) -> dict[str, Any]:
    task_id = task_of[members[0].id]
    nodes = []
    for node in members:
        described = node.model_dump(mode="json", by_alias=True, exclude_none=True)
        described["inputs"] = {
            port: (
                {"path": location_of(locations, ref, run_dir)}
                if isinstance(ref, str) and task_of[split_reference(ref)[0]] != task_id
                else ref
                if isinstance(ref, str)
                else {"path": ref.path}
            )
            for port, ref in node.inputs.items()
        }
        nodes.append(described)
    member_ids = {node.id for node in members}
    outputs: dict[str, Any] = {}
    for name, output in pipeline.outputs.items():
        if isinstance(output, PipelineOutput):
            if split_reference(output.from_)[0] in member_ids:
                outputs[name] = output.model_dump(by_alias=True, exclude_none=True)
        elif split_reference(output)[0] in member_ids:
            outputs[name] = output
    chosen = {o.from_ for o in pipeline.outputs.values() if isinstance(o, PipelineOutput) and o.path}
    for ref in sorted(materialise - chosen):
        outputs[ref.replace(".", "__")] = {"from": ref, "path": location_of(locations, ref, run_dir)}
    document = pipeline.to_dict()
    document.pop("register", None)
    document.update(nodes=nodes, outputs=outputs)
    return document
