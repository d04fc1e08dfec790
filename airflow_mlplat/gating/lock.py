"""A per-model mutual-exclusion lock built from the MLflow registry itself, for processes on any machine.

MLflow has no compare-and-set, but creating a registered model is atomic: the registry's store refuses
a second model of the same name (``RESOURCE_ALREADY_EXISTS``). The lock for model ``M`` is the
registered model ``M.mlplat-gate-lock``, created with its owner token and expiry as tags in the same
request, and deleted to release it (registered models are deleted for real, unlike experiments). A lock
past its expiry (a holder that died) is broken: re-read, and deleted only if it still carries the expired
owner's token. Like every lease without fencing tokens, the guarantee holds while a holder finishes
within ``ttl``: :meth:`RegistryLock.check` lets the holder confirm, right before it writes, that the lock is
still its own and not about to expire.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from typing import Any

log = logging.getLogger("airflow_mlplat.gating")

LOCK_SUFFIX = ".mlplat-gate-lock"
OWNER_TAG = "mlplat.lock.owner"
EXPIRES_TAG = "mlplat.lock.expires"


class LockTimeout(TimeoutError):
    """Another gate held the model's lock for longer than we were willing to wait."""


class LockLost(RuntimeError):
    """The lock expired or was taken over before the holder wrote."""


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "error_code", ""))


class RegistryLock:
    """``with RegistryLock(client, "m"):`` holds the lock of registered model ``m``.

    :param client: an ``MlflowClient`` of the registry.
    :param ttl: seconds after which a held lock counts as abandoned.
    :param timeout: seconds to wait for the lock before :class:`LockTimeout`.
    """

    def __init__(self, client: Any, model_name: str, *, ttl: float = 60.0, timeout: float = 120.0) -> None:
        self.client = client
        self.name = f"{model_name}{LOCK_SUFFIX}"
        self.ttl = ttl
        self.timeout = timeout
        self.token = uuid.uuid4().hex
        self.expires = 0.0

    def _tags(self) -> dict[str, str] | None:
        from mlflow.exceptions import MlflowException

        try:
            return dict(self.client.get_registered_model(self.name).tags)
        except MlflowException as exc:
            if _error_code(exc) == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

    def _break_if_expired(self) -> None:
        from mlflow.exceptions import MlflowException

        tags = self._tags()
        if tags is None or float(tags.get(EXPIRES_TAG, "inf")) > time.time():
            return
        # Re-read right before deleting, so a lock a third process just took is left alone.
        again = self._tags()
        if again is not None and again.get(OWNER_TAG) == tags.get(OWNER_TAG):
            log.warning("gate lock %s of owner %s expired; breaking it", self.name, tags.get(OWNER_TAG))
            try:
                self.client.delete_registered_model(self.name)
            except MlflowException as exc:
                if _error_code(exc) != "RESOURCE_DOES_NOT_EXIST":
                    raise

    def acquire(self) -> None:
        from mlflow.exceptions import MlflowException

        deadline = time.monotonic() + self.timeout
        while True:
            expires = time.time() + self.ttl
            try:
                self.client.create_registered_model(
                    self.name,
                    tags={OWNER_TAG: self.token, EXPIRES_TAG: repr(expires)},
                    description="airflow-mlplat model gate lock; deleted when the gate finishes",
                )
            except MlflowException as exc:
                code = _error_code(exc)
                if code == "RESOURCE_ALREADY_EXISTS":
                    self._break_if_expired()
                # A create that collides with a holder deleting the lock at that moment is answered
                # RESOURCE_DOES_NOT_EXIST by the server: the lock was free, so try again.
                elif code != "RESOURCE_DOES_NOT_EXIST":
                    raise
            else:
                self.expires = expires
                self.check()
                return
            if time.monotonic() > deadline:
                raise LockTimeout(f"gate lock {self.name!r} still held after {self.timeout:g}s")
            time.sleep(random.uniform(0.05, 0.25))

    def check(self, reserve: float = 1.0) -> None:
        """Raise :class:`LockLost` unless the lock is ours and has ``reserve`` seconds left."""
        tags = self._tags()
        if tags is None or tags.get(OWNER_TAG) != self.token:
            raise LockLost(f"gate lock {self.name!r} is no longer held by {self.token}")
        if self.expires - time.time() < reserve:
            raise LockLost(f"gate lock {self.name!r} expires in under {reserve:g}s")

    def release(self) -> None:
        from mlflow.exceptions import MlflowException

        tags = self._tags()
        if tags is None or tags.get(OWNER_TAG) != self.token:
            log.warning("gate lock %s was no longer ours at release", self.name)
            return
        try:
            self.client.delete_registered_model(self.name)
        except MlflowException as exc:
            if _error_code(exc) != "RESOURCE_DOES_NOT_EXIST":
                raise

    def __enter__(self) -> RegistryLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
