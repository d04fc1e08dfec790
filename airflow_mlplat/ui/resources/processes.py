"""CPU and memory of a local process and everything it started, through psutil.

A local replica or service is the leader of its own process group (``start_new_session``); its
work may run in children (a launcher, data-loader workers), so a reading covers the whole tree.
CPU is the tree's CPU seconds between two readings over the wall-clock seconds between them
(100 = one core busy); memory is the sum of resident set sizes now.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_mlplat.ui.resources.sampling import Pair


@dataclass(frozen=True)
class TreeReading:
    """One reading of a process tree: CPU seconds and RSS of each process, keyed by (pid, start time)."""

    cpu: dict[tuple[int, float], float]
    rss: int
    started: dict[tuple[int, float], float]

    @property
    def pids(self) -> list[int]:
        return sorted(pid for pid, _ in self.cpu)


class ProcessGone(LookupError):
    """The process is not running (any more)."""


def read_tree(pid: int) -> TreeReading:
    """The CPU seconds and memory of process ``pid`` and its descendants; ``ProcessGone`` when it is not running."""
    import psutil

    try:
        root = psutil.Process(pid)
        if root.status() == psutil.STATUS_ZOMBIE:
            raise ProcessGone(f"process {pid} has exited")
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        raise ProcessGone(f"process {pid} is not running") from None
    cpu: dict[tuple[int, float], float] = {}
    started: dict[tuple[int, float], float] = {}
    rss = 0
    for proc in procs:
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                key = (proc.pid, proc.create_time())
                cpu[key] = times.user + times.system
                started[key] = key[1]
                rss += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # ended between the listing and the reading
        except psutil.AccessDenied:
            continue  # not ours to read: counted as nothing rather than guessed
    if not cpu:
        raise ProcessGone(f"process {pid} is not running")
    return TreeReading(cpu, rss, started)


def cpu_percent(pair: Pair, wall_epoch_of_earlier: float) -> float:
    """The tree's CPU use between two readings, in percent of one core.

    A process in both readings counts its CPU seconds' increase; one started after the earlier
    reading (``create_time`` later than ``wall_epoch_of_earlier``) counts all of its seconds; one
    that ended in between counts nothing (its last seconds are not known).
    """
    earlier: TreeReading = pair.earlier.value
    later: TreeReading = pair.later.value
    used = 0.0
    for key, seconds in later.cpu.items():
        if key in earlier.cpu:
            used += max(0.0, seconds - earlier.cpu[key])
        elif later.started[key] >= wall_epoch_of_earlier:
            used += seconds
    return 100.0 * used / pair.seconds if pair.seconds > 0 else 0.0


def usage(pair: Pair) -> dict[str, float | int | list[int]]:
    """``{"cpu_percent", "memory_bytes", "pids"}`` of the later reading (CPU over the pair's span)."""
    import time

    later: TreeReading = pair.later.value
    # create_time is wall-clock; the readings' times are monotonic: place the earlier one on the wall clock.
    earlier_wall = time.time() - (time.monotonic() - pair.earlier.at)
    return {"cpu_percent": round(cpu_percent(pair, earlier_wall), 1), "memory_bytes": later.rss, "pids": later.pids}
