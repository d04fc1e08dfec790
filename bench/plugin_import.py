"""What the plugin adds to every Airflow process's start: import time of airflow_mlplat.plugin.

Each sample is a fresh interpreter; the baseline imports ``airflow.plugins_manager`` (which every
process that loads plugins imports anyway), the measured one imports it and then the plugin.
Prints medians and the ratio.  Usage: ``.venv/bin/python bench/plugin_import.py [samples]``
"""

from __future__ import annotations

import statistics
import subprocess
import sys

TIMER = (
    "import time; t = time.perf_counter(); import airflow.plugins_manager; t1 = time.perf_counter(); {extra}; "
    "print(time.perf_counter() - t, t1 - t)"
)


def sample(extra: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", TIMER.format(extra=extra)], capture_output=True, text=True, check=True)
    total, base = map(float, out.stdout.split())
    return total, total - base


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    baseline = [sample("pass")[0] for _ in range(samples)]
    with_plugin = [sample("import airflow_mlplat.plugin") for _ in range(samples)]
    base = statistics.median(baseline)
    total = statistics.median(t for t, _ in with_plugin)
    plugin_only = statistics.median(p for _, p in with_plugin)
    print(f"import airflow.plugins_manager:           {base:.3f} s (median of {samples})")
    print(f"  + import airflow_mlplat.plugin:         {total:.3f} s")
    print(f"the plugin module alone (same process):   {plugin_only * 1000:.2f} ms")
    print(f"ratio with/without plugin:                {total / base:.3f}")


if __name__ == "__main__":
    main()
