"""What the SQL in a pipeline may do: no loading or calling code, and which files it touches.

Every component parameter declared ``Sql(...)`` is parsed here with sqlglot's Spark dialect (at
validation, so at DAG parse, on the page and in the driver, without a JVM). Refused unless the
deployment sets ``[mlplat] allow_code_in_sql = True``:

- statements that load or run code, or hide a statement from this check: ``ADD JAR|FILE|ARCHIVE``,
  ``CREATE FUNCTION ... AS 'class'`` (with or without ``USING``), ``dfs``, ``!``, ``RESET``,
  ``EXECUTE IMMEDIATE``, ``CALL``, SQL scripts (``BEGIN ... END``), ``SET`` of keys that name classes;
- functions that call Java methods (``reflect``, ``java_method``, ``try_reflect``), and the
  ``IDENTIFIER()`` clause that would hide a function's name; ``TRANSFORM ... USING`` (a shell command).

SQL that does not parse is refused too: what cannot be read cannot be checked. The locations
the SQL reads or writes by itself (``LOAD DATA INPATH``, ``INSERT ... DIRECTORY``, ``LOCATION``,
``OPTIONS (path ...)``, ``parquet.`/path``) are returned, for the page's data roots.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Literal

from airflow_mlplat import config

#: What a parameter holds: one query, one statement per item, or one expression.
SqlKind = Literal["query", "statement", "expression"]

#: Functions that call arbitrary Java static methods, and the clause that names a function at run time.
CODE_FUNCTIONS = frozenset({"reflect", "java_method", "try_reflect", "identifier"})
#: Leading words of statements that load or run code, or that run SQL this check cannot see.
CODE_STATEMENTS = {
    "ADD": "loads a jar, file or archive onto the workers",
    "DFS": "runs a filesystem shell command",
    "!": "runs a shell command",
    "RESET": "resets the session's settings",
    "EXECUTE": "runs SQL built at run time, which cannot be checked",
    "CALL": "calls a stored procedure",
    "BEGIN": "is an SQL script, whose statements cannot be checked",
}
#: ``SET`` keys that name classes Spark or Hive load.
_CLASS_KEY_WORDS = ("catalog", "class", "impl", "hook", "extension", "jar", "plugin", "factory", "provider")
#: Data sources Spark reads directly in ``FORMAT.`path```.
FILE_FORMATS = frozenset(
    {"parquet", "orc", "json", "csv", "text", "avro", "binaryfile", "xml", "libsvm", "image", "delta", "hive"}
)
_ALLOW_HINT = "; a deployment may allow it with [mlplat] allow_code_in_sql = True"

# sqlglot warns for every statement it keeps as an opaque Command (SHOW, MSCK ...): expected here.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


@dataclasses.dataclass
class SqlCheck:
    """``problems``: why the SQL is refused (empty: accepted); ``locations``: paths it reads or writes itself."""

    problems: list[str] = dataclasses.field(default_factory=list)
    locations: list[str] = dataclasses.field(default_factory=list)


def _statements(text: str) -> list[list[object]]:
    """The token lists of the statements in ``text`` (split at ``;``)."""
    from sqlglot.dialects.spark import Spark
    from sqlglot.tokens import TokenType

    statements: list[list[object]] = [[]]
    for token in Spark().tokenize(text):
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [tokens for tokens in statements if tokens]


def _leading_words(tokens: list[object]) -> tuple[str, str]:
    """``(first word, the statement's head as shown)``, e.g. ``("ADD", "ADD JAR")``."""
    text = " ".join(tokens[0].text.split()).upper()  # type: ignore[attr-defined]
    if text.startswith("!"):
        return "!", "!"
    return (text.split()[0] if text else ""), text


def _function_name(node: object) -> str | None:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return None


def _literal(node: object) -> str | None:
    from sqlglot import exp

    return str(node.this) if isinstance(node, exp.Literal) and node.is_string else None


def _walk(tree: object, check: SqlCheck, allow_code: bool) -> None:
    from sqlglot import exp

    for node in tree.walk():  # type: ignore[attr-defined]
        if not allow_code:
            name = _function_name(node)
            if name in CODE_FUNCTIONS:
                what = "names a function at run time" if name == "identifier" else "calls Java methods"
                check.problems.append(f"uses {name}(), which {what}{_ALLOW_HINT}")
            if isinstance(node, exp.QueryTransform):
                check.problems.append(f"uses TRANSFORM ... USING, which runs a shell command{_ALLOW_HINT}")
            if isinstance(node, exp.Create) and str(node.args.get("kind", "")).upper() == "FUNCTION":
                if _literal(node.args.get("expression")) is not None or node.find(exp.UsingProperty):
                    check.problems.append(f"uses CREATE FUNCTION ... AS 'class', which loads Java code{_ALLOW_HINT}")
            if isinstance(node, exp.SetItem) and isinstance(node.this, exp.EQ):
                key = node.this.this.sql(dialect="spark").lower()
                if any(word in key for word in _CLASS_KEY_WORDS):
                    check.problems.append(f"sets {key!r}, which names code Spark loads{_ALLOW_HINT}")
        if isinstance(node, exp.LoadData):
            check.locations.append(_literal(node.args.get("inpath")) or "")
        elif isinstance(node, exp.Directory):
            check.locations.append(_literal(node.this) or "")
        elif isinstance(node, exp.LocationProperty):
            check.locations.append(_literal(node.this) or "")
        elif isinstance(node, exp.AlterSet) and node.args.get("location") is not None:
            check.locations.append(_literal(node.args["location"]) or "")
        elif isinstance(node, exp.Property) and str(node.name).lower() in {"path", "paths"}:
            check.locations.append(_literal(node.args.get("value")) or "")
        elif isinstance(node, exp.Table) and node.args.get("db") is not None:
            source = str(node.args["db"].name).lower()
            if source in FILE_FORMATS or "." in source:
                check.locations.append(str(node.name))


def check_sql(text: str, kind: SqlKind, *, allow_code: bool | None = None) -> SqlCheck:
    """Parse ``text`` as Spark SQL of ``kind``; return its problems and the locations it touches."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    if allow_code is None:
        allow_code = config.flag(config.ALLOW_CODE_IN_SQL)
    check = SqlCheck()
    if not text.strip():
        check.problems.append("is empty")
        return check
    try:
        statements = _statements(text)
    except TokenError as error:
        check.problems.append(f"cannot be parsed as Spark SQL: {str(error).splitlines()[0]}")
        return check
    if len(statements) > 1:
        check.problems.append(f"holds {len(statements)} statements; give one")
        return check
    if not statements:  # only comments
        check.problems.append("holds no SQL")
        return check
    word, head = _leading_words(statements[0])
    if word in CODE_STATEMENTS and not allow_code:
        check.problems.append(f"is refused: {head} {CODE_STATEMENTS[word]}{_ALLOW_HINT}")
        return check
    if word in {"DFS", "!", "BEGIN"}:  # allowed, but nothing sqlglot can read further
        return check
    try:
        tree = sqlglot.parse_one(text, read="spark")
    except (ParseError, TokenError) as error:
        first = str(error).strip().splitlines()[0]
        check.problems.append(f"cannot be parsed as Spark SQL (so it cannot be checked): {first}")
        return check
    if kind == "query" and not isinstance(tree, exp.Query):
        check.problems.append(f"must be a query (SELECT ...), got a {type(tree).__name__} statement")
    elif kind == "expression" and isinstance(tree, (exp.Query, exp.DDL, exp.DML, exp.Command)):
        check.problems.append(f"must be an expression, not a {type(tree).__name__} statement")
    _walk(tree, check, allow_code)
    return check
