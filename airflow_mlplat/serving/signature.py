"""The model's input signature (from ``MLmodel``) as a pydantic validator for request rows.

Every signature column must be present in a row (a missing one is a 422 naming it); a value may
be ``null`` (the pipeline's Imputer or ``handleInvalid`` decides what that means). Types are
strict: ``"1.5"`` is not a double, ``1.5`` is not a long. Numbers must fit their type: a long is
64 bits, an integer 32, and a double is finite (JSON has no NaN; a missing value is ``null``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, NotRequired, Optional, Required

from typing_extensions import TypedDict

#: MLflow ColSpec type -> Spark type name the file scorer uses, and the Python type pydantic checks.
_TYPES: dict[str, tuple[str, Any]] = {
    "double": ("double", float),
    "float": ("double", float),
    "long": ("long", int),
    "integer": ("integer", int),
    "boolean": ("boolean", bool),
    "string": ("string", str),
}


def read_mlmodel(model_dir: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(model_dir) / "MLmodel"
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def input_columns(mlmodel: Mapping[str, Any], where: str) -> dict[str, tuple[str, bool]]:
    """``{column: (spark type, required)}`` from the signature's inputs, in order.

    :raises ValueError: no signature, a tensor signature, or a column type the service cannot check.
    """
    inputs = (mlmodel.get("signature") or {}).get("inputs")
    if not inputs:
        raise ValueError(f"{where}: the MLmodel has no input signature; log the model with signature=...")
    columns: dict[str, tuple[str, bool]] = {}
    for spec in json.loads(inputs) if isinstance(inputs, str) else inputs:
        kind, name = spec.get("type"), spec.get("name")
        if kind not in _TYPES or not name:
            raise ValueError(f"{where}: signature input {spec} is not a named column of type {sorted(_TYPES)}")
        columns[name] = (_TYPES[kind][0], bool(spec.get("required", True)))
    return columns


def row_validator(columns: Mapping[str, tuple[str, bool]]):
    """A pydantic ``TypeAdapter`` for ``list[row]``; rows come back as plain dicts (extra keys dropped)."""
    from pydantic import ConfigDict, Field, TypeAdapter

    python = {
        "double": Annotated[float, Field(allow_inf_nan=False)],
        "long": Annotated[int, Field(ge=-(2**63), le=2**63 - 1)],
        "integer": Annotated[int, Field(ge=-(2**31), le=2**31 - 1)],
        "boolean": bool,
        "string": str,
        # deep models (serving.deep): a feature map's raw fields, and input tensors of one example
        "categorical": str | int | bool,
        "numeric": Annotated[float, Field(allow_inf_nan=False)],
        "sequence": list[str | int] | str,
        "tensor": Annotated[float, Field(allow_inf_nan=False)] | int | bool | list[Any],
    }
    fields = {
        name: (Required if required else NotRequired)[Optional[python[kind]]]  # noqa: UP045
        for name, (kind, required) in columns.items()
    }
    row = TypedDict("Row", fields)  # type: ignore[misc]
    row.__pydantic_config__ = ConfigDict(strict=True, extra="ignore")  # type: ignore[attr-defined]
    return TypeAdapter(list[row])
