"""The ML engine: run every node of a pipeline, in order, inside one SparkSession.

DataFrames and models pass between nodes in memory. A table whose rows two or more consumers
read (nodes or pipeline outputs; a ``SchemaOnly`` input reads none) is cached, and released
after its last consumer. Declared outputs are materialized atomically; the run report records
per-node status, rows, seconds and metrics, and is written even when a node fails. Each table
output also gets a preview (its first rows and a column profile, ``engine.preview``) unless the
pipeline says ``"preview": false`` (or the deployment, ``[mlplat] table_previews = False``).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import time
import traceback
import uuid
from typing import Any

from airflow_mlplat import __version__, config
from airflow_mlplat.components.registry import get_component
from airflow_mlplat.components.spec import ComponentSpec, PortKind
from airflow_mlplat.engine import storage
from airflow_mlplat.engine.connect import is_connect
from airflow_mlplat.engine.context import ComponentContext
from airflow_mlplat.engine.preflight import preflight_problems
from airflow_mlplat.engine.preview import ROWS, TablePreview, preview_url
from airflow_mlplat.pipeline.graph import topological_order
from airflow_mlplat.pipeline.model import PathInput, Pipeline, PipelineOutput
from airflow_mlplat.pipeline.resolve import resolved_node_params
from airflow_mlplat.pipeline.validate import resolve_param_values

log = logging.getLogger("airflow_mlplat.engine")

REPORT_NAME = "report.json"


class NodeFailed(RuntimeError):
    """A node raised; the report has been written. ``report`` is that report."""

    def __init__(self, node_id: str, component: str, error: BaseException, report: dict[str, Any]) -> None:
        self.node_id = node_id
        self.report = report
        super().__init__(f"node {node_id!r} ({component}) failed: {type(error).__name__}: {error}")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


def _spark_info(spark: Any) -> dict[str, Any]:
    """The report's ``spark`` entry: master and application id (a Connect session: its server's)."""
    if is_connect(spark):
        return {
            "master": spark.conf.get("spark.master", None),
            "app_id": spark.conf.get("spark.app.id", None),
            "session": "connect",
        }
    return {"master": spark.sparkContext.master, "app_id": spark.sparkContext.applicationId}


class _Run:
    def __init__(self, pipeline: Pipeline, out_dir: str, spark: Any, values: dict[str, Any], count_rows: bool):
        self.pipeline = pipeline
        self.out_dir = out_dir.rstrip("/")
        self.spark = spark
        self.values = values
        self.count_rows = count_rows
        self.previews = pipeline.preview and config.flag(config.TABLE_PREVIEWS, default=True)
        self.results: dict[str, Any] = {}  # "node.port" -> value
        self.remaining_uses: collections.Counter[str] = collections.Counter()
        self.cached: set[str] = set()
        self.output_urls: dict[str, str] = {}
        self.output_rows: dict[str, int | None] = {}
        self.report: dict[str, Any] = {
            "pipeline": pipeline.name,
            "status": "running",
            "engine_version": __version__,
            "started_at": _now(),
            "finished_at": None,
            "seconds": None,
            "params": values,
            "nodes": {
                n.id: {
                    "component": n.component,
                    "status": "pending",
                    "seconds": None,
                    "rows": {},
                    "metrics": {},
                    "artifacts": [],
                    "details": {},
                    "previews": {},
                    "preview_errors": {},
                    "error": None,
                }
                for n in pipeline.nodes
            },
            "metrics": {},
            "outputs": {},
            "spark": _spark_info(spark),
        }
        self.row_readers: collections.Counter[str] = collections.Counter()  # consumers that read a table's rows
        for node in pipeline.nodes:
            spec = get_component(node.component)
            for port_name, ref in node.inputs.items():
                if isinstance(ref, str):
                    self.remaining_uses[ref] += 1
                    port = spec.input(port_name)
                    self.row_readers[ref] += not (port is not None and port.schema_only)
        self.outputs_by_ref: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
        for name, output in pipeline.outputs.items():
            ref = output.from_ if isinstance(output, PipelineOutput) else output
            url = (
                output.path if isinstance(output, PipelineOutput) and output.path else f"{self.out_dir}/outputs/{name}"
            )
            self.outputs_by_ref[ref].append((name, url))
            self.remaining_uses[ref] += 1
            self.row_readers[ref] += 1

    def write_report(self) -> None:
        storage.write_json(f"{self.out_dir}/{REPORT_NAME}", _jsonable(self.report))

    def _input_values(self, node_id: str, spec: ComponentSpec, inputs: dict[str, Any]) -> dict[str, Any]:
        values = {}
        for port_name, ref in inputs.items():
            port = spec.input(port_name)
            assert port is not None  # validated
            if isinstance(ref, PathInput):
                log.info("node %s: loading %s %s from %s", node_id, port.kind.value, port_name, ref.path)
                values[port_name] = storage.load_port(self.spark, port.kind, ref.path)
            else:
                values[port_name] = self.results[ref]
        return values

    def _release(self, ref: str) -> None:
        self.remaining_uses[ref] -= 1
        if self.remaining_uses[ref] <= 0 and ref in self.cached:
            self.results[ref].unpersist()
            self.cached.discard(ref)

    def _previewing(self, node_id: str, port: str, step: Any, *args: Any) -> bool:
        """Run one step of a table's preview; a failure is logged and recorded, never the node's failure."""
        try:
            step(*args)
        except Exception as exc:
            self._preview_failed(node_id, port, exc)
            return False
        return True

    def _preview_failed(self, node_id: str, port: str, error: Exception) -> None:
        log.warning("node %s: the preview of %s failed: %s: %s", node_id, port, type(error).__name__, error)
        self.report["nodes"][node_id]["preview_errors"][port] = f"{type(error).__name__}: {error}"[:1000]

    def _table_preview(self, node_id: str, port: str, table: Any) -> TablePreview | None:
        """A preview to fill for this table output, or None: the pipeline or the deployment (``[mlplat]
        table_previews``) wants none, or the table has no schema."""
        if not self.previews:
            return None
        try:
            return TablePreview(table.schema)
        except Exception as exc:
            self._preview_failed(node_id, port, exc)
            return None

    def _observed(
        self, node_id: str, port: str, name: str, table: Any, preview: TablePreview | None
    ) -> tuple[Any, Any]:
        """``(observation, observed table)`` to write output ``name`` with: its row count and, with a preview,
        the profile. A profile Spark cannot analyse on this table leaves the count alone (the preview is
        recorded as failed), so a preview never fails a write."""
        from pyspark.sql import Observation
        from pyspark.sql import functions as F

        profile = preview.aggregates(table) if preview is not None else None
        if profile:
            observation = Observation(f"profile:{name}:{uuid.uuid4().hex[:8]}")
            try:
                return observation, table.observe(observation, *profile)
            except Exception as exc:
                self._preview_failed(node_id, port, exc)
        observation = Observation(f"rows:{name}:{uuid.uuid4().hex[:8]}")
        return observation, table.observe(observation, F.count(F.lit(1)).alias(ROWS))

    def _write_preview(self, node_id: str, port: str, preview: TablePreview, value: Any, written: str | None) -> None:
        """Compute what the preview still lacks (the profile: one job; the rows: from the written files
        when there are some) and write it atomically beside the report."""
        entry = self.report["nodes"][node_id]
        if port in entry["preview_errors"]:
            return
        if preview.values is None and not self._previewing(node_id, port, preview.profile, value):
            return
        if preview.rows is None:

            def sample() -> None:  # from the written files where there are some: the first ones only
                preview.sample(storage.load_port(self.spark, PortKind.TABLE, written) if written else value)

            if not self._previewing(node_id, port, sample):
                return
        url = preview_url(self.out_dir, node_id, port)
        if self._previewing(node_id, port, lambda: storage.write_json(url, preview.document(node_id, port))):
            entry["previews"][port] = url

    def run_node(self, index: int, node_id: str) -> None:
        node = self.pipeline.node(node_id)
        spec = get_component(node.component)
        entry = self.report["nodes"][node_id]
        total = len(self.pipeline.nodes)
        log.info("[%d/%d] node %s (%s) started", index, total, node_id, spec.name)
        entry["status"] = "running"
        started = time.perf_counter()
        kwargs = resolved_node_params(self.pipeline, node, self.values)
        inputs = self._input_values(node_id, spec, node.inputs)
        ctx = ComponentContext(
            spark=self.spark,
            node_id=node_id,
            artifacts_dir=f"{self.out_dir}/artifacts/{node_id}",
            log=logging.getLogger(f"airflow_mlplat.engine.{node_id}"),
        )
        if is_connect(self.spark):
            self.spark.clearTags()
            self.spark.addTag(node_id)
        else:
            self.spark.sparkContext.setJobGroup(node_id, f"{self.pipeline.name}: {node_id} ({spec.name})", True)
        try:
            outputs = call_component(spec, ctx, inputs, kwargs)
        finally:
            entry["artifacts"] = list(ctx.artifacts)
            entry["details"] = _jsonable(ctx.details)
        for ref in node.inputs.values():
            if isinstance(ref, str):
                self._release(ref)
        for port in spec.outputs:
            ref = f"{node_id}.{port.name}"
            value = outputs[port.name]
            preview = self._table_preview(node_id, port.name, value) if port.kind is PortKind.TABLE else None
            if port.kind is PortKind.TABLE and self.row_readers[ref] >= 2:
                # Counting fills the cache, the work the first consumer would do anyway; the preview's
                # profile (one aggregation, the row count and the first rows in it) does the same.
                value = value.cache()
                self.cached.add(ref)
                if preview is not None and self._previewing(node_id, port.name, preview.profile, value, "cache fill"):
                    if preview.rows is None:  # the first partitions held too few: a limit, from the cache
                        self._previewing(node_id, port.name, preview.sample, value)
                    entry["rows"][port.name] = preview.rows_total
                else:
                    entry["rows"][port.name] = value.count()
            self.results[ref] = value
            if port.kind is PortKind.METRICS:
                entry["metrics"].update(_jsonable(value))
            written = None
            for name, url in self.outputs_by_ref.get(ref, []):
                log.info("node %s: writing output %s to %s", node_id, name, url)
                if port.kind is PortKind.TABLE and entry["rows"].get(port.name) is None:
                    # The write itself counts the rows and profiles the table (observed metrics): no extra job.
                    observation, observed_table = self._observed(node_id, port.name, name, value, preview)
                    storage.save_port(self.spark, port.kind, observed_table, url)
                    entry["rows"][port.name] = observation.get[ROWS]
                    if preview is not None and len(observation.get) > 1:
                        preview.observed(observation.get)
                else:
                    storage.save_port(self.spark, port.kind, value, url)
                if port.kind is PortKind.TABLE:
                    written = written or url
                self.report["outputs"][name] = url
                self._release(ref)
            if preview is not None:
                self._write_preview(node_id, port.name, preview, value, written)
            if port.kind is PortKind.TABLE and port.name not in entry["rows"]:
                counted = preview.rows_total if preview is not None else None
                entry["rows"][port.name] = counted if counted is not None or not self.count_rows else value.count()
        entry["seconds"] = round(time.perf_counter() - started, 3)
        entry["status"] = "success"
        if entry["metrics"]:
            self.report["metrics"][node_id] = entry["metrics"]
        log.info("[%d/%d] node %s (%s) finished in %.1fs", index, total, node_id, spec.name, entry["seconds"])


def call_component(
    spec: ComponentSpec, ctx: ComponentContext, inputs: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """Call a component function; return its outputs as ``{output name: value}``.

    ``params`` are keyword arguments (declared defaults fill in what is missing). Raises
    TypeError when the function does not return the outputs it declares.
    """
    kwargs = {p.name: p.default for p in spec.params if not p.required}
    kwargs.update(params)
    returned = spec.func(ctx, **inputs, **kwargs)
    names = [p.name for p in spec.outputs]
    if len(names) == 1 and not (isinstance(returned, dict) and set(returned) == set(names)):
        return {names[0]: returned}
    if not isinstance(returned, dict) or set(returned) != set(names):
        got = sorted(returned) if isinstance(returned, dict) else type(returned).__name__
        raise TypeError(f"component {spec.name} (node {ctx.node_id}) must return outputs {names}, returned {got}")
    return returned


class PreflightFailed(RuntimeError):
    """The run needs a service (storage, metastore) that does not answer; no node ran."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


def run_pipeline(
    pipeline: Pipeline,
    out_dir: str,
    *,
    spark: Any,
    params: dict[str, Any] | None = None,
    count_rows: bool = False,
    tracking_uri: str | None = None,
    tracking_tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run a validated pipeline; return the run report (also written to ``OUT_DIR/report.json``).

    Args:
        pipeline: a pipeline returned by ``validate_pipeline`` (with the same ``params``).
        out_dir: URL of the run's directory: ``report.json``, ``outputs/``, ``artifacts/``, ``previews/``.
        spark: the SparkSession to run in.
        params: overrides of the pipeline's params.
        count_rows: count every table output (one extra Spark job each). Without it, rows
            are reported for materialized outputs only, and ``null`` elsewhere.
        tracking_uri: an MLflow tracking URI: log the run there (and register its model when
            the pipeline has a ``register`` block); None logs nothing.
        tracking_tags: tags for the MLflow run and the model version (e.g. the Airflow run).

    Raises:
        PreflightFailed: a storage URL or the Hive metastore is unreachable; no node ran.
        NodeFailed: a node raised; the report (status "failed") is written first.
        TrackingFailed: the nodes succeeded but logging or registering failed (report written).
    """
    values, problems = resolve_param_values(pipeline, params)
    if problems:
        raise ValueError("; ".join(map(str, problems)))
    run = _Run(pipeline, out_dir, spark, values, count_rows)
    started = time.perf_counter()
    unreachable = preflight_problems(pipeline, values, out_dir, spark)
    if unreachable:
        run.report["status"] = "failed"
        run.report["error"] = "; ".join(unreachable)
        for entry in run.report["nodes"].values():
            entry["status"] = "skipped"
        run.report["finished_at"] = _now()
        run.report["seconds"] = round(time.perf_counter() - started, 3)
        run.write_report()
        raise PreflightFailed(run.report["error"], run.report)
    order = topological_order(pipeline.nodes)
    tracking_error: Exception | None = None
    try:
        for index, node_id in enumerate(order, start=1):
            try:
                run.run_node(index, node_id)
            except Exception as exc:
                entry = run.report["nodes"][node_id]
                entry["status"] = "failed"
                entry["error"] = f"{type(exc).__name__}: {exc}"
                entry["traceback"] = traceback.format_exc(limit=20)
                for later in order[index:]:
                    run.report["nodes"][later]["status"] = "skipped"
                run.report["status"] = "failed"
                run.report["error"] = f"node {node_id!r}: {entry['error']}"
                raise NodeFailed(node_id, entry["component"], exc, run.report) from exc
        run.report["status"] = "success"
    finally:
        for ref in list(run.cached):
            run.results[ref].unpersist()
        run.report["finished_at"] = _now()
        run.report["seconds"] = round(time.perf_counter() - started, 3)
        if tracking_uri:
            tracking_error = _track(run, tracking_uri, tracking_tags or {})
        run.write_report()
    if tracking_error is not None:
        raise tracking_error
    return run.report


def _track(run: _Run, uri: str, tags: dict[str, str]) -> Exception | None:
    """Log the run to MLflow; the error to raise when that fails a successful run, else None."""
    from airflow_mlplat.tracking.mlflow_run import TrackingFailed, log_pipeline_run

    succeeded = run.report["status"] == "success"
    try:
        log_pipeline_run(uri, run.pipeline, run.report, run.results, out_dir=run.out_dir, tags=tags)
    except Exception as exc:
        message = f"tracking the run at {uri} failed: {type(exc).__name__}: {exc}"
        log.exception("%s", message)
        if not succeeded:  # the node's failure is the error that matters
            run.report.setdefault("tracking", {})["error"] = message
            return None
        run.report["status"] = "failed"
        run.report["error"] = message
        return TrackingFailed(message, run.report)
    return None
