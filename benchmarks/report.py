"""The common frame of every benchmark's JSON: what ran, where, when; written and printed."""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    model = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"cores": os.cpu_count(), "model": model, "platform": platform.platform(),
            "python": platform.python_version()}


def base_parser(description: str | None, warmup_s: float) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warmup", type=float, default=warmup_s, help="seconds before measuring")
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    return parser


def publish(name: str, fields: dict[str, Any], out: Path | None) -> dict[str, Any]:
    """Print the report (and write it to ``out``); return it."""
    report = {"benchmark": name, "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
              **fields}
    text = json.dumps(report, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n")
    return report


def merge_into(path: Path, fields: dict[str, Any]) -> None:
    """Update ``fields`` in the report at ``path``, keeping the rest: one result file gathers runs made apart
    (cluster.json: the node-loss run, the API load run, the sustained live run)."""
    report: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**report, **fields}, indent=2) + "\n")
