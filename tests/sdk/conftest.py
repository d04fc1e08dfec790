"""The README's pipeline in JSON and in Python, for the SDK's tests."""

from __future__ import annotations

import json
import re

from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
PIPELINE_FILES = sorted((REPO_ROOT / "dags" / "pipelines").glob("*.json"))


def readme_pipelines() -> list[dict]:
    """Every JSON block of the README that is a whole pipeline document."""
    docs = []
    for block in re.findall(r"```json\n(.*?)```", README, re.S):
        try:
            doc = json.loads(block)
        except json.JSONDecodeError:
            continue  # a fragment, e.g. the register block alone
        if isinstance(doc, dict) and "nodes" in doc:
            docs.append(doc)
    return docs


def readme_python() -> str:
    """The README's "The same pipeline in Python" block."""
    section = README.split("\n### The same pipeline in Python\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)
