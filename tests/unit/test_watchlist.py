"""Watchlist patterns: exact plates and ? / * wildcards, nothing else."""

from __future__ import annotations

from uuid import uuid4

from domain.lpr.watchlist import WatchEntry, hits


def entry(pattern: str) -> WatchEntry:
    return WatchEntry(uuid4(), pattern, "why")


def test_exact_and_wildcard_entries() -> None:
    entries = [entry("ABC1D23"), entry("ABC?D23"), entry("XY*"), entry("A.C1D23")]
    assert [e.pattern for e in hits("ABC1D23", entries)] == ["ABC1D23", "ABC?D23"]
    assert [e.pattern for e in hits("ABC9D23", entries)] == ["ABC?D23"]
    assert [e.pattern for e in hits("XYZ1234", entries)] == ["XY*"]
    assert hits("AXC1D23", entries) == [], "a dot in a pattern is a dot, not any character"
    assert hits("ABC1D234", entries) == [], "the whole plate must match"
