"""Pipelines as Python code, for DAG files and notebooks.

    from airflow_mlplat.sdk import Pipeline, components as c

    with Pipeline("churn_lr", params={"reg_param": 0.01}) as p:
        data = c.read_table(path="/data/churn.csv", format="csv", infer_schema=True)
        features = c.vector_assembler(data, input_cols=["tenure", "monthly_charges"])
        train, test = c.random_split(features, ratio=0.8)
        model = c.logistic_regression(train, reg_param=p.param("reg_param"))
        c.binary_classification_evaluation(c.predict(model, test))

``p.to_json()`` is the pipeline document, ``p.validate()`` checks it, ``p.run(out=...)`` runs it
in a local SparkSession and ``SparkPipelineOperator(pipeline=p)`` runs it from a DAG.
``airflow-mlplat pipeline to-python FILE.json`` writes this code for an existing document.
``spark()`` is a notebook's SparkSession, set up like the engine's (Hive metastore, MLflow).
Importing the SDK and building a pipeline imports no pyspark.
"""

from airflow_mlplat.sdk import components
from airflow_mlplat.sdk.handles import MetricsOutput, ModelOutput, Output, ParamRef, Stored, TableOutput
from airflow_mlplat.sdk.pipeline import Pipeline
from airflow_mlplat.sdk.session import spark

__all__ = [
    "MetricsOutput",
    "ModelOutput",
    "Output",
    "ParamRef",
    "Pipeline",
    "Stored",
    "TableOutput",
    "components",
    "spark",
]
