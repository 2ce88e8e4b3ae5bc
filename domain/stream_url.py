"""Camera stream URLs: validation and keeping credentials apart from the URL users see.

A camera's RTSP URL often embeds a user and password (``rtsp://u:p@host/...``).
Users must never see the password, and passwords contain characters (``@ : / #``)
that break naive URL parsing. So the URL is stored *without* credentials, the
credentials are stored apart, and they are joined (percent-encoded) only when the
ingest opens the stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from domain.errors import InvalidCameraUrl

STREAM_SCHEMES = ("rtsp", "rtsps", "test")
_MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class StreamUrl:
    """A validated stream URL with the credentials split off."""

    public_url: str
    username: str | None = None
    password: str | None = None

    def with_credentials(self) -> str:
        """The URL the ingest opens: credentials percent-encoded into the netloc."""
        if self.username is None:
            return self.public_url
        parts = urlsplit(self.public_url)
        userinfo = quote(self.username, safe="")
        if self.password is not None:
            userinfo += ":" + quote(self.password, safe="")
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def parse_stream_url(
    url: str, username: str | None = None, password: str | None = None
) -> StreamUrl:
    """Validate ``url`` and split its credentials off.

    Credentials may be embedded (percent-encoded) in ``url`` or given apart;
    given apart they win. Raises InvalidCameraUrl with a message that says what
    is wrong.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidCameraUrl("stream URL is empty")
    if len(url) > _MAX_URL_LENGTH:
        raise InvalidCameraUrl(f"stream URL is longer than {_MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InvalidCameraUrl("stream URL contains whitespace or control characters")
    # An unencoded '@' or '/' in a password makes the authority ambiguous; the
    # last '@' before the path is the one that ends the userinfo (RFC 3986).
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise InvalidCameraUrl("stream URL must look like rtsp://host[:port]/path")
    scheme = scheme.lower()
    if scheme not in STREAM_SCHEMES:
        raise InvalidCameraUrl(
            f"unsupported scheme {scheme!r}: use one of {', '.join(STREAM_SCHEMES)}"
        )
    authority, _, path_and_more = _split_authority(rest)
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        userinfo, hostport = "", authority
    try:
        parts = urlsplit(f"{scheme}://{hostport}{path_and_more}")
        port = parts.port
    except ValueError as exc:
        raise InvalidCameraUrl(f"stream URL has a bad host or port: {exc}") from None
    if not parts.hostname:
        raise InvalidCameraUrl("stream URL has no host")
    if port is not None and not 1 <= port <= 65535:
        raise InvalidCameraUrl("stream URL port must be between 1 and 65535")
    embedded_user: str | None = None
    embedded_password: str | None = None
    if at:
        user_part, colon, password_part = userinfo.partition(":")
        embedded_user = unquote(user_part)
        embedded_password = unquote(password_part) if colon else None
    if username is not None:
        embedded_user, embedded_password = username, password
    public = urlunsplit((scheme, hostport, parts.path, parts.query, ""))
    return StreamUrl(public, embedded_user or None, embedded_password)


def parse_substream_url(url: str, main: StreamUrl) -> StreamUrl:
    """Validate a camera's sub-stream URL like its main one and keep only its public form: the sub-stream opens
    with the main stream's login (one camera, one login), so no second password is stored. Credentials embedded in
    ``url`` are accepted only if they are the main stream's; anything else is refused with a message."""
    sub = parse_stream_url(url)
    if sub.username is not None and (sub.username, sub.password) != (main.username, main.password):
        raise InvalidCameraUrl("the sub-stream opens with the camera's login: give it as username/password,"
                               " not a different one in substream_url")
    return StreamUrl(sub.public_url)


def with_login_of(sub: StreamUrl, main: StreamUrl) -> StreamUrl:
    """The sub-stream URL with the main stream's credentials, as the ingest opens it."""
    return StreamUrl(sub.public_url, main.username, main.password)


STREAM_FIELDS = ("rtsp_url", "username", "password")  # what a camera update may change of its stream


def patched_stream(current: StreamUrl, changes: Mapping[str, str | None]) -> StreamUrl:
    """``current`` with what ``changes`` gives of ``STREAM_FIELDS`` (a field given as None clears it; a field
    not given keeps its value), validated again as a whole: a new URL may carry its own credentials."""
    return parse_stream_url(changes.get("rtsp_url", current.public_url) or "",
                            changes.get("username", current.username), changes.get("password", current.password))


def _split_authority(rest: str) -> tuple[str, str, str]:
    """Split ``rest`` (after ``scheme://``) into authority and the path/query.

    The authority ends at the first '/', '?' or '#' *after* the last '@' that
    precedes the path, so that a password holding '/' or '?' still parses.
    """
    end = len(rest)
    at = -1
    for i, ch in enumerate(rest):
        if ch == "@":
            at = i
    search_from = at + 1 if at >= 0 else 0
    for i in range(search_from, len(rest)):
        if rest[i] in "/?#":
            end = i
            break
    return rest[:end], "", rest[end:]
