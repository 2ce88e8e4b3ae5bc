"""The Prometheus alerting rules and sample config: valid for promtool, unit-tested, and naming only real metrics.

promtool comes from Debian's `prometheus` package, which `scripts/setup --dev` installs: a missing promtool
fails these tests rather than skipping them, so the rules can never go unchecked quietly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.metric_catalogue import COMMON_LABELS, LABELS, PROMETHEUS_SERIES, catalogue_name
from tests.support.promql_names import references

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "ops" / "prometheus"
RULES = PROMETHEUS_DIR / "rules.yml"
RULES_TEST = PROMETHEUS_DIR / "rules_test.yml"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
OPERATIONS = ROOT / "docs" / "operations.md"
SEVERITIES = {"warning", "critical"}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: run scripts/setup --dev (it installs Debian's prometheus package)")
    return subprocess.run([promtool, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=60,
                          check=False)


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_promtool_accepts_the_rules() -> None:
    result = _promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_sample_config_and_the_rule_files_it_names() -> None:
    result = _promtool("check", "config", CONFIG.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_pass_their_unit_tests() -> None:
    result = _promtool("test", "rules", RULES_TEST.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sample_config_scrapes_the_metrics_endpoint_and_loads_the_rules() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert config["rule_files"] == [RULES.name]
    [job] = config["scrape_configs"]
    assert job["job_name"] == "gtvision" and job["metrics_path"] == "/api/v1/metrics"
    assert job["static_configs"] == [{"targets": ["127.0.0.1:8000"]}]


def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook_section() -> None:
    headings = {_anchor(line.lstrip("#")) for line in OPERATIONS.read_text().splitlines() if line.startswith("#")}
    alerts = _alerts()
    assert len(alerts) >= 10
    for alert in alerts:
        name = alert["alert"]
        assert alert["labels"]["severity"] in SEVERITIES, name
        annotations = alert["annotations"]
        assert annotations["summary"] and annotations["description"], name
        page, _, anchor = annotations["runbook"].partition("#")
        assert page == "docs/operations.md" and anchor == name.lower(), name
        assert anchor in headings, f"{name}: no section '{anchor}' in docs/operations.md"


def test_every_alert_has_a_firing_and_a_silent_case_in_the_unit_tests() -> None:
    cases = [case for test in yaml.safe_load(RULES_TEST.read_text())["tests"] for case in test["alert_rule_test"]]
    for name in (alert["alert"] for alert in _alerts()):
        outcomes = [bool(case["exp_alerts"]) for case in cases if case["alertname"] == name]
        assert True in outcomes, f"{name} is never tested firing"
        assert False in outcomes, f"{name} is never tested not firing"


def test_the_rules_name_only_catalogued_metrics_and_their_labels() -> None:
    for alert in _alerts():
        found = references(alert["expr"])
        assert found.selectors, alert["alert"]
        for selector in found.selectors:
            assert selector.metric is not None, alert["alert"]
            if selector.metric in PROMETHEUS_SERIES:
                continue
            metric = catalogue_name(selector.metric)
            assert metric is not None, f"{alert['alert']}: {selector.metric} is not in the metric catalogue"
            assert selector.labels <= LABELS[metric] | COMMON_LABELS, (alert["alert"], selector)
        known_labels = set().union(*LABELS.values()) | COMMON_LABELS
        assert found.grouping_labels <= known_labels, alert["alert"]
