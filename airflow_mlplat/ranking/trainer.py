"""The shared trainer of every ranking model: training, evaluation, early stopping, LR decay, checkpoints.

One ``Trainer`` runs on each DDP worker (or alone). Per epoch it

1. trains on the worker's shard of the encoded training table (``EncodedTable.batches``: the
   same number of steps on every worker), Adam on the mean binary cross-entropy over the tasks
   plus the model's L2 penalties; the train loss is all-reduced over the workers;
2. decays the learning rate (``lr_decay``: ``step`` every ``lr_decay_epochs`` epochs, or
   ``exponential`` every epoch, by ``lr_decay_factor``);
3. scores the validation table (each worker its shard, gathered everywhere) and computes AUC and
   log loss per task;
4. early stopping: the mean validation AUC over the tasks is monitored; after
   ``early_stopping_patience`` epochs without a better one training stops, and the best epoch's
   weights are restored (every worker takes the same decision from the same gathered numbers);
5. worker 0 writes a checkpoint into ``checkpoint_dir`` (``.epoch-N`` renamed to ``epoch-N``); a
   restarted worker resumes from the newest one.

``history`` holds one dict per epoch: ``epoch``, ``train_loss``, ``lr``, ``train_seconds``,
``samples_per_second``, ``val_auc_<task>``, ``val_logloss_<task>``, ``best``.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from airflow_mlplat.ranking.data import EncodedTable
from airflow_mlplat.ranking.metrics import auc, log_loss

log = logging.getLogger("airflow_mlplat.ranking")
CHECKPOINT_FILE = "checkpoint.pt"


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


class Trainer:
    """Train ``network`` (a ``RankingNetwork``) with resolved ``params`` (``ranking.params.resolve_params``).

    :param rank: this worker's rank; :param world: the number of workers (``torch.distributed``
        must be initialised when it is above 1).
    :param checkpoint_dir: where worker 0 writes a checkpoint after every epoch (None: none).
    """

    def __init__(
        self,
        network: torch.nn.Module,
        params: dict[str, Any],
        *,
        rank: int = 0,
        world: int = 1,
        checkpoint_dir: str | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.network = network
        self.tasks: list[str] = list(network.tasks)
        self.params = params
        self.rank, self.world = rank, world
        self.checkpoint_dir = checkpoint_dir
        self.echo = echo or (lambda line: print(line, flush=True))
        self.model = network
        if world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.model = DistributedDataParallel(network)
        self.optimizer = torch.optim.Adam(network.parameters(), lr=params["learning_rate"])
        self.scheduler: Any = None
        if params["lr_decay"] == "step":
            self.scheduler = torch.optim.lr_scheduler.StepLR(
                self.optimizer, step_size=params["lr_decay_epochs"], gamma=params["lr_decay_factor"]
            )
        elif params["lr_decay"] == "exponential":
            self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.optimizer, gamma=params["lr_decay_factor"])
        self.history: list[dict[str, Any]] = []
        self.best_auc = -np.inf
        self.best_epoch: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_epochs = 0
        self.start_epoch = 0
        self.stopped_early = False

    # -- helpers -------------------------------------------------------------------------

    def _inputs(self, batch: dict[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
        return tuple(torch.from_numpy(batch[name]) for name in self.network.input_names)

    def _targets(self, batch: dict[str, np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack([batch[task] for task in self.tasks], axis=1).astype(np.float32))

    def _all_reduce_sum(self, values: list[float]) -> list[float]:
        tensor = torch.tensor(values, dtype=torch.float64)
        if _distributed():
            dist.all_reduce(tensor)
        return tensor.tolist()

    def _gather(self, value: Any) -> list[Any]:
        if not _distributed():
            return [value]
        gathered: list[Any] = [None] * self.world
        dist.all_gather_object(gathered, value)
        return gathered

    # -- evaluation ----------------------------------------------------------------------

    def predict(self, table: EncodedTable, extra: list[str] | None = None) -> dict[str, np.ndarray]:
        """Probabilities of every row of ``table`` (gathered from all workers) with its labels.

        Returns ``{"p_<task>": ..., "<task>": labels, **extra columns}``.
        """
        self.network.eval()
        if _distributed():
            # Running statistics (DIN's Dice batch norm) drift apart per worker after the last step;
            # every worker scores with worker 0's, the ones the exported model has.
            for buffer in self.network.buffers():
                dist.broadcast(buffer, 0)
        parts: dict[str, list[np.ndarray]] = {}
        batch_size = max(self.params["batch_size"], 4096)
        with torch.no_grad():
            for batch in table.batches(batch_size, rank=self.rank, world=self.world, shuffle=False, steps=None):
                probabilities = self.network(*self._inputs(batch)).numpy()
                for i, task in enumerate(self.tasks):
                    parts.setdefault(f"p_{task}", []).append(probabilities[:, i])
                    parts.setdefault(task, []).append(batch[task])
                for name in extra or []:
                    parts.setdefault(name, []).append(batch[name])
        local = {k: np.concatenate(v) for k, v in parts.items()}
        gathered = self._gather(local)
        keys = set().union(*[g.keys() for g in gathered])
        return {k: np.concatenate([g[k] for g in gathered if k in g]) for k in keys}

    def evaluate(self, table: EncodedTable, prefix: str) -> dict[str, float]:
        """``<prefix>_auc_<task>`` and ``<prefix>_logloss_<task>`` of every task on ``table``."""
        scored = self.predict(table)
        metrics = {}
        for task in self.tasks:
            metrics[f"{prefix}_auc_{task}"] = auc(scored[task], scored[f"p_{task}"])
            metrics[f"{prefix}_logloss_{task}"] = log_loss(scored[task], scored[f"p_{task}"])
        metrics[f"{prefix}_rows"] = int(len(scored[self.tasks[0]]))
        return metrics

    # -- training ------------------------------------------------------------------------

    def train_epoch(self, train: EncodedTable, epoch: int) -> dict[str, Any]:
        params = self.params
        self.network.train()
        steps = train.steps_per_epoch(self.world, params["batch_size"], epoch, params["seed"])
        total_loss = 0.0
        rows = 0
        started = time.perf_counter()
        for batch in train.batches(
            params["batch_size"], rank=self.rank, world=self.world, epoch=epoch, seed=params["seed"], steps=steps
        ):
            probabilities = self.model(*self._inputs(batch))
            targets = self._targets(batch)
            loss = F.binary_cross_entropy(probabilities, targets)
            objective = loss + self.network.regularization_loss()
            self.optimizer.zero_grad(set_to_none=True)
            objective.backward()
            self.optimizer.step()
            total_loss += float(loss.detach()) * len(targets)
            rows += len(targets)
        seconds = time.perf_counter() - started
        loss_sum, row_sum = self._all_reduce_sum([total_loss, rows])
        seconds = max(self._gather(seconds))
        return {
            "train_loss": loss_sum / row_sum,
            "train_rows": int(row_sum),
            "train_seconds": seconds,
            "samples_per_second": row_sum / seconds if seconds > 0 else float("nan"),
            "steps": steps,
        }

    def fit(self, train: EncodedTable, validation: EncodedTable) -> list[dict[str, Any]]:
        """Train up to ``epochs`` epochs with early stopping; return the history."""
        params = self.params
        self._resume()
        patience = params["early_stopping_patience"]
        for epoch in range(self.start_epoch, params["epochs"]):
            lr = self.optimizer.param_groups[0]["lr"]
            record: dict[str, Any] = {"epoch": epoch + 1, "lr": lr}
            record.update(self.train_epoch(train, epoch))
            if self.scheduler is not None:
                self.scheduler.step()
            record.update(self.evaluate(validation, "val"))
            monitored = float(np.nanmean([record[f"val_auc_{t}"] for t in self.tasks]))
            record["val_auc_mean"] = monitored
            improved = monitored > self.best_auc
            if improved:
                self.best_auc, self.best_epoch, self.bad_epochs = monitored, epoch + 1, 0
                if patience > 0:
                    self.best_state = copy.deepcopy(self.network.state_dict())
            else:
                self.bad_epochs += 1
            self.history.append(record)
            self.echo(
                f"rank {self.rank} epoch {epoch + 1}/{params['epochs']} train_loss {record['train_loss']:.5f} "
                + " ".join(
                    f"val_auc_{t} {record[f'val_auc_{t}']:.5f} val_logloss_{t} {record[f'val_logloss_{t}']:.5f}"
                    for t in self.tasks
                )
                + f" lr {lr:.3g} {record['train_seconds']:.1f}s {record['samples_per_second']:.0f} rows/s"
            )
            self._checkpoint(epoch + 1)
            if patience > 0 and self.bad_epochs >= patience:
                self.stopped_early = True
                self.echo(f"rank {self.rank} early stopping after epoch {epoch + 1}: best epoch {self.best_epoch}")
                break
        if patience > 0 and self.best_state is not None:
            self.network.load_state_dict(self.best_state)
        for record in self.history:
            record["best"] = record["epoch"] == (self.best_epoch if patience > 0 else self.history[-1]["epoch"])
        return self.history

    # -- checkpoints -----------------------------------------------------------------------

    def _state(self, epoch: int) -> dict[str, Any]:
        return {
            "epoch": epoch,
            "model": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "history": self.history,
            "best": (self.best_auc, self.best_epoch, self.best_state, self.bad_epochs),
        }

    def _checkpoint(self, epoch: int) -> None:
        if not self.checkpoint_dir or self.rank != 0:
            return
        root = Path(self.checkpoint_dir)
        root.mkdir(parents=True, exist_ok=True)
        partial = root / f".epoch-{epoch}"
        final = root / f"epoch-{epoch}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        torch.save(self._state(epoch), partial / CHECKPOINT_FILE)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(partial, final)
        for old in root.glob("epoch-*"):  # keep the newest two
            if old.name.split("-")[-1].isdigit() and int(old.name.split("-")[-1]) < epoch - 1:
                shutil.rmtree(old, ignore_errors=True)

    def _resume(self) -> None:
        if not self.checkpoint_dir or not Path(self.checkpoint_dir).is_dir():
            return
        done = [p for p in Path(self.checkpoint_dir).glob("epoch-*") if p.name.split("-")[-1].isdigit()]
        if not done:
            return
        newest = max(done, key=lambda p: int(p.name.split("-")[-1]))
        state = torch.load(newest / CHECKPOINT_FILE, weights_only=False)
        self.network.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.history = list(state["history"])
        self.best_auc, self.best_epoch, self.best_state, self.bad_epochs = state["best"]
        self.start_epoch = int(state["epoch"])
        self.echo(f"rank {self.rank} resumed from {newest} (epoch {self.start_epoch})")
