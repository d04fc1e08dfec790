"""The visual-modelling page: a FastAPI app the Airflow plugin mounts at ``/mlplat``.

``airflow_mlplat.plugin`` refers to it through ``LazyASGIApp``, so the app (and FastAPI) is
imported only when the API server receives the first request for it; other Airflow processes
import the plugin without paying for it.
"""
