"""Watch a prediction service under steady traffic: which version answered each request, and what failed."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any


class VersionWatcher(threading.Thread):
    """POSTs ``row`` to ``url``/predict in a loop until :meth:`stop`; records ``(time, status, version)``."""

    def __init__(self, url: str, row: Mapping[str, Any], *, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.row = dict(row)
        self.interval = interval
        self.seen: list[tuple[float, int, str | None]] = []
        self.errors: list[str] = []
        self._done = threading.Event()

    def run(self) -> None:
        import httpx

        with httpx.Client(timeout=10) as client:
            while not self._done.is_set():
                try:
                    response = client.post(f"{self.url}/predict", json=self.row)
                    self.seen.append((time.time(), response.status_code, response.headers.get("x-model-version")))
                except httpx.HTTPError as error:
                    self.errors.append(repr(error))
                self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=15)

    @property
    def failures(self) -> list[str]:
        """Transport errors and non-200 answers."""
        return self.errors + [f"HTTP {status}" for _, status, _ in self.seen if status != 200]

    def versions(self) -> list[str | None]:
        return [version for _, _, version in self.seen]

    def first_seen(self, version: str) -> float | None:
        """When ``version`` first answered (epoch seconds), or None."""
        return next((at for at, status, seen in self.seen if status == 200 and seen == version), None)
