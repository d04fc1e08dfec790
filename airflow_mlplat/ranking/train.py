"""The training replica's entry point: ``python -m airflow_mlplat.ranking.train --config-json JSON``.

Every worker of a ``pytorch`` TrainingJob runs it (``ranking.job.ranking_job`` builds the job). It
reads the launcher's env contract (``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE``, ``RANK``;
``MLPLAT_CHECKPOINT_DIR``, ``MLPLAT_MODEL_DIR``, ``MLPLAT_EXPORT``, ``MLPLAT_METRICS_FILE``), trains
the configured model with DistributedDataParallel (gloo on CPU), and the exporting worker writes
into ``MLPLAT_MODEL_DIR`` (the platform copies it to the job's ``output_path``):

- ``model.torchscript.pt`` and ``model.onnx`` (checked against PyTorch within 1e-5), and
  ``model.pt`` (state dict with the model name and parameters);
- ``feature_map.json``: the encoding serving must apply; ``training_config.json``: the model, its
  resolved parameters and the input URLs (lineage);
- ``metrics.json`` (final: best epoch's validation metrics, test metrics, timings, export check),
  ``history.json`` (per epoch) and ``training_curve.png``.

The config (JSON): ``model``, ``params`` (the model's declared parameters), ``train``,
``validation`` and optional ``test`` (encoded tables: storage URLs or ``hive://DB.TABLE``),
``feature_map`` (a ``feature_map.json`` or the encoder model's folder), optional ``extra``
(columns of the test table to keep in ``test_predictions.parquet``, e.g. a known true
probability) and optional ``warm_start``: a model to start from instead of random weights (a
published model folder or its ``model.pt`` / ``model.torchscript.pt``, any storage URL), which must
have been trained as the same model on the same feature map (its weights must fit exactly; the
training config records it). Outside the launcher (``WORLD_SIZE`` unset) it trains alone and ``--output`` names
the model folder.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

CONFIG_KEYS = {"model", "params", "train", "validation", "test", "feature_map", "extra", "name", "warm_start"}
#: The files of a published model folder ``warm_start`` reads, in order of preference.
WARM_START_FILES = ("model.pt", "model.torchscript.pt")


def load_config(args: argparse.Namespace) -> dict[str, Any]:
    if args.config_json:
        config = json.loads(args.config_json)
    else:
        config = json.loads(Path(args.config).read_text())
    unknown = set(config) - CONFIG_KEYS
    missing = {"model", "train", "validation", "feature_map"} - set(config)
    if unknown or missing:
        raise ValueError(f"ranking config: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    return config


class WarmStartError(ValueError):
    """The ``warm_start`` model cannot be read, or its weights do not fit the model (names the URL)."""


def initial_state(url: str) -> dict[str, Any]:
    """The weights (a state dict) of the model at ``url``: a published model folder, a ``model.pt``
    (``{"state_dict": ...}`` as ``run`` saves it) or a TorchScript file.

    :raises WarmStartError: nothing readable there (names the URL).
    """
    import io

    import torch

    from airflow_mlplat.storage.urls import filesystem

    fs, path = filesystem(url)
    try:
        if fs.isdir(path):
            found = [name for name in WARM_START_FILES if fs.isfile(f"{path.rstrip('/')}/{name}")]
            if not found:
                raise WarmStartError(f"warm_start {url!r}: the folder has none of {', '.join(WARM_START_FILES)}")
            path = f"{path.rstrip('/')}/{found[0]}"
        with fs.open(path, "rb") as handle:
            data = io.BytesIO(handle.read())
    except OSError as err:
        raise WarmStartError(f"warm_start {url!r}: cannot be read ({err})") from err
    try:
        if path.endswith(".torchscript.pt"):
            return dict(torch.jit.load(data, map_location="cpu").state_dict())
        saved = torch.load(data, map_location="cpu", weights_only=False)
    except (RuntimeError, ValueError, OSError) as err:
        raise WarmStartError(f"warm_start {url!r}: not a PyTorch model ({str(err).splitlines()[0]})") from err
    state = saved.get("state_dict") if isinstance(saved, dict) and "state_dict" in saved else saved
    if not isinstance(state, dict):
        raise WarmStartError(f"warm_start {url!r}: holds no state dict")
    return state


def warm_start(network: Any, url: str) -> None:
    """Load the weights of the model at ``url`` (see ``initial_state``) into ``network``, exactly.

    :raises WarmStartError: a weight is missing, extra or of another shape (a different model,
        parameters or feature map); the message names the URL and the first few.
    """
    state = initial_state(url)
    own = network.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    shapes = [
        f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or extra or shapes:
        raise WarmStartError(
            f"warm_start {url!r}: its weights do not fit this model (trained as another model, with other "
            f"parameters or on another feature map): missing {missing[:3]}, unexpected {extra[:3]}, "
            f"other shapes {shapes[:3]}"
        )
    network.load_state_dict(state, strict=True)


def run(config: dict[str, Any], output: str | None = None) -> dict[str, Any]:
    """Train as one worker of the job described by the environment; return the final metrics."""
    import numpy as np
    import torch
    import torch.distributed as dist

    from airflow_mlplat.ranking.curve import training_curve_png
    from airflow_mlplat.ranking.data import EncodedTable
    from airflow_mlplat.ranking.export import export_network
    from airflow_mlplat.ranking.feature_map import FeatureMap
    from airflow_mlplat.ranking.models import build_network
    from airflow_mlplat.ranking.params import resolve_params
    from airflow_mlplat.ranking.trainer import Trainer

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    distributed = world > 1
    if distributed:
        dist.init_process_group("gloo", init_method="env://")
    rank = dist.get_rank() if distributed else 0
    try:
        model_name = config["model"]
        params = resolve_params(model_name, config.get("params"), where=f"ranking model {model_name!r}")
        torch.manual_seed(params["seed"])
        feature_map = FeatureMap.load(config["feature_map"])
        network = build_network(model_name, feature_map, params)
        if config.get("warm_start"):
            warm_start(network, config["warm_start"])
            print(f"rank {rank} warm-started from {config['warm_start']}", flush=True)
        tasks = list(network.tasks)
        train = EncodedTable(config["train"], feature_map, labels=tasks)
        validation = EncodedTable(config["validation"], feature_map, labels=tasks)
        trainer = Trainer(
            network, params, rank=rank, world=world, checkpoint_dir=os.environ.get("MLPLAT_CHECKPOINT_DIR")
        )
        started = time.perf_counter()
        history = trainer.fit(train, validation)
        fit_seconds = time.perf_counter() - started
        best = next(h for h in history if h["best"])
        metrics: dict[str, Any] = {
            "model": model_name,
            "tasks": tasks,
            "world_size": world,
            "train_rows": train.num_rows,
            "validation_rows": validation.num_rows,
            "epochs_run": len(history),
            "best_epoch": best["epoch"],
            "stopped_early": trainer.stopped_early,
            "fit_seconds": fit_seconds,
            "train_seconds": float(sum(h["train_seconds"] for h in history)),
            "samples_per_second": float(
                sum(h["train_rows"] for h in history) / max(sum(h["train_seconds"] for h in history), 1e-9)
            ),
        }
        if config.get("warm_start"):
            metrics["warm_start"] = config["warm_start"]
        for task in tasks:
            metrics[f"val_auc_{task}"] = best[f"val_auc_{task}"]
            metrics[f"val_logloss_{task}"] = best[f"val_logloss_{task}"]
        scored = None
        if config.get("test"):
            extra = list(config.get("extra") or [])
            test = EncodedTable(config["test"], feature_map, labels=tasks, extra=extra)
            scored = trainer.predict(test, extra=extra)
            from airflow_mlplat.ranking.metrics import auc, log_loss

            for task in tasks:
                metrics[f"test_auc_{task}"] = auc(scored[task], scored[f"p_{task}"])
                metrics[f"test_logloss_{task}"] = log_loss(scored[task], scored[f"p_{task}"])
            metrics["test_rows"] = int(len(scored[tasks[0]]))
        exporting = os.environ.get("MLPLAT_EXPORT", "1" if rank == 0 else "0") == "1"
        model_dir = os.environ.get("MLPLAT_MODEL_DIR") or output
        if exporting and model_dir:
            root = Path(model_dir)
            root.mkdir(parents=True, exist_ok=True)
            sample_batch = next(validation.batches(256, shuffle=False, steps=None))
            sample = {name: sample_batch[name] for name in network.input_names}
            metrics["export_check"] = export_network(network, sample, root)
            torch.save({"model": model_name, "params": params, "state_dict": network.state_dict()}, root / "model.pt")
            (root / "feature_map.json").write_text(feature_map.to_json())
            inputs = {key: config.get(key) for key in ("train", "validation", "test", "feature_map")}
            training = {
                "model": model_name,
                "params": params,
                "tasks": tasks,
                "inputs": inputs,
                "name": config.get("name"),
                "warm_start": config.get("warm_start"),
            }
            (root / "training_config.json").write_text(json.dumps(training, indent=1))
            (root / "history.json").write_text(json.dumps(history, indent=1))
            title = f"{model_name}: {len(history)} epochs, best {best['epoch']}"
            (root / "training_curve.png").write_bytes(training_curve_png(history, tasks, title))
            if scored is not None:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(
                    pa.table({k: np.asarray(v) for k, v in sorted(scored.items())}), root / "test_predictions.parquet"
                )
            (root / "metrics.json").write_text(json.dumps(metrics, indent=1))
            metrics_file = os.environ.get("MLPLAT_METRICS_FILE")
            if metrics_file:
                Path(metrics_file).parent.mkdir(parents=True, exist_ok=True)
                Path(metrics_file).write_text(json.dumps(_scalars(metrics)))
        if distributed:
            dist.barrier()
        return metrics
    finally:
        if distributed:
            dist.destroy_process_group()


def _scalars(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics a pod's termination message carries: scalars and the export check's differences."""
    out = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool, list))}
    check = metrics.get("export_check") or {}
    for key in ("torchscript_max_abs_diff", "onnx_max_abs_diff"):
        if key in check:
            out[key] = check[key]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train a ranking model (one DDP worker of a launcher job).")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="the config as a JSON file")
    source.add_argument("--config-json", help="the config as JSON text")
    parser.add_argument(
        "--output", default=None, help="model folder when not run by the launcher (no MLPLAT_MODEL_DIR)"
    )
    args = parser.parse_args(argv)
    run(load_config(args), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
