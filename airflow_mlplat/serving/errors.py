"""The serving package's exceptions; the service maps each to an HTTP status."""

from __future__ import annotations


class ServingError(Exception):
    """Base class of serving errors."""


class UnsupportedModelError(ServingError, ValueError):
    """A saved model uses a stage or parameter the file scorer does not implement; names stage and index."""


class InvalidInputError(ServingError, ValueError):
    """A row the model cannot score (a stage whose ``handleInvalid`` is ``error`` met an invalid value).

    ``field`` names the input or intermediate column, ``row`` the row's index in the request.
    """

    def __init__(self, message: str, *, field: str = "", row: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.row = row


class ModelLoadError(ServingError, RuntimeError):
    """A model reference could not be resolved or its files could not be read; names the reference."""


class ModelNotFoundError(ModelLoadError):
    """The registry has no such model, version or alias (MLflow's ``RESOURCE_DOES_NOT_EXIST``)."""
