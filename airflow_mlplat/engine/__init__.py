"""The Spark driver that runs a pipeline JSON inside one SparkSession (imports Spark lazily)."""
