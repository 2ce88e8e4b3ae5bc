"""The PromQL name tokenizer the rules and dashboards are checked with (tests/support/promql_names.py)."""

from __future__ import annotations

import pytest

from tests.support.promql_names import Selector, metric_names, references


def test_functions_keywords_numbers_durations_and_strings_are_not_metrics() -> None:
    expr = 'sum(rate(a_total{status=~"5..", route="/x/{id}"}[5m] offset 1h)) / sum(rate(a_total[$__rate_interval])) > 0.05'
    assert metric_names(expr) == {"a_total"}
    assert metric_names('label_replace(up, "dst", "$1 b_total", "instance", "(.*)")') == {"up"}
    assert metric_names("time() - c_seconds > 2 * 3600 and bool 1e3") == {"c_seconds"}


def test_grouping_lists_hold_labels_wherever_they_stand() -> None:
    found = references("histogram_quantile(0.99, sum by (le, route) (rate(h_bucket{method=\"GET\"}[5m])))")
    assert found.selectors == (Selector("h_bucket", frozenset({"method"})),)
    assert found.grouping_labels == {"le", "route"}
    found = references("sum(x) without (instance) / on (camera_id) group_left (tenant_id) y")
    assert found.metrics == {"x", "y"}
    assert found.grouping_labels == {"instance", "camera_id", "tenant_id"}


def test_braces_inside_matcher_strings_and_grafana_variables_do_not_confuse_it() -> None:
    found = references('z{route="/api/v1/cameras/{camera_id}", tenant_id="$tenant_id", camera_id=~"${camera_id:regex}"}')
    assert found.selectors == (Selector("z", frozenset({"route", "tenant_id", "camera_id"})),)
    assert metric_names("topk(5, ${metric} or w)") == {"w"}


def test_an_unknown_function_is_an_error() -> None:
    with pytest.raises(ValueError, match="rat"):
        metric_names("rat(a_total[5m])")
