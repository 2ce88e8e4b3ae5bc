"""The client address of the API request being served, for the audit rows it writes (``audit_log.source``).

Set once per request by the request middleware (serve/request_context.py), which knows the deployment's
trusted proxies (domain/forwarded.py), and read by ``storage.audit.record``: every row a request writes names
where the request came from — footage looks, logins, changes — without each route passing it along. Outside a
request (actors, the CLI) it is unset and rows have no source.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_SOURCE: ContextVar[str | None] = ContextVar("gtvision_request_source", default=None)


def current_source() -> str | None:
    return _SOURCE.get()


@contextmanager
def request_source(address: str | None) -> Iterator[None]:
    """``address`` is the current request's client for the duration of the block."""
    token = _SOURCE.set(address)
    try:
        yield
    finally:
        _SOURCE.reset(token)
