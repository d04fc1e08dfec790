"""Model slots that follow registry references, and the router that picks one per request.

A slot holds the version its reference (``models:/NAME@champion``) points at. ``refresh`` asks
the registry where the reference points now; when that moved, it downloads and compiles the new
version and then swaps one attribute, so a request sees either the old model or the new one,
never a half-loaded one. A background thread refreshes every slot each ``poll_interval``
seconds; ``POST /admin/reload`` refreshes at once.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from airflow_mlplat.serving.batching import BatchSettings
from airflow_mlplat.serving.model import LoadedModel, load_model_dir
from airflow_mlplat.serving.registry import ModelRef, RegistryClient

log = logging.getLogger("airflow_mlplat.serving")


class ModelSlot:
    def __init__(
        self,
        ref: ModelRef,
        *,
        registry: RegistryClient | None,
        cache_dir: Path,
        pmml: bool = False,
        batching: BatchSettings | None = None,
    ):
        self.ref = ref
        self.registry = registry
        self.cache_dir = cache_dir
        self.pmml = pmml
        self.batching = batching
        self.current: LoadedModel | None = None
        self.last_error: str | None = None
        self._load_lock = threading.Lock()

    @property
    def label(self) -> str:
        return self.ref.label

    def refresh(self) -> bool:
        """Load the version the reference points at if it differs from the current one; True when swapped."""
        with self._load_lock:
            if self.ref.path:
                if self.current is not None:
                    return False
                loaded = load_model_dir(
                    self.ref.path,
                    name=self.ref.name,
                    version="0",
                    slot=self.label,
                    pmml=self.pmml,
                    batching=self.batching,
                )
            else:
                assert self.registry is not None
                info = self.registry.resolve(self.ref)
                if self.current is not None and self.current.version == info.version:
                    return False
                path = self.registry.download(info, self.cache_dir)
                loaded = load_model_dir(
                    path,
                    name=info.name,
                    version=info.version,
                    slot=self.label,
                    alias=self.ref.alias,
                    run_id=info.run_id,
                    metrics=self.registry.run_metrics(info.run_id),
                    pmml=self.pmml,
                    batching=self.batching,
                )
            previous = self.current
            self.current = loaded  # the atomic swap
            self.last_error = None
            if previous is not None:
                previous.close()
            log.info(
                "serving: slot %s now serves %s version %s (was %s)",
                self.label,
                loaded.name,
                loaded.version,
                previous.version if previous else None,
            )
            return True


class ModelRouter:
    """Picks the slot for a request: header ``X-Model-Alias``/``X-Model-Slot`` or ``X-Model-Version``, else by share.

    :param shares: ``{slot label: traffic share}``; slots not listed get no unaddressed traffic.
        Without shares the first slot gets it all.
    """

    def __init__(self, slots: Sequence[ModelSlot], shares: Mapping[str, float] | None = None, seed: int | None = None):
        if not slots:
            raise ValueError("the service needs at least one model reference")
        self.slots = {slot.label: slot for slot in slots}
        if len(self.slots) != len(slots):
            raise ValueError(f"two model references share a slot name: {[s.label for s in slots]}")
        shares = dict(shares or {slots[0].label: 1.0})
        for label, share in shares.items():
            if label not in self.slots:
                raise ValueError(f"traffic share for {label!r}: no such slot (slots: {', '.join(self.slots)})")
            if not isinstance(share, int | float) or not math.isfinite(share) or share < 0:
                raise ValueError(f"traffic share for {label!r} must be a finite number >= 0, got {share!r}")
        total = sum(shares.values())
        if total <= 0:
            raise ValueError("traffic shares must add up to more than 0")
        self.shares = {label: share / total for label, share in shares.items()}
        self._labels = list(self.shares)
        self._weights = list(self.shares.values())
        self._random = random.Random(seed)

    def choose(self, slot: str | None = None, version: str | None = None) -> LoadedModel:
        """The model for one request. :raises LookupError: the asked slot/version is not loaded."""
        if slot:
            chosen = self.slots.get(slot)
            if chosen is None or chosen.current is None:
                raise LookupError(f"no loaded model slot {slot!r} (slots: {', '.join(self.slots)})")
            return chosen.current
        if version:
            for candidate in self.slots.values():
                if candidate.current is not None and candidate.current.version == version:
                    return candidate.current
            loaded = [s.current.version for s in self.slots.values() if s.current]
            raise LookupError(f"model version {version!r} is not loaded (loaded: {', '.join(loaded)})")
        label = self._labels[0] if len(self._labels) == 1 else self._random.choices(self._labels, self._weights)[0]
        model = self.slots[label].current
        if model is None:
            raise LookupError(f"slot {label!r} has no model loaded yet")
        return model

    def refresh_all(self) -> dict[str, str | None]:
        """Refresh every slot; a failure is logged and leaves that slot on its current version."""
        for slot in self.slots.values():
            try:
                slot.refresh()
            except Exception as error:  # keep serving the old version
                slot.last_error = f"{type(error).__name__}: {error}"
                log.warning("serving: refreshing slot %s failed: %s", slot.label, slot.last_error)
        return {label: (s.current.version if s.current else None) for label, s in self.slots.items()}


class AliasFollower(threading.Thread):
    """Calls ``router.refresh_all()`` every ``interval`` seconds until ``stop()``."""

    def __init__(self, router: ModelRouter, interval: float) -> None:
        super().__init__(name="model-alias-follower", daemon=True)
        self.router, self.interval = router, interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.router.refresh_all()

    def stop(self) -> None:
        self._stopped.set()
