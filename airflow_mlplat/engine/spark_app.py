"""The spark-submit application: ``spark-submit .../engine/spark_app.py run PIPELINE.json --out DIR``."""

import sys

from airflow_mlplat.engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
