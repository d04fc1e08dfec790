"""The deployment's ``[mlplat]`` settings, read as Airflow reads its own.

``AIRFLOW__MLPLAT__NAME`` in the environment wins, then the ``[mlplat]`` section of
``airflow.cfg`` when Airflow's configuration is already loaded (every Airflow process). The Spark
driver of a run may have no Airflow at all: the hook hands it the resolved values as environment
variables (:func:`driver_env`), so the driver validates exactly as the worker did.
"""

from __future__ import annotations

import os
import sys

SECTION = "mlplat"
#: ``True``: SQL may load or call code (ADD JAR, CREATE FUNCTION ... USING, reflect, TRANSFORM ...).
ALLOW_CODE_IN_SQL = "allow_code_in_sql"
#: Comma-separated roots (paths or URLs) that pipelines saved from the page may read and write.
PAGE_DATA_ROOTS = "page_data_roots"
#: Comma-separated user names who may save pipelines from the page; ``*``: every user who may edit the DAG.
PIPELINE_AUTHORS = "pipeline_authors"
#: ``False``: no run writes table previews (each table's first rows and column profile, for the page),
#: whatever its pipeline says: they copy rows of every table into the run folder and cost a pass each.
TABLE_PREVIEWS = "table_previews"
#: The settings a run's driver reads (a pipeline's validation, the engine), so it must see them too.
DRIVER_SETTINGS = (ALLOW_CODE_IN_SQL, PAGE_DATA_ROOTS, TABLE_PREVIEWS)

_TRUE = {"true", "1", "yes", "on"}


def env_name(name: str) -> str:
    return f"AIRFLOW__{SECTION.upper()}__{name.upper()}"


def setting(name: str, default: str = "") -> str:
    """The value of ``[mlplat] name``: environment, then airflow.cfg (if loaded), then ``default``."""
    value = os.environ.get(env_name(name))
    if value is not None:
        return value
    configuration = sys.modules.get("airflow.configuration")
    if configuration is not None:
        return str(configuration.conf.get(SECTION, name, fallback=default))
    return default


def flag(name: str, default: bool = False) -> bool:
    value = setting(name).strip().lower()
    return value in _TRUE if value else default


def listing(name: str) -> list[str]:
    return [item.strip() for item in setting(name).split(",") if item.strip()]


def driver_env() -> dict[str, str]:
    """``{AIRFLOW__MLPLAT__NAME: value}`` of the settings a run's driver validates with (set ones only)."""
    values = {env_name(name): setting(name) for name in DRIVER_SETTINGS}
    return {key: value for key, value in values.items() if value}
