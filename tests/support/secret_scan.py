"""Scan what the system wrote (captured log records, log files, API answers, events) for secrets.

The secrets a test knows (a camera's password, the admin's password, the
deployment secret, LPR HMAC secrets) are looked for as given and percent-encoded;
any JWT (``eyJ…``) is a leak whatever its key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
LOG_SUFFIXES = (".jsonl", ".log", ".err", ".out")


def record_texts(records: Iterable[logging.LogRecord]) -> list[str]:
    """Captured records (``caplog.records``) as the text a handler would write: message, arguments, traceback."""
    formatter = logging.Formatter()
    texts = []
    for record in records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(formatter.formatException(record.exc_info))
        texts.append(repr(record.__dict__))
    return texts


def log_file_texts(*places: Path, since: float = 0.0) -> list[str]:
    """The text of every log file at or under ``places`` written to since ``since`` (a ``time.time()``)."""
    texts = []
    for place in places:
        files = [place] if place.is_file() else [p for p in place.rglob("*") if p.is_file()]
        for path in files:
            if path.name.endswith(LOG_SUFFIXES) or ".jsonl." in path.name:
                try:
                    if path.stat().st_mtime >= since:
                        texts.append(path.read_text(errors="replace"))
                except OSError:  # rotated away meanwhile
                    continue
    return texts


def leaks(texts: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """What was found: ``secret #i`` for a known secret (never the secret itself), ``JWT`` for a token."""
    forms = {}
    for i, secret in enumerate(secrets):
        for form in (secret, quote(secret, safe=""), quote(secret)):
            forms[form] = f"secret #{i}"
    found: list[str] = []
    for text in texts:
        found += [name for form, name in forms.items() if form in text]
        found += ["JWT" for _ in JWT.finditer(text)]
    return sorted(set(found))


def assert_no_secrets(texts: Iterable[str], secrets: Iterable[str]) -> None:
    texts = list(texts)
    assert texts, "nothing to scan"
    found = leaks(texts, secrets)
    assert not found, f"secrets in logs or answers: {found}"
