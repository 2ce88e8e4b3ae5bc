"""The Grafana dashboards and their provisioning: well-formed, templated where they should be, and naming only
metrics and labels of the catalogue (a renamed metric would otherwise leave a panel silently empty)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.metric_catalogue import COMMON_LABELS, LABELS, catalogue_name
from tests.support.promql_names import references

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "ops" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE_UID = "gtvision-prometheus"
PANEL_TYPES = {"stat", "timeseries", "table", "bargauge", "gauge"}
# A dashboard per view the operations issue asks for, and the variables each is templated on.
EXPECTED = {"fleet": set(), "city": {"tenant_id"}, "camera": {"tenant_id", "camera_id"}, "lpr": set(), "api": set()}
GRAFANA_VARIABLES = {"__rate_interval", "__interval", "__range"}
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")
_LABEL_VALUES = re.compile(r"^label_values\((?:(?P<expr>.+),\s*)?(?P<label>\w+)\)$")


def _load(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text())
    return board


def _exprs(board: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def _check_names(where: str, expr: str) -> None:
    found = references(expr)
    assert found.selectors, f"{where}: {expr!r} selects nothing"
    for selector in found.selectors:
        metric = catalogue_name(selector.metric or "")
        assert metric is not None, f"{where}: {selector.metric!r} is not in the metric catalogue ({expr!r})"
        stray = selector.labels - LABELS[metric] - COMMON_LABELS
        assert not stray, f"{where}: {metric} has no label {sorted(stray)} ({expr!r})"
    known = set().union(*LABELS.values()) | COMMON_LABELS
    assert found.grouping_labels <= known, f"{where}: unknown labels in {expr!r}"


def test_there_is_one_dashboard_per_view() -> None:
    assert {path.stem for path in DASHBOARDS} == set(EXPECTED)
    uids = [_load(path)["uid"] for path in DASHBOARDS]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("path", DASHBOARDS, ids=[path.stem for path in DASHBOARDS])
def test_a_dashboard_has_the_structure_grafana_loads(path: Path) -> None:
    board = _load(path)
    assert board["title"].startswith("GT-Vision") and board["uid"] == f"gtvision-{path.stem}"
    assert isinstance(board["schemaVersion"], int) and "gtvision" in board["tags"]
    assert board["panels"], "no panels"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids), "panel ids repeat"
    for panel in board["panels"]:
        assert panel["type"] in PANEL_TYPES and panel["title"], panel
        position = panel["gridPos"]
        assert {"x", "y", "w", "h"} <= position.keys() and position["x"] + position["w"] <= 24, panel["title"]
        assert panel["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
        assert panel["targets"], panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID and target["expr"].strip(), panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=[path.stem for path in DASHBOARDS])
def test_a_dashboard_is_templated_on_its_variables_and_uses_no_other(path: Path) -> None:
    board = _load(path)
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert set(variables) == EXPECTED[path.stem]
    for name, variable in variables.items():
        assert variable["type"] == "query" and variable["datasource"]["uid"] == DATASOURCE_UID, name
        query = variable["query"]["query"]
        match = _LABEL_VALUES.match(query)
        assert match and match["label"] == name, f"{name}: {query!r} is not label_values(…, {name})"
        _check_names(f"{path.stem} variable {name}", match["expr"])
        assert variable["definition"] == query
    used = {a or b for expr in _exprs(board) for a, b in _VARIABLE.findall(expr)}
    used |= {a or b for v in variables.values() for a, b in _VARIABLE.findall(v["query"]["query"])}
    assert used - GRAFANA_VARIABLES <= set(variables), f"undefined variables {used - GRAFANA_VARIABLES - set(variables)}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=[path.stem for path in DASHBOARDS])
def test_a_dashboard_names_only_catalogued_metrics_and_labels(path: Path) -> None:
    for expr in _exprs(_load(path)):
        _check_names(path.stem, expr)


def test_the_camera_dashboard_filters_every_query_on_the_camera() -> None:
    for expr in _exprs(_load(GRAFANA / "dashboards" / "camera.json")):
        for selector in references(expr).selectors:
            assert {"tenant_id", "camera_id"} <= selector.labels, expr


def test_the_provisioning_names_the_datasource_the_dashboards_use() -> None:
    [datasource] = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "gtvision.yml").read_text())["datasources"]
    assert datasource["uid"] == DATASOURCE_UID and datasource["type"] == "prometheus"
    [provider] = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "gtvision.yml").read_text())["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
