"""The security figures in one file: the cross-city matrix and the fuzzing (written by their tests in the suite)
and the login-flood benchmark, as ``benchmarks/results/security.json``.

    .venv/bin/python -m benchmarks.security --out benchmarks/results/security.json

Run it after ``scripts/test`` (which writes security_matrix.json and security_fuzz.json) and
``python -m benchmarks.login_flood --out benchmarks/results/login_flood.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.report import base_parser, publish

RESULTS = Path(__file__).parent / "results"


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESULTS / f"{name}.json").read_text())
    return data


def main() -> None:
    args = base_parser(__doc__, warmup_s=0).parse_args()
    matrix, fuzz, flood = _read("security_matrix"), _read("security_fuzz"), _read("login_flood")
    publish("security", {
        "matrix_checks": matrix["matrix_checks"],
        "matrix_leaks": matrix["matrix_leaks"],
        "fuzz_examples": fuzz["fuzz_examples"],
        "fuzz_5xx": fuzz["fuzz_5xx"],
        "login_flood_live_p99_ratio": flood["login_flood_live_p99_ratio"],
        "login_flood_webhook_p99_ratio": flood["login_flood_webhook_p99_ratio"],
        "goals": {"matrix_checks": ">= 150", "matrix_leaks": 0, "fuzz_examples": ">= 1000", "fuzz_5xx": 0,
                  "login_flood_*_p99_ratio": "<= 1.2"},
        "sources": {"matrix": "tests/integration/test_tenant_matrix.py", "fuzz": "tests/integration/test_api_fuzz.py",
                    "login_flood": "benchmarks/login_flood.py"},
        "matrix_operations": matrix.get("matrix_operations"), "fuzz_seconds": fuzz.get("seconds"),
        "login_flood_when": flood.get("when"),
    }, args.out)


if __name__ == "__main__":
    main()
