import pytest

from domain.errors import InvalidCameraUrl
from domain.stream_url import parse_stream_url, parse_substream_url, with_login_of


def test_credentials_are_split_off_the_public_url() -> None:
    url = parse_stream_url("rtsp://admin:secret@10.0.0.5:554/cam/realmonitor?channel=1&subtype=0")
    assert url.public_url == "rtsp://10.0.0.5:554/cam/realmonitor?channel=1&subtype=0"
    assert (url.username, url.password) == ("admin", "secret")


@pytest.mark.parametrize("password", ["p@ss:w/rd#1?", "çãé ñ", "100%", "a@b@c"])
def test_special_characters_in_credentials_round_trip(password: str) -> None:
    url = parse_stream_url("rtsp://cam.local/stream", "user@city", password)
    again = parse_stream_url(url.with_credentials())
    assert (again.username, again.password) == ("user@city", password)
    assert again.public_url == "rtsp://cam.local/stream"


def test_unencoded_at_and_slash_in_embedded_password_use_the_last_at() -> None:
    url = parse_stream_url("rtsp://admin:p@ss/word@192.168.1.10:8554/live")
    assert url.username == "admin"
    assert url.password == "p@ss/word"
    assert url.public_url == "rtsp://192.168.1.10:8554/live"


def test_percent_encoded_credentials_are_decoded() -> None:
    url = parse_stream_url("rtsp://ad%40min:p%3Aw@host/x")
    assert (url.username, url.password) == ("ad@min", "p:w")


def test_credentials_given_apart_win_over_embedded() -> None:
    url = parse_stream_url("rtsp://old:old@host/x", "new", "pw")
    assert (url.username, url.password) == ("new", "pw")


def test_user_without_password() -> None:
    url = parse_stream_url("rtsp://viewer@host/x")
    assert (url.username, url.password) == ("viewer", None)
    assert url.with_credentials() == "rtsp://viewer@host/x"


def test_ipv6_host() -> None:
    assert parse_stream_url("rtsp://[::1]:8554/a").public_url == "rtsp://[::1]:8554/a"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("http://host/x", "unsupported scheme"),
        ("rtsp:/host/x", "must look like"),
        ("rtsp://host:99999/x", "port"),
        ("rtsp://host:abc/x", "port"),
        ("rtsp:///x", "no host"),
        ("rtsp://host/ x", "whitespace"),
        ("rtsp://host/\x00", "control"),
        ("rtsp://" + "a" * 3000, "longer than"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(InvalidCameraUrl, match=message):
        parse_stream_url(url)


def test_a_sub_stream_keeps_its_public_url_and_opens_with_the_main_streams_login() -> None:
    main = parse_stream_url("rtsp://10.0.0.1/main", "admin", "p@ss:/#")
    sub = parse_substream_url("rtsp://10.0.0.1/sub?subtype=1", main)
    assert (sub.public_url, sub.username, sub.password) == ("rtsp://10.0.0.1/sub?subtype=1", None, None)
    assert with_login_of(sub, main).with_credentials() == "rtsp://admin:p%40ss%3A%2F%23@10.0.0.1/sub?subtype=1"
    same = parse_substream_url("rtsp://admin:p%40ss%3A%2F%23@10.0.0.1/sub", main)  # the main's own login: accepted
    assert same.username is None and "admin" not in same.public_url


def test_a_sub_stream_with_another_login_or_a_bad_url_is_refused() -> None:
    main = parse_stream_url("rtsp://admin:right@10.0.0.1/main")
    with pytest.raises(InvalidCameraUrl, match="camera's login"):
        parse_substream_url("rtsp://admin:wrong@10.0.0.1/sub", main)
    with pytest.raises(InvalidCameraUrl, match="camera's login"):
        parse_substream_url("rtsp://other@10.0.0.1/sub", parse_stream_url("rtsp://10.0.0.1/main"))
    with pytest.raises(InvalidCameraUrl, match="scheme"):
        parse_substream_url("http://10.0.0.1/sub", main)
    with pytest.raises(InvalidCameraUrl, match="port"):
        parse_substream_url("rtsp://10.0.0.1:0/sub", main)
