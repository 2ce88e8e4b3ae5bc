"""Secrets out of error text and URLs (domain/redaction.py): table cases."""

from __future__ import annotations

import pytest

from domain.redaction import redact, redact_query_tokens

REDACT_CASES = [
    # (text, secrets, expected)
    ("Server returned 401 Unauthorized: 'rtsp://alice:s3cret@10.0.0.5:554/cam'", (),
     "Server returned 401 Unauthorized: 'rtsp://***@10.0.0.5:554/cam'"),
    ("rtsp://alice@10.0.0.5/cam", (), "rtsp://***@10.0.0.5/cam"),
    ("no url here, just words", (), "no url here, just words"),
    ("rtsp://10.0.0.5/cam has no userinfo", (), "rtsp://10.0.0.5/cam has no userinfo"),
    ("two: rtsp://a:b@h1/x and rtsps://c:d@h2/y", (), "two: rtsp://***@h1/x and rtsps://***@h2/y"),
    # a password percent-encoded into the URL, and the same password echoed decoded elsewhere
    ("open rtsp://admin:p%40ss%2Fw%3Ard@cam.local/ch1 failed; auth p@ss/w:rd refused", ("p@ss/w:rd",),
     "open rtsp://***@cam.local/ch1 failed; auth *** refused"),
    # the percent-encoded password alone, outside a URL
    ("retrying with p%40ss%2Fw%3Ard", ("p@ss/w:rd",), "retrying with ***"),
    # an unencoded '@' in the password: the userinfo runs to the last '@'
    ("rtsp://admin:p@ss@cam.local/ch1 timed out", ("p@ss",), "rtsp://***@cam.local/ch1 timed out"),
    ("Connection to tcp://127.0.0.1:8554?timeout=0 failed: Connection refused", (),
     "Connection to tcp://127.0.0.1:8554?timeout=0 failed: Connection refused"),
    ("http://user:pw@host:9000/bucket?x=1", (None, ""), "http://***@host:9000/bucket?x=1"),
    ("the word hunter2 appears twice: hunter2", ("hunter2",), "the word *** appears twice: ***"),
    ("ab is too short to be taken for a secret: ab", ("ab",), "ab is too short to be taken for a secret: ab"),
    ("s3://KEY:SECRET@127.0.0.1:9000/bucket", (), "s3://***@127.0.0.1:9000/bucket"),
]


@pytest.mark.parametrize(("text", "secrets", "expected"), REDACT_CASES)
def test_redact(text: str, secrets: tuple[str | None, ...], expected: str) -> None:
    assert redact(text, *secrets) == expected


QUERY_CASES = [
    ("/api/v1/cameras/c1/live.m3u8?token=eyJa.eyJb.sig", "/api/v1/cameras/c1/live.m3u8?token=***"),
    ("/api/v1/events?tenant_id=t1&token=abc&last_id=1-0", "/api/v1/events?tenant_id=t1&token=***&last_id=1-0"),
    ("/api/v1/events?ticket=Zm9v_-x&last_id=1-0", "/api/v1/events?ticket=***&last_id=1-0"),
    ("/x?media_token=abc#frag", "/x?media_token=***#frag"),
    ("/x?TOKEN=abc", "/x?TOKEN=***"),
    ("/x?tokens=keep&start=2026-01-01", "/x?tokens=keep&start=2026-01-01"),
    ("/x?start=1&end=2", "/x?start=1&end=2"),
]


@pytest.mark.parametrize(("url", "expected"), QUERY_CASES)
def test_redact_query_tokens(url: str, expected: str) -> None:
    assert redact_query_tokens(url) == expected
