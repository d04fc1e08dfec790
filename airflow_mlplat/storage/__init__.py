"""Storage by URL: which schemes a path may use, and how Python-side code reaches them (fsspec)."""

from airflow_mlplat.storage.urls import (
    READ_ONLY_SCHEMES,
    SCHEMES,
    StorageError,
    endpoint,
    filesystem,
    probe,
    url_problem,
)

__all__ = ["READ_ONLY_SCHEMES", "SCHEMES", "StorageError", "endpoint", "filesystem", "probe", "url_problem"]
