"""Hypothesis strategies of hostile input shared by the fuzz tests: JSON of every shape, huge and
non-finite numbers, deep nesting, and path segments that try to leave their folder."""

from __future__ import annotations

from hypothesis import strategies as st

#: Numbers that overflow, do not fit 64 bits, or are not finite.
huge_numbers = st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1, 2**31, 1e308, float("inf"), float("nan")])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | huge_numbers
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
#: Text of JSON nested far deeper than a parser's recursion limit.
deep_json = st.integers(min_value=500, max_value=20_000).map(lambda depth: "[" * depth + "]" * depth) | st.integers(
    min_value=500, max_value=20_000
).map(lambda depth: '{"a":' * depth + "1" + "}" * depth)
#: Path segments that try to climb out of their folder, or hold characters paths reject.
hostile_segments = st.sampled_from(
    [
        "..",
        "%2e%2e",
        "%2E%2E",
        ".%2e",
        "%2e.",
        "..%2f..",
        "%2f",
        "a%2fb",
        "%00",
        "a%00b",
        "%252e%252e",
        "~",
        ".",
        "%5c..",
    ]
)
#: Any path segment: ordinary names, hostile ones, and arbitrary text (quoted when sent).
segments = hostile_segments | st.from_regex(r"[A-Za-z0-9_.\-]{1,20}", fullmatch=True) | st.text(min_size=1, max_size=12)
