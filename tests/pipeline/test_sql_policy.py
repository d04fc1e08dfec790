"""SQL that loads or calls code is refused by validation wherever a component takes SQL, unless the
deployment allows it; the checks are generated from the components' ``Sql`` declarations."""

from __future__ import annotations

import pytest

from airflow_mlplat.components.registry import iter_components
from airflow_mlplat.pipeline import PipelineValidationError, validate_pipeline
from airflow_mlplat.pipeline.sql_policy import check_sql

#: Code-loading SQL of each kind, as the issue lists it.
STATEMENTS = [
    "ADD JAR /tmp/evil.jar",
    "ADD FILE /tmp/evil.py",
    "ADD ARCHIVE /tmp/evil.zip",
    "CREATE FUNCTION evil AS 'com.evil.Udf' USING JAR 'hdfs://nn/evil.jar'",
    "CREATE TEMPORARY FUNCTION r AS 'org.apache.hadoop.hive.ql.udf.generic.GenericUDFReflect'",
    "SELECT reflect('java.lang.Thread', 'sleep', 1000L)",
    "SELECT java_method('java.lang.System', 'exit', 1)",
    "SELECT try_reflect('java.lang.Runtime', 'getRuntime')",
    "SELECT TRANSFORM(a) USING 'sh -c id' AS (b) FROM data",
    "dfs -ls /",
    "!ls",
    "reset",
    "EXECUTE IMMEDIATE 'ADD JAR /tmp/evil.jar'",
    "SET spark.sql.catalog.evil = com.evil.Catalog",
    "SELECT 1; ADD JAR /tmp/evil.jar",
]
QUERIES = [
    "SELECT reflect('java.lang.Thread', 'sleep', 1000L) AS slept FROM data",
    "SELECT *, JAVA_METHOD('java.lang.System', 'getenv', 'HOME') AS home FROM data",
    "SELECT `reflect`('java.lang.Thread', 'sleep', 1L) FROM data",
    "SELECT * FROM data WHERE (SELECT reflect('a', 'b')) IS NULL",
    "SELECT TRANSFORM(a) USING 'cat' AS (b) FROM data",
]
EXPRESSIONS = [
    "reflect('java.lang.Thread', 'sleep', 1000L) IS NOT NULL",
    "java_method('java.lang.System', 'exit', 1) > 0",
    "coalesce(try_reflect('java.lang.Runtime', 'getRuntime'), 'x')",
    "IDENTIFIER('reflect')",
]
SAFE = {
    "statement": ["CREATE DATABASE IF NOT EXISTS sales", "SHOW PARTITIONS t", "SELECT x * 10 AS y FROM data"],
    "query": ["SELECT *, a + b AS c FROM data", "WITH t AS (SELECT 1 AS x) SELECT * FROM t", "SELECT * FROM __THIS__"],
    "expression": ["age >= 18 AND city IS NOT NULL", "CASE WHEN age < 18 THEN 'minor' ELSE 'adult' END", "count(*)"],
}
REFUSED = {"statement": STATEMENTS, "query": QUERIES, "expression": EXPRESSIONS}
SQL_PARAMS = [(spec, param) for spec in iter_components() for param in spec.params if param.sql is not None]


def test_every_component_that_takes_sql_declares_it():
    """A parameter documented as SQL must be declared ``Sql(...)``, so validation checks it."""
    undeclared = [
        f"{spec.name}.{param.name}"
        for spec in iter_components()
        for param in spec.params
        if "sql" in param.help.lower()
        and any(word in param.help.lower() for word in ("expression", "statement", "query", "condition"))
        and param.sql is None
        and param.type_name in {"string", "string or null", "list of strings", "mapping of string to string"}
        and not spec.name.endswith("jdbc")  # its query runs in the remote database, not in Spark
    ]
    assert undeclared == []
    assert {f"{s.name}.{p.name}" for s, p in SQL_PARAMS} >= {
        "sql_transform.query",
        "run_hiveql.statements",
        "filter_rows.condition",
        "add_column.expression",
        "sql_feature.statement",
        "group_aggregate.aggregations",
        "read_hive_table.partition_filter",
    }


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_code_loading_sql_is_refused(kind):
    for text in REFUSED[kind]:
        problems = check_sql(text, kind, allow_code=False).problems
        assert problems, f"{kind}: {text!r} was accepted"
    for text in SAFE[kind]:
        assert check_sql(text, kind, allow_code=False).problems == [], text


def _node(spec, param, text: str) -> dict:
    value = {"list of strings": [text], "mapping of string to string": {"out": text}}.get(
        param.type_name.removesuffix(" or null"), text
    )
    params = {p.name: _example(p) for p in spec.params if p.required}
    params[param.name] = value
    inputs = {port.name: {"path": "/data/in"} for port in spec.inputs if not port.optional}
    return {"id": "node", "component": spec.name, "params": params, "inputs": inputs}


def _example(param) -> object:
    kind = param.type_name.removesuffix(" or null")
    return {"string": "x", "list of strings": ["x"], "mapping of string to string": {"x": "x"}}.get(kind, "x")


@pytest.mark.parametrize(("spec", "param"), SQL_PARAMS, ids=[f"{s.name}.{p.name}" for s, p in SQL_PARAMS])
def test_every_sql_parameter_refuses_calling_java(spec, param):
    text = {"statement": STATEMENTS[5], "query": QUERIES[0], "expression": EXPRESSIONS[0]}[param.sql.kind]
    with pytest.raises(PipelineValidationError) as caught:
        validate_pipeline({"name": "p", "nodes": [_node(spec, param, text)]})
    mine = [p for p in caught.value.problems if f"params.{param.name}" in p.message]
    assert mine and "Java" in mine[0].message, [str(p) for p in caught.value.problems]


def test_a_param_reference_is_checked_with_its_value_and_its_override():
    doc = {
        "name": "p",
        "params": {"cond": "age > 1"},
        "nodes": [
            {"id": "d", "component": "read_table", "params": {"path": "/data/x"}},
            {
                "id": "f",
                "component": "filter_rows",
                "inputs": {"data": "d.data"},
                "params": {"condition": {"$param": "cond"}},
            },
        ],
    }
    validate_pipeline(doc)
    with pytest.raises(PipelineValidationError, match=r"params.condition of filter_rows uses reflect\(\)"):
        validate_pipeline(doc, params={"cond": "reflect('java.lang.Thread', 'sleep', 1L) IS NULL"})


def test_the_deployment_may_allow_code_loading_sql(monkeypatch: pytest.MonkeyPatch):
    node = {"id": "h", "component": "run_hiveql", "params": {"statements": ["ADD JAR /opt/udfs.jar"]}}
    with pytest.raises(PipelineValidationError, match="allow_code_in_sql"):
        validate_pipeline({"name": "p", "nodes": [node]})
    monkeypatch.setenv("AIRFLOW__MLPLAT__ALLOW_CODE_IN_SQL", "True")
    validate_pipeline({"name": "p", "nodes": [node]})
    assert check_sql("SELECT reflect('a', 'b')", "query").problems == []


def test_sql_that_does_not_parse_is_refused_naming_the_parameter():
    node = {"id": "f", "component": "filter_rows", "inputs": {"data": {"path": "/x"}}, "params": {"condition": "a +"}}
    with pytest.raises(PipelineValidationError, match="params.condition of filter_rows cannot be parsed as Spark SQL"):
        validate_pipeline({"name": "p", "nodes": [node]})
