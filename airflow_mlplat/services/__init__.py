"""Local servers for the demo and the tests (Hive metastore, HiveServer2, MLflow), started and stopped by PID."""
