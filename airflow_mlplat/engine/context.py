"""What a component receives as its first argument."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any


@dataclasses.dataclass
class ComponentContext:
    """The run context of one node.

    Attributes:
        spark: the run's one SparkSession (a ``pyspark.sql.SparkSession``).
        node_id: the pipeline node being run.
        artifacts_dir: a URL (local path, ``file://``, ``hdfs://``) where the node may write
            files it wants to keep (plots, tables for people); the engine creates nothing there.
        log: the node's logger; long steps log progress through it.
    """

    spark: Any
    node_id: str
    artifacts_dir: str
    log: logging.Logger = dataclasses.field(default_factory=lambda: logging.getLogger("airflow_mlplat.engine"))
