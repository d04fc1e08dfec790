"""Model export components: a fitted Spark model as PMML, verified against Spark's own scores."""

from __future__ import annotations

from typing import Annotated

from airflow_mlplat.components.registry import component
from airflow_mlplat.components.spec import Interval, Metrics, Model, Table


@component(category="import/export", outputs={"metrics": Metrics})
def export_pmml(
    ctx,
    model: Model,
    data: Table,
    *,
    path: str | None = None,
    verify_rows: Annotated[int, Interval(1, 1_000_000)] = 1000,
    tolerance: Annotated[float, Interval(0.0, 1.0)] = 1e-6,
):
    """Export a fitted Spark model (best: one PipelineModel from raw columns) as PMML, and verify it.

    JPMML-SparkML converts the model; then the first ``verify_rows`` rows of ``data`` (held-out
    rows with the model's raw input columns) are scored by Spark and by the PMML document
    (jpmml-evaluator), and the export fails, naming the row and the field, if any class
    probability (a regressor's prediction) differs by more than ``tolerance``: converters can
    be silently wrong. The document is saved as the node's ``model.pmml`` artifact, and at
    ``path`` when set. A StringIndexer output must not go through a scaler. Needs the optional
    ``pmml`` extra (pyspark2pmml, jpmml-evaluator: AGPL-3.0) and a SparkSession created with
    its jars (``engine.session.get_session`` adds them).

    Args:
        model: the fitted model, e.g. ``pipeline_model``'s.
        data: held-out rows with the model's raw input columns (and its label, kept in the PMML schema).
        path: also write the PMML document here (a local path or an fsspec URL); empty writes only the artifact.
        verify_rows: how many rows of ``data`` to score both ways.
        tolerance: the largest allowed absolute difference of a probability.
        metrics: ``verified_rows``, ``max_abs_diff``, ``tolerance`` and ``pmml_bytes``.
    """
    from airflow_mlplat.engine.storage import write_bytes
    from airflow_mlplat.pmml import export_pmml as to_pmml
    from airflow_mlplat.pmml import verify_pmml

    document = to_pmml(model, data)
    result = verify_pmml(document, model, data, rows=verify_rows, tolerance=tolerance)
    ctx.log.info("%s: PMML verified on %d rows, max |difference| %.3g", ctx.node_id, result.rows, result.max_abs_diff)
    encoded = document.encode()
    artifact = f"{ctx.artifacts_dir.rstrip('/')}/model.pmml"
    write_bytes(artifact, encoded)
    ctx.artifacts.append(artifact)
    if path:
        write_bytes(path, encoded)
        ctx.details["pmml_path"] = path
    ctx.details["pmml_fields"] = result.fields
    return {**result.as_metrics(), "pmml_bytes": len(encoded)}
