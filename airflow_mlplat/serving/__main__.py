"""``python -m airflow_mlplat.serving --model models:/NAME@champion [--model models:/NAME@challenger=0.1] ...``

Serves one or more model references on 127.0.0.1 with uvicorn. ``REF=SHARE`` gives a slot a
traffic share (without any, the first reference takes all unaddressed traffic). A bad flag stops
the service at start, naming the flag. ``POST /admin/reload`` needs the token in
``$MLPLAT_SERVING_ADMIN_TOKEN`` when there is one; without it, it is open on a loopback-only service
and off otherwise.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from airflow_mlplat.services.process import LOOPBACK


def build_router(
    models: list[str], *, tracking_uri: str | None, cache_dir: Path, pmml: bool = False, batching: Any = None
):
    from airflow_mlplat.serving.registry import ModelRef, RegistryClient, split_share
    from airflow_mlplat.serving.versions import ModelRouter, ModelSlot

    refs, shares = [], {}
    for text in models:
        ref_text, share = split_share(text)
        ref = ModelRef.parse(ref_text)
        refs.append(ref)
        if share is not None:
            shares[ref.label] = share
    registry = RegistryClient(tracking_uri) if any(not r.path for r in refs) else None
    slots = [ModelSlot(ref, registry=registry, cache_dir=cache_dir, pmml=pmml, batching=batching) for ref in refs]
    return ModelRouter(slots, shares or None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_mlplat.serving",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        help="models:/NAME@ALIAS, models:/NAME/VERSION "
        "or a model directory, optionally =SHARE; repeat for side-by-side versions",
    )
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--poll-interval", type=float, default=10.0, help="seconds between alias checks (0: never)")
    default_cache = Path(os.environ.get("MLPLAT_MODEL_CACHE", Path(tempfile.gettempdir()) / "mlplat-models"))
    parser.add_argument("--cache-dir", type=Path, default=default_cache, help="downloaded versions")
    parser.add_argument("--pmml", action="store_true", help="score the versions' model.pmml with jpmml-evaluator")
    parser.add_argument(
        "--batch-max-rows",
        type=int,
        default=0,
        help="micro-batching: score concurrent requests together, up to this many rows (0: off)",
    )
    parser.add_argument(
        "--batch-max-wait-ms", type=float, default=2.0, help="micro-batching: the longest a request waits for others"
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    import uvicorn

    from airflow_mlplat.serving.app import create_app
    from airflow_mlplat.serving.batching import BatchSettings

    batching = None
    if args.batch_max_rows:
        try:
            batching = BatchSettings(max_rows=args.batch_max_rows, max_wait_ms=args.batch_max_wait_ms)
        except ValueError as error:
            parser.error(f"arguments --batch-max-rows/--batch-max-wait-ms: {error}")
    try:
        router = build_router(
            args.model, tracking_uri=args.tracking_uri, cache_dir=args.cache_dir, pmml=args.pmml, batching=batching
        )
    except ValueError as error:
        parser.error(f"argument --model: {error}")
    if not (args.poll_interval >= 0 and math.isfinite(args.poll_interval)):
        parser.error(f"argument --poll-interval: must be a finite number of seconds >= 0, got {args.poll_interval}")
    from airflow_mlplat.serving.admin import ADMIN_TOKEN_ENV, LOOPBACK_HOSTS

    app = create_app(
        router,
        poll_interval=args.poll_interval,
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        loopback_only=args.host in LOOPBACK_HOSTS,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
