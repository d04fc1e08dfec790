"""PMML export of fitted Spark PipelineModels, with verification against Spark's own scores.

``export.py`` converts a model with JPMML-SparkML (``pyspark2pmml``, whose jars must be on the
SparkSession's ``spark.jars`` from its creation: ``engine.session.get_session`` sees to that);
``verify.py`` scores held-out rows with Spark and with the PMML document (``jpmml_evaluator``
in its own JVM) and fails when any probability differs by more than a tolerance, because
converters can be silently wrong (e.g. on categorical splits).

pyspark2pmml and jpmml-evaluator are AGPL-3.0: they are the optional ``pmml`` extra, imported
only when an export runs.
"""

from airflow_mlplat.pmml.export import PmmlExportError, check_exportable, export_pmml, pmml_schema
from airflow_mlplat.pmml.verify import PmmlVerificationError, VerificationResult, verify_pmml

__all__ = [
    "PmmlExportError",
    "PmmlVerificationError",
    "VerificationResult",
    "check_exportable",
    "export_pmml",
    "pmml_schema",
    "verify_pmml",
]
