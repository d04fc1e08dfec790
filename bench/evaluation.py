"""Binary evaluation on a large scored table: full metrics and plots vs Spark's own AUC alone.

One process, one SparkSession (local[*]), one cached table of ROWS scored rows (a probability
vector and a 0/1 label, continuous scores, so nearly every score is distinct). Alternated,
RUNS times each:
- ``spark auc``: ``BinaryClassificationEvaluator(metricName="areaUnderROC")`` alone (the baseline);
- ``component``: ``binary_classification_evaluation`` with its four plots (this tree);
- ``before``: the same component as committed at git HEAD (its multi-job version), unless --no-before.

Target (issue 18): component / spark auc <= 1.5 (medians).

    python bench/evaluation.py [--rows 2500000] [--runs 3] [--no-before]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.5


def _committed_component(name: str):
    """``name`` from git HEAD's evaluation module, its registration decorator stubbed out."""
    source = subprocess.run(
        ["git", "show", "HEAD:airflow_mlplat/components/evaluation.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    source = source.replace(
        "from airflow_mlplat.components.registry import component\n",
        "def component(**_):\n    return lambda function: function\n",
    )
    module = types.ModuleType("committed_evaluation")
    exec(compile(source, "HEAD:evaluation.py", "exec"), module.__dict__)  # noqa: S102 - our own committed source
    return getattr(module, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-before", action="store_true", help="skip the committed version")
    args = parser.parse_args()

    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F

    from airflow_mlplat.components.evaluation import binary_classification_evaluation
    from airflow_mlplat.engine.context import ComponentContext
    from airflow_mlplat.engine.session import get_session

    spark = get_session("bench-evaluation", {"spark.driver.memory": "4g"})
    spark.sparkContext.setLogLevel("WARN")
    label = (F.rand(seed=1) < 0.3).cast("double")
    score = 1 / (1 + F.exp(-(F.randn(seed=2) + F.lit(1.2) * label)))
    data = (
        spark.range(args.rows)
        .select(label.alias("label"), score.alias("p"))
        .select(
            "label",
            (F.col("p") > 0.5).cast("double").alias("prediction"),
            array_to_vector(F.array(1 - F.col("p"), F.col("p"))).alias("probability"),
        )
        .cache()
    )
    rows = data.count()
    print(f"{rows:,} scored rows cached; {spark.sparkContext.defaultParallelism} cores", flush=True)

    work = Path(tempfile.mkdtemp(prefix="mlplat-bench-eval-"))
    evaluator = BinaryClassificationEvaluator(rawPredictionCol="probability", labelCol="label")
    candidates = {
        "spark auc": lambda: {"auc_roc": evaluator.evaluate(data)},
        "component": lambda: binary_classification_evaluation(
            ComponentContext(spark=spark, node_id="now", artifacts_dir=str(work / "now")), data
        ),
    }
    if not args.no_before:
        before = _committed_component("binary_classification_evaluation")
        candidates["before"] = lambda: before(
            ComponentContext(spark=spark, node_id="before", artifacts_dir=str(work / "before")), data
        )
    times: dict[str, list[float]] = {name: [] for name in candidates}
    aucs: dict[str, float] = {}
    for run in range(1, args.runs + 1):
        for name, call in candidates.items():
            started = time.perf_counter()
            result = call()
            times[name].append(time.perf_counter() - started)
            aucs[name] = result["auc_roc"]
            print(f"run {run}: {name:<10} {times[name][-1]:7.2f} s  auc_roc {result['auc_roc']:.6f}", flush=True)

    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{'':<10} {'median s':>9}  runs")
    for name, values in times.items():
        print(f"{name:<10} {median[name]:9.2f}  {', '.join(f'{v:.2f}' for v in values)}")
    ratio = median["component"] / median["spark auc"]
    print(f"AUC difference component - spark auc: {aucs['component'] - aucs['spark auc']:+.2e}")
    if "before" in median:
        print(f"before / component: {median['before'] / median['component']:.2f}x")
        print(f"before / spark auc: {median['before'] / median['spark auc']:.2f}")
    verdict = "met" if ratio <= TARGET else "missed"
    print(f"component (all metrics + 4 plots) / spark auc alone: {ratio:.2f} (target <= {TARGET}: {verdict})")
    spark.stop()


if __name__ == "__main__":
    sys.exit(main())
