"""Schemathesis over the live OpenAPI: every operation, as admin, manager and viewer, never answers ≥ 500.

Each generated case (valid inputs, then invalid ones) is sent once per role, with a bounded number of examples
per operation and a derandomized generator, so a run is the same few minutes every time. On one backend
("dir"), like the matrix: what is fuzzed is the API's input handling, not the store under it. The counts go
to benchmarks/results/security_fuzz.json.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy

from tests.support.system import ADMIN_PASSWORD, System, new_city

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "security_fuzz.json"
EXAMPLES_PER_MODE = 6  # per operation and generation mode (valid, invalid); each one is sent as every role
MIN_EXAMPLES = 1000
BUDGET_S = 600.0

# Operations not fuzzed, and why (everything else in the OpenAPI is).
SKIPPED: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/retention/run"): "runs a whole retention pass and waits for it (minutes); purges the fixture's footage",
}


def _fuzzed_body(method: str, path: str, case: schemathesis.Case) -> None:
    """Cameras are created disabled: a fuzzed RTSP address must never be dialled (only 127.0.0.0/8 is allowed)."""
    if (method, path) == ("POST", "/api/v1/cameras") and isinstance(case.body, dict):
        case.body["enabled"] = False


def _run_examples(strategy: SearchStrategy[schemathesis.Case], send: Callable[[schemathesis.Case], None]) -> None:
    """``send`` a bounded, derandomized set of cases from ``strategy`` (no shrinking: failures are collected)."""
    @settings(max_examples=EXAMPLES_PER_MODE, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def each(case: schemathesis.Case) -> None:
        send(case)

    each()


@pytest.mark.parametrize("system", ["dir"], indirect=True)
def test_no_generated_request_gets_a_server_error(system: System) -> None:
    admin = system.login("admin", ADMIN_PASSWORD)
    _, manager, viewer = new_city(system, admin)  # a throwaway city: what the fuzzer creates lands there
    roles = {"admin": admin, "manager": manager, "viewer": viewer}
    spec = httpx.get(f"{system.settings.public_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(spec)
    base_url = system.settings.public_url
    sent = 0
    server_errors: list[str] = []
    by_status: dict[int, int] = {}
    started = time.monotonic()

    def send(case: schemathesis.Case) -> None:
        nonlocal sent
        method, path = case.operation.method.upper(), case.operation.path
        _fuzzed_body(method, path, case)
        for role, headers in roles.items():
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            sent += 1
            by_status[response.status_code] = by_status.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                server_errors.append(f"{role}: {response.status_code} {response.text[:200]}\n"
                                     f"    {case.as_curl_command(headers=headers)}")

    for result in schema.get_all_operations():
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        if (method, path) in SKIPPED:
            continue
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                _run_examples(operation.as_strategy(generation_mode=mode), send)
            except Unsatisfiable:
                pass  # no invalid input exists for this operation (e.g. no parameters at all)
        assert time.monotonic() - started < BUDGET_S, f"fuzzing took over {BUDGET_S:.0f} s"
    report: dict[str, Any] = {"fuzz_examples": sent, "fuzz_5xx": len(server_errors), "backend": "dir",
                              "by_status": dict(sorted(by_status.items())), "skipped": [" ".join(k) for k in SKIPPED],
                              "seconds": round(time.monotonic() - started, 1)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    assert not server_errors, f"{len(server_errors)} server errors:\n" + "\n".join(server_errors[:30])
    assert sent >= MIN_EXAMPLES
