"""A pipeline written in Python: ``with Pipeline(NAME) as p:``, then one component call per node.

Every call is validated as it is made, by the validator a pipeline JSON goes through
(``airflow_mlplat.pipeline.validate_pipeline``), so a wrong parameter name, type or bound raises
``PipelineValidationError`` with the same message, at the line that made the mistake.
``to_json()`` is the pipeline document; ``run(out=...)`` runs it in a local SparkSession.
Building a pipeline imports no pyspark.
"""

from __future__ import annotations

import contextvars
import copy
from typing import TYPE_CHECKING, Any

from airflow_mlplat.pipeline.errors import PipelineValidationError
from airflow_mlplat.pipeline.model import PARAM_REF_KEY
from airflow_mlplat.pipeline.validate import validate_pipeline
from airflow_mlplat.sdk.handles import OUTPUT_TYPES, ModelOutput, Output, ParamRef, TableOutput, outputs_tuple

if TYPE_CHECKING:
    from airflow_mlplat.components.spec import ComponentSpec
    from airflow_mlplat.pipeline.model import Pipeline as PipelineModel


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "Not given": the field stays out of the document (where None would be written as null).
UNSET: Any = _Unset()

_building: contextvars.ContextVar[Pipeline | None] = contextvars.ContextVar("mlplat_sdk_pipeline", default=None)


def building(component: str) -> Pipeline:
    """The pipeline of the innermost ``with Pipeline(...)`` block; RuntimeError outside one."""
    builder = _building.get()
    if builder is None:
        raise RuntimeError(f"{component}() adds a node to a pipeline: call it inside `with Pipeline(...) as p:`")
    return builder


class Pipeline:
    """A pipeline document built by component calls inside ``with Pipeline(...)``.

    The keyword arguments are the document's fields of the same names (see
    ``airflow_mlplat.pipeline.model``); those not given stay out of the document. ``params``
    declares the pipeline params (``{"reg_param": 0.01}`` or ``{"reg_param": {"default": 0.01,
    "description": ...}}``); ``p.param(NAME)`` refers to one in a component call.
    """

    def __init__(
        self,
        name: str,
        *,
        description: str | None = None,
        execution: str | None = None,
        schedule: str | None = UNSET,
        params: dict[str, Any] | None = None,
        spark_conf: dict[str, str] | None = None,
        preview: bool | None = None,
        origin: str | None = None,
    ) -> None:
        self.name = name
        given = {
            "description": description,
            "execution": execution,
            "params": params,
            "spark_conf": spark_conf,
            "preview": preview,
        }
        self._fields = {key: copy.deepcopy(value) for key, value in given.items() if value is not None}
        if schedule is not UNSET:
            self._fields["schedule"] = schedule
        self._origin = origin
        self._nodes: list[dict[str, Any]] = []
        self._outputs: dict[str, Any] = {}
        self._registration: dict[str, Any] | None = None
        self._tokens: list[contextvars.Token] = []

    def __enter__(self) -> Pipeline:
        self._tokens.append(_building.set(self))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _building.reset(self._tokens.pop())

    def __repr__(self) -> str:
        return f"<Pipeline {self.name!r}: {len(self._nodes)} nodes>"

    @property
    def node_ids(self) -> list[str]:
        return [node["id"] for node in self._nodes]

    def param(self, name: str) -> ParamRef:
        """A reference to the pipeline param ``name``: ``{"$param": name}`` in the document."""
        return {PARAM_REF_KEY: name}  # type: ignore[return-value]

    def add_node(self, spec: ComponentSpec, node: dict[str, Any]) -> Output | tuple[Output, ...] | None:
        """Validate the pipeline with ``node`` added, add it, and return its output handle(s).

        Raises PipelineValidationError (the node is not added).
        """
        self._checked(nodes=[*self._nodes, node])
        self._nodes.append(node)
        handles = [OUTPUT_TYPES[port.kind](self, node["id"], port.name) for port in spec.outputs]
        if not handles:
            return None
        if len(handles) == 1:
            return handles[0]
        return outputs_tuple(spec.name, tuple(port.name for port in spec.outputs))(*handles)

    def output(self, name: str, source: Output, *, path: str | None = UNSET) -> None:
        """Make ``source`` a pipeline output: written under the run's directory, or to ``path`` when given."""
        reference = self._reference(source, f"output {name!r}")
        value = reference if path is UNSET else {"from": reference, "path": path}
        self._checked(outputs={**self._outputs, name: value})
        self._outputs[name] = value

    def register(
        self,
        name: str,
        model: ModelOutput,
        *,
        sample: TableOutput | None = UNSET,
        pmml: bool = UNSET,
        sample_rows: int = UNSET,
        alias: str | None = UNSET,
        description: str = UNSET,
    ) -> None:
        """Register ``model`` in the MLflow model registry when a run is tracked (the document's ``register``)."""
        registration: dict[str, Any] = {"name": name, "model": self._reference(model, "register model")}
        if sample is not UNSET:
            registration["sample"] = None if sample is None else self._reference(sample, "register sample")
        given = {"pmml": pmml, "sample_rows": sample_rows, "alias": alias, "description": description}
        registration.update({key: value for key, value in given.items() if value is not UNSET})
        self._checked(registration=registration)
        self._registration = registration

    def to_json(self) -> dict[str, Any]:
        """The pipeline document (a new dict each call), as a pipeline JSON file holds it."""
        return self._document()

    def validate(self, params: dict[str, Any] | None = None) -> PipelineModel:
        """Validate the document (with ``params`` overriding the pipeline params); raises PipelineValidationError."""
        return validate_pipeline(self.to_json(), params=params)

    def run(
        self,
        out: str,
        *,
        params: dict[str, Any] | None = None,
        spark: Any = None,
        count_rows: bool = False,
        tracking_uri: str | None = None,
    ) -> dict[str, Any]:
        """Run the pipeline in a SparkSession, as ``airflow-mlplat run`` does; return the run report.

        Args:
            out: the run directory (path or URL): ``report.json``, ``outputs/``, ``artifacts/``.
            params: overrides of the pipeline params.
            spark: the session to run in; default the process's local one (kept open afterwards).
            count_rows: count the rows of every table output.
            tracking_uri: an MLflow tracking URI to log the run to (default ``$MLFLOW_TRACKING_URI``).

        Raises:
            PipelineValidationError: the pipeline is invalid, or has a ranking_model node.
            NodeFailed, PreflightFailed, TrackingFailed: see ``airflow_mlplat.engine.runner.run_pipeline``.
        """
        from airflow_mlplat.engine.runner import run_pipeline
        from airflow_mlplat.engine.session import get_session
        from airflow_mlplat.ranking.node import check_spark
        from airflow_mlplat.tracking import resolve_tracking_uri

        pipeline = self.validate(params)
        check_spark(pipeline)
        session = spark if spark is not None else get_session(f"mlplat:{self.name}", pipeline.spark_conf)
        return run_pipeline(
            pipeline,
            out,
            spark=session,
            params=params,
            count_rows=count_rows,
            tracking_uri=resolve_tracking_uri(tracking_uri),
        )

    def _reference(self, source: Any, what: str) -> str:
        if not isinstance(source, Output):
            raise TypeError(f"{what} takes a component's output, got {type(source).__name__}")
        if source.builder is not self:
            raise ValueError(f"{what}: {source!r} belongs to pipeline {source.builder.name!r}, not {self.name!r}")
        return source.reference

    def _document(self, **replaced: Any) -> dict[str, Any]:
        parts = {"nodes": self._nodes, "outputs": self._outputs, "registration": self._registration, **replaced}
        doc: dict[str, Any] = {"name": self.name}
        for key in ("description", "execution", "schedule", "params"):
            if key in self._fields:
                doc[key] = self._fields[key]
        doc["nodes"] = parts["nodes"]
        if parts["outputs"]:
            doc["outputs"] = parts["outputs"]
        for key in ("spark_conf", "preview"):
            if key in self._fields:
                doc[key] = self._fields[key]
        if parts["registration"] is not None:
            doc["register"] = parts["registration"]
        if self._origin is not None:
            doc["origin"] = self._origin
        return copy.deepcopy(doc)

    def _checked(self, **replaced: Any) -> None:
        try:
            validate_pipeline(self._document(**replaced))
        except PipelineValidationError as err:
            # A fresh exception: its traceback starts at the call that made the mistake.
            raise PipelineValidationError(err.problems, err.source) from None
