"""What a component receives as its first argument."""

from __future__ import annotations

import dataclasses
import io
import logging
from typing import Any


@dataclasses.dataclass
class ComponentContext:
    """The run context of one node.

    Attributes:
        spark: the run's one SparkSession (a ``pyspark.sql.SparkSession``).
        node_id: the pipeline node being run.
        artifacts_dir: a URL (local path, ``file://``, ``hdfs://``) where the node may write
            files people look at (plots, small tables); ``save_figure`` writes there.
        log: the node's logger; long steps log progress through it.
        artifacts: URLs of the files the node saved (listed in the run report).
        details: choices the component made that people should see (e.g. which training path
            it took and why); the run report lists them under the node.
    """

    spark: Any
    node_id: str
    artifacts_dir: str
    log: logging.Logger = dataclasses.field(default_factory=lambda: logging.getLogger("airflow_mlplat.engine"))
    artifacts: list[str] = dataclasses.field(default_factory=list)
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def save_figure(self, figure: Any, name: str) -> str:
        """Save a matplotlib figure as ``ARTIFACTS_DIR/NAME.png`` (atomically); return its URL.

        The figure is closed afterwards. Use the Agg backend (``matplotlib.figure.Figure``
        directly, not ``pyplot``), so no display is needed.
        """
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        url = f"{self.artifacts_dir.rstrip('/')}/{name}.png"
        from airflow_mlplat.engine.storage import write_bytes

        write_bytes(url, buffer.getvalue())
        self.artifacts.append(url)
        self.log.info("%s: saved %s", self.node_id, url)
        return url
