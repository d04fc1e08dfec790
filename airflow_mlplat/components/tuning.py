"""tuning components (declared here; Spark is imported inside the functions)."""

from __future__ import annotations
