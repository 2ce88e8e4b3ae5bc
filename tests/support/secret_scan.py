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


TEST_CLIENT_LOGGERS = ("websockets", "httpx", "httpcore")  # the test's own clients, logging the URLs they open


def record_texts(records: Iterable[logging.LogRecord]) -> list[str]:
    """Captured records (``caplog.records``) as the text a handler would write: message, arguments, traceback.

    Records of the test's own HTTP and WebSocket clients are left out: they are not the system's lines.
    """
    formatter = logging.Formatter()
    texts = []
    for record in records:
        if record.name.split(".")[0] in TEST_CLIENT_LOGGERS:
            continue
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
    secrets = list(secrets)
    found = {i: leaks([text], secrets) for i, text in enumerate(texts)}
    where = {i: (names, _around(texts[i], secrets)) for i, names in found.items() if names}
    assert not where, f"secrets in logs or answers (text #: what, where): {where}"


def _around(text: str, secrets: list[str]) -> str:
    """Where the first leak sits, the secret itself masked (a failing test must not print it either)."""
    masked = JWT.sub("<JWT>", text)
    for secret in secrets:
        masked = masked.replace(secret, "<SECRET>")
    at = min(i for i in (masked.find("<JWT>"), masked.find("<SECRET>")) if i >= 0) if "<" in masked else 0
    return masked[max(0, at - 120):at + 60]


def ray_log_dir() -> Path:
    """The log directory of the running local Ray session (actors' and Serve replicas' files)."""
    import ray._private.worker as worker

    node = worker._global_node
    assert node is not None, "Ray is not initialised"
    return Path(node.get_session_dir_path()) / "logs"
