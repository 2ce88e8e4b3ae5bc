"""Log lines as JSON, one per line: what operators grep, ship and alert on.

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``,
the context fields that are known (``request_id``, ``user``, ``tenant_id``,
``camera_id``: storage/log_context.py) and ``exc`` for a traceback. Messages
and tracebacks pass through domain/redaction.py on the way out: a URL's
userinfo and credential-bearing query values never reach a file, whatever
code logged them. Files rotate (64 MiB × 5) so a chatty failure cannot fill
the disk that holds the spool.

``gtvision up`` writes its own process's lines to ``VAR_DIR/logs/gtvision.jsonl``;
each Ray actor and Serve replica writes them to its stderr, which Ray keeps
in the worker's log file (docs/logging.md).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from domain.redaction import redact, redact_query_tokens
from storage.log_context import FIELDS, stamp_log_records

LOG_FILE = "gtvision.jsonl"
_MAX_BYTES = 64 * 1024 * 1024
_BACKUPS = 4


def _clean(text: str) -> str:
    return redact(redact_query_tokens(text))


class JsonLineFormatter(logging.Formatter):
    """A record as one JSON object on one line, secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _clean(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = _clean(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)


def _install(handler: logging.Handler, level: int) -> None:
    """``handler`` becomes the root logger's only one (replacing basicConfig's or Ray's), in JSON."""
    stamp_log_records()
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # library warnings become lines in the file, not text on the terminal


def log_json_to_file(log_dir: Path, level: int = logging.INFO) -> Path:
    """This process's log lines go to ``log_dir/gtvision.jsonl`` (rotated), and only there; its path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE
    _install(logging.handlers.RotatingFileHandler(path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS,
                                                  encoding="utf-8"), level)
    return path


def log_json_to_stderr(level: int = logging.INFO) -> None:
    """For a Ray worker (actor or Serve replica): lines to the process's real stderr, Ray's log file for it.

    Serve swaps ``sys.stderr`` in a replica for a writer into its own logger; the original is the file.
    """
    stream: TextIO = sys.__stderr__ or sys.stderr
    _install(logging.StreamHandler(stream), level)


def adopt_loggers(*names: str) -> None:
    """Third-party loggers that print to the terminal themselves (Ray's, Serve's) write through ours instead."""
    for name in names:
        logger = logging.getLogger(name)
        for old in logger.handlers[:]:
            logger.removeHandler(old)
        logger.propagate = True
