"""``airflow-mlplat train``: the shell client of the launcher, on the same backends as the operator.

    airflow-mlplat train submit SPEC.yaml [--detach]   submit; wait, stream worker-0's log, clean up
    airflow-mlplat train status JOB [--json]           phase, message, replicas
    airflow-mlplat train logs JOB [--replica worker-1] [--tail N]
    airflow-mlplat train export JOB                    the newest checkpoint -> OUTPUT/checkpoints/NAME
    airflow-mlplat train kill JOB                      stop and remove everything

Backend options (every action): ``--backend local|kubernetes`` (default local), ``--state-root``
(local), ``--namespace``, ``--conn-id`` (kubernetes), ``--profile PROFILE.yaml`` (a cluster
profile). ``SPEC.yaml`` holds the ``TrainingJob`` fields (YAML or JSON). Exit codes: 0 done,
1 the job failed, 2 a bad spec or an unknown job.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _read_mapping(path: str, what: str) -> dict[str, Any]:
    import yaml

    try:
        value = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise SystemExit(f"{what} {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise SystemExit(f"{what} {path}: not YAML/JSON: {err}") from None
    if not isinstance(value, dict):
        raise SystemExit(f"{what} {path}: must hold a mapping of fields, got {type(value).__name__}")
    return value


def _backend(args: argparse.Namespace):
    from airflow_mlplat.launcher.backends import get_backend
    from airflow_mlplat.launcher.backends.options import backend_options

    profile = _read_mapping(args.profile, "cluster profile") if args.profile else None
    options = backend_options(
        args.backend,
        namespace=args.namespace,
        kubernetes_conn_id=args.conn_id,
        cluster_profile=profile,
        state_root=args.state_root,
        request_timeout=30.0,
    )
    return get_backend(args.backend, **options), profile


def _submit(args: argparse.Namespace) -> int:
    from airflow_mlplat.launcher.backends import TrainingJobFailed, conclude
    from airflow_mlplat.launcher.spec import ClusterProfile, TrainingJob

    backend, profile = _backend(args)
    job = TrainingJob.from_dict(_read_mapping(args.spec, "training job spec")).validate(
        ClusterProfile.from_dict(profile)
    )
    handle = backend.handle(job)
    backend.submit(job, handle)
    print(f"submitted training job {job.name} ({args.backend})", flush=True)
    if handle.get("tensorboard_url"):
        print(f"TensorBoard: {handle['tensorboard_url']}", flush=True)
    if args.detach:
        return 0
    status = backend.wait(handle, poll_interval=args.poll_interval, on_log=lambda line: print(line, flush=True))
    try:
        result = conclude(handle, status)
    except TrainingJobFailed as err:
        print(str(err), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


def _status(args: argparse.Namespace) -> int:
    backend, _ = _backend(args)
    handle = backend.attach(args.job)
    status = backend.status(handle)
    if args.json:
        print(json.dumps(status.to_dict(), indent=2, default=str))
        return 0
    print(f"{args.job}: {status.phase}" + (f" ({status.message})" if status.message else ""))
    if handle.get("tensorboard_url"):
        print(f"  TensorBoard: {handle['tensorboard_url']}")
    for name, info in sorted(status.replicas.items()):
        extra = f", {info['restarts']} restart(s)" if info.get("restarts") else ""
        print(f"  {name:14} {info.get('state', '?')}{extra}")
    return 0


def _logs(args: argparse.Namespace) -> int:
    backend, _ = _backend(args)
    print(backend.logs(backend.attach(args.job), args.replica, tail=args.tail))
    return 0


def _export(args: argparse.Namespace) -> int:
    backend, _ = _backend(args)
    dest = backend.export_checkpoint(backend.attach(args.job))
    print(f"exported the newest checkpoint of {args.job} to {dest}")
    return 0


def _kill(args: argparse.Namespace) -> int:
    backend, _ = _backend(args)
    backend.kill(backend.attach(args.job))
    print(f"killed training job {args.job}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from airflow_mlplat.launcher.backends import LauncherError
    from airflow_mlplat.launcher.spec import TrainingJobSpecError

    try:
        return args.train_func(args)
    except (TrainingJobSpecError, LauncherError) as err:
        print(str(err), file=sys.stderr)
        return 2


def add_train_commands(sub: Any) -> None:
    train = sub.add_parser("train", help="distributed training jobs: submit, status, logs, export, kill")
    actions = train.add_subparsers(dest="action", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--backend", choices=("local", "kubernetes"), default="local")
    common.add_argument("--state-root", help="the local backend's state directory (default: $MLPLAT_LAUNCHER_ROOT)")
    common.add_argument("--namespace", default="default", help="Kubernetes namespace")
    common.add_argument("--conn-id", default="kubernetes_default", help="cncf-kubernetes Airflow connection")
    common.add_argument("--profile", help="cluster profile (YAML/JSON): GPU labels, runtimes, local capacity...")
    submit = actions.add_parser("submit", parents=[common], help="submit a job from a YAML/JSON spec")
    submit.add_argument("spec")
    submit.add_argument("--detach", action="store_true", help="return once submitted (the job keeps running)")
    submit.add_argument("--poll-interval", type=float, default=2.0)
    submit.set_defaults(train_func=_submit)
    status = actions.add_parser("status", parents=[common], help="where a job stands")
    status.add_argument("job")
    status.add_argument("--json", action="store_true")
    status.set_defaults(train_func=_status)
    logs = actions.add_parser("logs", parents=[common], help="a replica's log")
    logs.add_argument("job")
    logs.add_argument("--replica", default="worker-0", help="ps-0, chief-0, worker-1, ...")
    logs.add_argument("--tail", type=int, default=100)
    logs.set_defaults(train_func=_logs)
    export = actions.add_parser("export", parents=[common], help="copy the newest checkpoint to the output URL")
    export.add_argument("job")
    export.set_defaults(train_func=_export)
    kill = actions.add_parser("kill", parents=[common], help="stop and remove a job")
    kill.add_argument("job")
    kill.set_defaults(train_func=_kill)
    train.set_defaults(func=_run)
