"""Stream URL builders for the camera vendors cities buy most (Intelbras, Hikvision).

Operators know a camera by IP, channel and main/sub stream, not by the vendor's
URL scheme; these builders turn the former into the latter.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import InvalidCameraUrl
from domain.stream_url import StreamUrl, parse_stream_url


class Vendor(StrEnum):
    GENERIC = "generic"
    INTELBRAS = "intelbras"
    HIKVISION = "hikvision"


class StreamKind(StrEnum):
    MAIN = "main"
    SUB = "sub"


def build_stream_url(
    vendor: Vendor,
    host: str,
    *,
    channel: int = 1,
    stream: StreamKind = StreamKind.MAIN,
    port: int = 554,
    username: str | None = None,
    password: str | None = None,
) -> StreamUrl:
    """The RTSP URL of ``vendor``'s camera at ``host`` for a channel and stream kind."""
    if not 1 <= channel <= 256:
        raise InvalidCameraUrl("channel must be between 1 and 256")
    sub = 0 if stream == StreamKind.MAIN else 1
    if vendor == Vendor.INTELBRAS:
        path = f"/cam/realmonitor?channel={channel}&subtype={sub}"
    elif vendor == Vendor.HIKVISION:
        path = f"/Streaming/Channels/{channel}0{sub + 1}"
    else:
        raise InvalidCameraUrl(f"no URL builder for vendor {vendor!r}: give the rtsp_url")
    hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return parse_stream_url(f"rtsp://{hostport}{path}", username, password)


def build_substream_url(vendor: Vendor, host: str, *, channel: int = 1, port: int = 554) -> StreamUrl | None:
    """The sub-stream URL (no credentials: it opens with the main stream's login) of a known vendor's camera,
    None for a vendor without a builder."""
    if vendor not in (Vendor.INTELBRAS, Vendor.HIKVISION):
        return None
    return build_stream_url(vendor, host, channel=channel, stream=StreamKind.SUB, port=port)
