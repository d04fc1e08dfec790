"""Where the tracking server is: an explicit URI, else ``$MLFLOW_TRACKING_URI``, else none."""

from __future__ import annotations

import os

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"


def resolve_tracking_uri(explicit: str | None = None) -> str | None:
    """The tracking URI to log to, or None (nothing is logged)."""
    uri = (explicit or os.environ.get(TRACKING_URI_ENV) or "").strip()
    return uri or None
