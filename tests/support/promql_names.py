"""The metric and label names a PromQL expression refers to, found by a small tokenizer (no PromQL parser needed).

Alerting rules and dashboards are text; a metric renamed in the code leaves
them silently empty. This reads an expression the way PromQL does at the
level that matters here: string literals, range brackets (`[5m]`,
`[$__rate_interval]`) and Grafana variables (`$tenant_id`) say nothing about
names; an identifier followed by `(` is a function or an aggregation (so is
an aggregation followed by `by`/`without`, as in `sum by (le) (…)`); the
identifiers in `by (…)`, `without (…)`, `on (…)`, `ignoring (…)`,
`group_left (…)` and `group_right (…)` are labels, and so are the names
before the operators inside `{…}` matchers; every other identifier that is
not a keyword is a metric name. An unknown function is an error, so a typo
in a function name is caught too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AGGREGATIONS = frozenset({
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
})

FUNCTIONS = AGGREGATIONS | frozenset({  # Prometheus 2.x
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_count",
    "histogram_fraction", "histogram_quantile", "histogram_sum", "holt_winters", "hour", "idelta", "increase",
    "irate", "label_join", "label_replace", "ln", "log2", "log10", "minute", "month", "predict_linear", "rate",
    "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp", "vector", "year",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time",
    "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time",
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad",
    "pi", "start", "end",
})

_GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_KEYWORDS = _GROUPING | frozenset({"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"})

_TOKEN = re.compile(r"""
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    | (?P<variable>\$\{[^}]*\}|\$\w+)
    | (?P<range>\[[^\]]*\])
    | (?P<open_brace>\{)
    | (?P<number>\d[\w.]*|\.\d[\w.]*)
    | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
    | (?P<paren>[()])
    | (?P<other>\S)
""", re.VERBOSE)

_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`""")
_MATCHER_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")


@dataclass(frozen=True)
class Selector:
    """One vector selector: the metric it names (None for `{__name__=…}`) and the labels its matchers name."""

    metric: str | None
    labels: frozenset[str]


@dataclass(frozen=True)
class References:
    """What one expression refers to."""

    selectors: tuple[Selector, ...]
    grouping_labels: frozenset[str]

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset(s.metric for s in self.selectors if s.metric is not None)


def _brace_end(expr: str, start: int) -> int:
    """The index just past the `}` closing the matcher list opened at ``start``; braces in strings do not count."""
    i = start + 1
    while i < len(expr):
        char = expr[i]
        if char in "\"'`":
            string = _STRING.match(expr, i)
            if string is None:
                raise ValueError(f"unterminated string in matchers at {i}: {expr!r}")
            i = string.end()
            continue
        if char == "}":
            return i + 1
        i += 1
    raise ValueError(f"unclosed '{{' at {start}: {expr!r}")


def _tokens(expr: str) -> list[tuple[str, str]]:
    """(kind, text) tokens; a matcher list is one token of kind "matchers" holding what is between its braces."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(expr):
        if expr[i].isspace():
            i += 1
            continue
        match = _TOKEN.match(expr, i)
        if match is None:  # an unterminated string or range
            raise ValueError(f"cannot read the expression at {i}: {expr!r}")
        kind = match.lastgroup or "other"
        if kind == "open_brace":
            end = _brace_end(expr, i)
            tokens.append(("matchers", expr[i + 1:end - 1]))
            i = end
            continue
        tokens.append((kind, match.group()))
        i = match.end()
    return tokens


def _matcher_labels(matchers: str) -> frozenset[str]:
    return frozenset(_MATCHER_LABEL.findall(_STRING.sub('""', matchers)))


def references(expr: str) -> References:
    """The selectors and grouping labels of a PromQL expression. Raises ValueError on an unknown function."""
    tokens = _tokens(expr)
    selectors: list[Selector] = []
    grouping: set[str] = set()
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        if kind == "matchers":  # a selector with no name before it
            selectors.append(Selector(None, _matcher_labels(text)))
        elif kind == "ident" and text.lower() in _GROUPING:
            if following == ("paren", "("):
                close = tokens.index(("paren", ")"), i + 2)
                grouping.update(t for k, t in tokens[i + 2:close] if k == "ident")
                i = close
        elif kind == "ident" and text.lower() in _KEYWORDS:
            pass
        elif kind == "ident" and text in AGGREGATIONS and following[0] == "ident" and following[1] in ("by", "without"):
            pass  # `sum by (…) (…)`: the grouping comes before the operand
        elif kind == "ident" and following == ("paren", "("):
            if text not in FUNCTIONS:
                raise ValueError(f"unknown PromQL function {text!r} in {expr!r}")
        elif kind == "ident":
            labels = frozenset[str]()
            if following[0] == "matchers":
                labels = _matcher_labels(following[1])
                i += 1
            selectors.append(Selector(text, labels))
        i += 1
    return References(tuple(selectors), frozenset(grouping))


def metric_names(expr: str) -> frozenset[str]:
    """Every metric name ``expr`` selects."""
    return references(expr).metrics
