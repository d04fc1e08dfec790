"""An ASGI app that imports and builds the real app on its first request.

Airflow imports every plugin module in every process (scheduler, DAG processor, each task);
only the API server serves plugin apps. Holding an import string instead of the app keeps
FastAPI and the page's dependencies out of all the other processes.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any


class LazyASGIApp:
    """An ASGI callable standing in for ``module:factory()``; the factory runs once, on first use."""

    def __init__(self, target: str) -> None:
        module, sep, factory = target.partition(":")
        if not sep or not module or not factory:
            raise ValueError(f"LazyASGIApp target must be 'module:factory', got {target!r}")
        self.target = target
        self._app: Callable[..., Any] | None = None
        self._lock = threading.Lock()

    @property
    def app(self) -> Callable[..., Any]:
        """The real app, built now if it has not been yet."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    module, _, factory = self.target.partition(":")
                    self._app = getattr(importlib.import_module(module), factory)()
        return self._app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        await self.app(scope, receive, send)

    def __repr__(self) -> str:
        return f"LazyASGIApp({self.target!r}, built={self._app is not None})"
