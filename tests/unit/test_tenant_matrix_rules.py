"""The matrix's own rules: an input it cannot classify is an error, and a 2xx is judged by what it shows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tenant_matrix import LEAK, UNEXPECTED, Probe, Unclassified, World, judge, requests_for

WORLD = World("city-a", "city-b", {"camera": "cam-b", "tenant": "city-b", "number": "0"}, "media-a",
              ["city-b", "cam-b"])
SPEC: dict[str, Any] = {"components": {"schemas": {}}}


def _operation(*parameters: tuple[str, str], body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"parameters": [
        {"name": name, "in": where, "required": True, "schema": {"type": "string", "format": "uuid"}}
        for name, where in parameters]}
    if body is not None:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return operation


def test_a_path_parameter_the_matrix_does_not_know_fails() -> None:
    with pytest.raises(Unclassified, match="widget_id"):
        list(requests_for(SPEC, WORLD, "/api/v1/widgets/{widget_id}", "get", _operation(("widget_id", "path")),
                          ["manager"]))


def test_an_id_like_body_field_the_matrix_does_not_know_fails() -> None:
    body = {"type": "object", "properties": {"widget_id": {"type": "string", "format": "uuid"}}}
    with pytest.raises(Unclassified, match="widget_id"):
        list(requests_for(SPEC, WORLD, "/api/v1/widgets", "post", _operation(body=body), ["manager"]))


def test_every_id_names_city_b_and_both_tenant_variants_are_sent() -> None:
    operation = _operation(("camera_id", "path"), ("tenant_id", "query"))
    probes = list(requests_for(SPEC, WORLD, "/api/v1/cameras/{camera_id}/x", "get", operation, ["manager"]))
    assert [p.url for p in probes] == ["/api/v1/cameras/cam-b/x"] * 2
    assert [p.params["tenant_id"] for p in probes] == ["city-b", "city-a"]
    assert all(p.owned_in_path for p in probes)


def _probe(owned: bool) -> Probe:
    return Probe("GET", "/p", "/p", {}, None, "manager", "b", owned)


def test_judging_answers() -> None:
    assert judge(_probe(owned=True), 404, "", WORLD) is None
    assert judge(_probe(owned=True), 200, "{}", WORLD) == (LEAK, "200 for B's thing in the path")
    assert judge(_probe(owned=False), 200, '[{"id": "own"}]', WORLD) is None
    assert judge(_probe(owned=False), 200, '[{"id": "cam-b"}]', WORLD)[0] == LEAK  # type: ignore[index]
    assert judge(_probe(owned=False), 500, "boom", WORLD)[0] == UNEXPECTED  # type: ignore[index]
