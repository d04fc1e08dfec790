"""The one exception class of pipeline validation."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a pipeline, and where: ``nodes[3] (gbdt): params.max_iter``."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class PipelineValidationError(ValueError):
    """A pipeline document is invalid. ``problems`` lists every problem found, in document order."""

    def __init__(self, problems: list[Problem], source: str = "pipeline") -> None:
        self.problems = list(problems)
        self.source = source
        lines = [f"{source}: {p}" for p in self.problems]
        header = f"{source} is invalid ({len(lines)} problem{'s' if len(lines) != 1 else ''}):"
        super().__init__(lines[0] if len(lines) == 1 else "\n  ".join([header, *lines]))
