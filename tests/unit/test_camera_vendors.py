import pytest

from domain.camera_vendors import StreamKind, Vendor, build_stream_url, build_substream_url
from domain.errors import InvalidCameraUrl


def test_intelbras_main_and_sub_stream() -> None:
    main = build_stream_url(Vendor.INTELBRAS, "10.1.1.2", channel=3, username="admin", password="a@b")
    assert main.public_url == "rtsp://10.1.1.2:554/cam/realmonitor?channel=3&subtype=0"
    assert main.with_credentials() == "rtsp://admin:a%40b@10.1.1.2:554/cam/realmonitor?channel=3&subtype=0"
    sub = build_stream_url(Vendor.INTELBRAS, "10.1.1.2", channel=3, stream=StreamKind.SUB)
    assert sub.public_url.endswith("channel=3&subtype=1")


def test_hikvision_channel_numbering() -> None:
    assert build_stream_url(Vendor.HIKVISION, "cam", channel=1).public_url == "rtsp://cam:554/Streaming/Channels/101"
    assert build_stream_url(Vendor.HIKVISION, "cam", channel=2, stream=StreamKind.SUB, port=8554).public_url == (
        "rtsp://cam:8554/Streaming/Channels/202"
    )


def test_ipv6_host_is_bracketed() -> None:
    assert build_stream_url(Vendor.HIKVISION, "fe80::1").public_url == "rtsp://[fe80::1]:554/Streaming/Channels/101"


def test_generic_vendor_and_bad_channel_are_refused() -> None:
    with pytest.raises(InvalidCameraUrl, match="rtsp_url"):
        build_stream_url(Vendor.GENERIC, "cam")
    with pytest.raises(InvalidCameraUrl, match="channel"):
        build_stream_url(Vendor.HIKVISION, "cam", channel=0)


def test_the_sub_stream_builders_give_the_vendors_documented_paths_without_credentials() -> None:
    intelbras = build_substream_url(Vendor.INTELBRAS, "10.1.1.2", channel=3)
    assert intelbras is not None
    assert intelbras.public_url == "rtsp://10.1.1.2:554/cam/realmonitor?channel=3&subtype=1"
    hikvision = build_substream_url(Vendor.HIKVISION, "cam", port=8554)
    assert hikvision is not None
    assert hikvision.public_url == "rtsp://cam:8554/Streaming/Channels/102"
    assert intelbras.username is None and hikvision.username is None  # it opens with the main stream's login


def test_a_vendor_without_a_builder_has_no_sub_stream() -> None:
    assert build_substream_url(Vendor.GENERIC, "cam") is None
