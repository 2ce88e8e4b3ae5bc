"""The C start-code rewriter (media/_nal.c) writes what the Python reference in media/fragmenter.py writes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.fragmenter import annex_b_to_mp4

nal = pytest.importorskip("media._nal", reason="the C rewriter is not built (no C compiler at install)")

# Bytes drawn mostly from 0 and 1, so that start codes (00 00 01, 00 00 00 01) and near-misses are common.
_annex_b_like = st.lists(st.sampled_from([0, 0, 0, 1, 3, 0x65, 0xFF]), max_size=64).map(bytes)


@given(_annex_b_like)
def test_the_c_rewriter_agrees_with_the_reference(data: bytes) -> None:
    assert nal.annex_b_to_mp4(data) == annex_b_to_mp4(data)


@pytest.mark.parametrize(("data", "expected"), [
    (b"", b""),
    (b"no start code", b"no start code"),
    (b"\x00\x00\x00\x01\x67ab\x00\x00\x01\x65cd", b"\x00\x00\x00\x03\x67ab\x00\x00\x00\x03\x65cd"),
    (b"\x00\x00\x01\x00\x00\x01\x65", b"\x00\x00\x00\x00\x00\x00\x00\x01\x65"),  # an empty unit between two codes
])
def test_units_get_their_lengths(data: bytes, expected: bytes) -> None:
    assert nal.annex_b_to_mp4(data) == expected == annex_b_to_mp4(data)


def test_a_large_frame_is_rewritten_whole() -> None:
    body = bytes(range(4, 256)) * 400  # no zeros: no start code inside
    data = b"\x00\x00\x00\x01" + body + b"\x00\x00\x00\x01" + body
    assert nal.annex_b_to_mp4(data) == 2 * (len(body).to_bytes(4, "big") + body)
