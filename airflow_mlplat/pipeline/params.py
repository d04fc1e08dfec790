"""Checking one parameter value against its declaration.

The check is a pydantic ``TypeAdapter`` built from the declaration (strict: ``'ten'`` is not
an integer, ``1`` is not a boolean), and the message is phrased from the declaration, so it
reads the same whatever the failing value: ``must be an integer >= 1, got 'ten'``.
"""

from __future__ import annotations

import functools
import typing
from typing import Annotated, Any

import annotated_types
import pydantic

from airflow_mlplat.components.spec import Param


def _constraints(param: Param) -> list[Any]:
    if param.interval is None:
        return []
    schema = param.interval.json_schema()
    mapping = {
        "minimum": annotated_types.Ge,
        "exclusiveMinimum": annotated_types.Gt,
        "maximum": annotated_types.Le,
        "exclusiveMaximum": annotated_types.Lt,
    }
    return [mapping[key](value) for key, value in schema.items()]


@functools.cache
def _adapter(param: Param) -> pydantic.TypeAdapter:
    if param.options is not None:
        annotation: Any = typing.Literal[param.options.values]  # type: ignore[valid-type]
    else:
        annotation = param.annotation
    constraints = _constraints(param)
    if constraints:
        annotation = Annotated[annotation, *constraints]
    return pydantic.TypeAdapter(annotation, config=pydantic.ConfigDict(strict=True))


def describe(param: Param) -> str:
    """What a valid value looks like, e.g. ``an integer >= 1`` or ``one of 'a', 'b'``."""
    if param.options is not None:
        return "one of " + ", ".join(repr(v) for v in param.options.values)
    name = param.type_name
    text = ("an " if name[0] in "aeiou" else "a ") + name
    if param.interval is not None:
        bounds = []
        for key, symbol in (
            ("minimum", ">="),
            ("exclusiveMinimum", ">"),
            ("maximum", "<="),
            ("exclusiveMaximum", "<"),
        ):
            value = param.interval.json_schema().get(key)
            if value is not None:
                bounds.append(f"{symbol} {value}")
        text += " " + " and ".join(bounds)
    return text


def check_value(param: Param, value: Any) -> str | None:
    """None when ``value`` is valid for ``param``, else the problem as ``must be ..., got ...``."""
    try:
        _adapter(param).validate_python(value)
    except pydantic.ValidationError:
        return f"must be {describe(param)}, got {value!r}"
    return None


def coerce_value(param: Param, value: Any) -> Any:
    """The validated value (e.g. an int given for a float parameter becomes a float)."""
    return _adapter(param).validate_python(value)
