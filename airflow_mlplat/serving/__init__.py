"""The prediction service: Spark PipelineModels scored from their files, behind FastAPI.

``python -m airflow_mlplat.serving --model models:/NAME@champion`` (see ``__main__``). Importing
this package imports nothing heavy; pyspark is never imported on the serving path.
"""
