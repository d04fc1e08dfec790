"""``python -m airflow_mlplat.modelzoo.read_signature FORMAT PATH`` on a framework runtime: the signature as JSON.

Runs on ``.venv-tf`` (``savedmodel``) or ``.venv-paddle`` (``paddle``), which the platform's own
environment does not import. Prints one JSON line; any failure exits non-zero with the error last
on stderr.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def savedmodel(path: str) -> dict[str, Any]:
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    if "serving_default" not in loaded.signatures:
        raise ValueError(f"no serving_default signature (it has: {sorted(loaded.signatures) or 'none'})")
    function = loaded.signatures["serving_default"]
    _, inputs = function.structured_input_signature

    def described(name: str, spec: Any) -> dict[str, Any]:
        return {"name": name, "type": spec.dtype.name, "shape": [d for d in spec.shape.as_list()]}

    return {
        "inputs": [described(n, s) for n, s in sorted(inputs.items())],
        "outputs": [described(n, s) for n, s in sorted(function.structured_outputs.items())],
    }


def paddle(prefix: str) -> dict[str, Any]:
    import paddle

    paddle.enable_static()
    program, feeds, fetches = paddle.static.load_inference_model(prefix, paddle.static.Executor(paddle.CPUPlace()))
    block = program.global_block()
    if hasattr(block, "var"):  # a legacy program (.pdmodel): feeds are variables
        declared = {name: block.var(name) for name in feeds}
    else:  # PIR (.json): a feed is the result of its pd_op.data
        declared = {op.attrs().get("name"): op.result(0) for op in block.ops if op.name() == "pd_op.data"}

    def described(name: str, value: Any) -> dict[str, Any]:
        described = {"name": name}
        if value is not None:
            described["type"] = str(value.dtype).removeprefix("paddle.")
            described["shape"] = [None if d < 0 else int(d) for d in value.shape]
        return described

    return {
        "inputs": [described(name, declared.get(name)) for name in feeds],
        "outputs": [described(f"output_{i}", value) for i, value in enumerate(fetches)],
    }


def main(argv: list[str]) -> int:
    fmt, path = argv
    print(json.dumps({"savedmodel": savedmodel, "paddle": paddle}[fmt](path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
