"""The built-in library as a whole: names, categories, and that declaring it never imports Spark."""

from __future__ import annotations

import json
import subprocess
import sys

from airflow_mlplat.components.registry import load_components
from airflow_mlplat.components.spec import PortKind

EXPECTED = {
    "import/export": {"read_table", "write_table"},
    "datasets": {"synthetic_purchase_intent"},
    "data processing": {
        "sql_transform",
        "cast_columns",
        "random_split",
        "fill_missing",
        "drop_duplicates",
        "filter_rows",
        "select_columns",
    },
    "feature engineering": {
        "standard_scaler",
        "min_max_scaler",
        "quantile_discretizer",
        "string_indexer",
        "one_hot_encoder",
        "vector_assembler",
    },
    "classification": {"logistic_regression", "gbdt_classifier", "random_forest_classifier"},
    "regression": {"linear_regression", "gbdt_regressor", "random_forest_regressor"},
    "evaluation": {"binary_classification_evaluation", "regression_evaluation"},
    "model": {"predict", "feature_importance"},
}


def test_every_builtin_component_is_registered_in_its_category():
    catalogue = load_components()
    for category, names in EXPECTED.items():
        for name in names:
            assert name in catalogue, name
            assert catalogue[name].category == category, name


def test_specs_are_complete_and_json_able():
    catalogue = load_components()
    for name in set().union(*EXPECTED.values()):
        spec = catalogue[name]
        assert spec.description and spec.summary
        assert all(param.help for param in spec.params), name
        assert all(port.help for port in spec.inputs), name
        json.dumps(spec.to_dict())


def test_port_kinds_and_output_names():
    catalogue = load_components()
    assert [(p.name, p.kind) for p in catalogue["random_split"].outputs] == [
        ("train", PortKind.TABLE),
        ("test", PortKind.TABLE),
    ]
    assert [(p.name, p.kind) for p in catalogue["gbdt_classifier"].outputs] == [("model", PortKind.MODEL)]
    for estimator in ("standard_scaler", "min_max_scaler", "quantile_discretizer", "string_indexer", "one_hot_encoder"):
        assert [p.name for p in catalogue[estimator].outputs] == ["data", "model"]
    assert catalogue["binary_classification_evaluation"].outputs[0].kind is PortKind.METRICS
    assert [p.name for p in catalogue["predict"].inputs] == ["model", "data"]
    assert catalogue["sql_transform"].input("other").optional
    assert catalogue["gbdt_classifier"].param("max_iter").interval.low == 1
    assert catalogue["cast_columns"].param("to_type").options.values[0] == "double"


def test_loading_the_library_imports_no_spark_numpy_or_pandas():
    probe = (
        "import sys\n"
        "from airflow_mlplat.components.registry import load_components\n"
        "assert len(load_components()) >= 26\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'pyspark', 'numpy', 'pandas', 'py4j'})\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
