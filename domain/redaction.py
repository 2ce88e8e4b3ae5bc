"""Secrets out of text that leaves the process: error details, status, events, log lines.

FFmpeg puts the URL it opened into its error text, and a camera's URL carries
its user and password (``rtsp://user:pass@host/...``); that text would reach a
camera's status, its status history, the city's event stream and the logs.
So the userinfo of every URL in a text becomes ``***``, and so does any known
secret itself (as given and percent-encoded), wherever it appears. Media
tokens travel in query strings (``?token=``) for players that cannot send
headers: a URL written to a log keeps its path and loses those values.
"""

from __future__ import annotations

import re
from urllib.parse import quote

MASK = "***"

# scheme://userinfo@ — userinfo is whatever precedes the last '@' before the host: a password may hold '/', ':',
# '?' or '#' unencoded (domain/stream_url.py parses it the same way), so it runs to the last '@' before whitespace or
# a quote. A path holding an '@' is masked with it: masking too much is the safe side.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s'\"<>]*)@")

# Query parameters that carry a credential: media tokens, access tokens, signatures.
TOKEN_PARAMS = ("token", "media_token", "access_token", "refresh_token", "ticket", "signature", "sig", "secret",
                "password")
_QUERY_TOKEN = re.compile(r"(?P<key>[?&;](?:" + "|".join(TOKEN_PARAMS) + r")=)(?P<value>[^&#\s'\"]*)", re.IGNORECASE)

_MIN_SECRET_LENGTH = 3  # shorter "secrets" would mask ordinary words and digits


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with the userinfo of every URL in it and each of ``secrets`` (raw or percent-encoded) as ``***``."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    for secret in secrets:
        if not secret or len(secret) < _MIN_SECRET_LENGTH:
            continue
        for form in dict.fromkeys((secret, quote(secret, safe=""), quote(secret))):
            text = text.replace(form, MASK)
    return text


def redact_query_tokens(url: str) -> str:
    """``url`` (or a path with a query) with the values of credential-bearing query parameters as ``***``."""
    return _QUERY_TOKEN.sub(lambda m: f"{m['key']}{MASK}", url)
