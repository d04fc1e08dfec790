"""MLflow tracking of pipeline runs, and registration of their models.

When a tracking URI is configured (the operator's ``mlflow_default`` Airflow connection,
passed to the engine as ``--tracking-uri``, or ``$MLFLOW_TRACKING_URI``), the engine logs
every run: params, per-node metrics (``NODE.METRIC``), the run report, the pipeline JSON and
the plots; with a pipeline's ``register`` block it also registers the model as a version that
carries the run's metrics and lineage. Without a URI nothing is logged. mlflow is imported
only when a run is tracked.
"""

from airflow_mlplat.tracking.uri import TRACKING_URI_ENV, resolve_tracking_uri

__all__ = ["TRACKING_URI_ENV", "resolve_tracking_uri"]
