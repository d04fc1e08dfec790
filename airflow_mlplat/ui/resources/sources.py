"""What every source of the resource page returns: its rows and how reading them went.

A source is read with short timeouts (``REQUEST_TIMEOUT`` per request): one that cannot be
reached says so in its ``SourceStatus`` instead of holding up the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

#: Seconds one request of a source may take (connect and read): a dead source costs the page this much.
REQUEST_TIMEOUT = 2.0

#: The source answered.
OK = "ok"
#: Nothing to read: not configured here (Kubernetes without a connection, no ``nvidia-smi``).
OFF = "off"
#: The source's server did not answer (refused, timed out, DNS).
UNREACHABLE = "unreachable"
#: It answered, but not as expected (HTTP error, unreadable payload), or reading it failed here.
ERROR = "error"


class SourceUnavailable(Exception):
    """A source cannot be read; ``state`` is ``UNREACHABLE``, ``ERROR`` or ``OFF``."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        self.state = state


@dataclass
class SourceStatus:
    """How reading one source went. ``id`` is stable (``training.local``); ``label`` names the place read."""

    id: str
    label: str
    state: str = OK
    message: str = ""
    took_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Rows by the page's section: ``training``, ``spark``, ``services``, ``gpus``.
Rows = dict[str, list[dict[str, Any]]]


@dataclass
class Report:
    """A source's rows and statuses (one, or one per server a source asks, e.g. each Spark UI)."""

    rows: Rows = field(default_factory=dict)
    statuses: list[SourceStatus] = field(default_factory=list)


def timed(status: SourceStatus, read: Callable[[], Rows]) -> Report:
    """``read()``'s rows with ``status`` filled in: ``SourceUnavailable`` becomes its state, any other
    error ``ERROR`` naming it (a page must render whatever one source does)."""
    started = time.monotonic()
    rows: Rows = {}
    try:
        rows = read()
    except SourceUnavailable as unavailable:
        status.state, status.message = unavailable.state, str(unavailable)
    except Exception as error:  # noqa: BLE001 - reported on the page, per source
        status.state, status.message = ERROR, f"{type(error).__name__}: {error}"
    status.took_ms = round((time.monotonic() - started) * 1000)
    return Report(rows, [status])


def http_failure(error: BaseException, url: str) -> SourceUnavailable:
    """``error`` of a request to ``url`` as the state the page shows: no answer is ``UNREACHABLE``."""
    import httpx

    if isinstance(error, httpx.HTTPStatusError):
        return SourceUnavailable(ERROR, f"GET {url}: HTTP {error.response.status_code}")
    if isinstance(error, httpx.TimeoutException):
        return SourceUnavailable(UNREACHABLE, f"GET {url}: no answer within {REQUEST_TIMEOUT:g} s")
    if isinstance(error, httpx.TransportError):
        return SourceUnavailable(UNREACHABLE, f"GET {url}: {error or type(error).__name__}")
    if isinstance(error, ValueError):
        return SourceUnavailable(ERROR, f"GET {url}: not the JSON expected ({error})")
    return SourceUnavailable(ERROR, f"GET {url}: {type(error).__name__}: {error}")
