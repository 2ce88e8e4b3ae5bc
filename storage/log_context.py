"""What a log line is about: the request, user, city and camera the code is working for.

Four context variables, set where that is known (the API's request middleware,
an actor call that carries the API's request id, a camera supervisor's tasks
and ingest thread) and stamped onto every log record when it is created, so
any formatter can write them: ours (storage/json_logs.py), and Ray's JSON
formatter, which writes every attribute a record carries beyond the standard ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

FIELDS = ("request_id", "user", "tenant_id", "camera_id")

_VARS: dict[str, ContextVar[str | None]] = {name: ContextVar(f"gtvision_log_{name}", default=None) for name in FIELDS}


def context_fields() -> dict[str, str]:
    """The fields set in the current context (unset ones are left out, not written as null)."""
    return {name: value for name, var in _VARS.items() if (value := var.get()) is not None}


def current_request_id() -> str | None:
    return _VARS["request_id"].get()


def bind(**fields: object) -> None:
    """Set fields for the rest of the current context: a thread's or task's whole life. None leaves a field as is."""
    for name, value in fields.items():
        if value is not None:
            _VARS[name].set(str(value))


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Set fields (None leaves a field as is) for the duration of the block, then put back what was there."""
    tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []
    for name, value in fields.items():
        if value is not None:
            var = _VARS[name]
            tokens.append((var, var.set(str(value))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


@contextmanager
def fresh_log_context(**fields: object) -> Iterator[None]:
    """A context of its own for the block (one API request): the fields given, the others unset; whatever the
    block sets meanwhile (``bind``, e.g. the caller once authenticated) is undone at its end."""
    tokens = [(var, var.set(None if (value := fields.get(name)) is None else str(value))) for name, var in _VARS.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def stamp_log_records() -> None:
    """Make every log record created in this process carry the context's fields (once per process)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_log_context", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        for name, value in context_fields().items():
            setattr(record, name, value)
        return record

    factory.stamps_log_context = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
