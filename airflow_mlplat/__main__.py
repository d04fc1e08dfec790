import sys

from airflow_mlplat.cli import main

if __name__ == "__main__":
    sys.exit(main())
