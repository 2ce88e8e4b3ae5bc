"""Response bodies from the domain's records: a record's fields as a JSON object, in the order they are declared.

Shallow on purpose (``dataclasses.asdict`` deep-copies); FastAPI encodes the
values (UUIDs, instants, enums) the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any


def body(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def bodies(records: Iterable[Any]) -> list[dict[str, Any]]:
    return [body(r) for r in records]
