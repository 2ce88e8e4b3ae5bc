"""Remembering which viewing sessions were already audited, for requests a player repeats every few seconds.

A live HLS player reloads its playlist every target duration; an audit row per reload would say nothing more and
grow the audit table by thousands of rows per viewer-hour. The first playlist fetch with a credential (a media or
access token) is audited; reloads with the same credential are not, until it would have expired. Per API replica,
bounded: past ``max_entries`` the oldest are forgotten (and would be audited again — more rows, never fewer).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict


class LookOnce:
    def __init__(self, *, max_entries: int = 100_000) -> None:
        self._max_entries = max_entries
        self._until: OrderedDict[bytes, float] = OrderedDict()

    def first(self, session: str, what: str, valid_until: float) -> bool:
        """True the first time ``session`` (a digest of a token) looks at ``what`` (until ``valid_until``, epoch
        seconds)."""
        key = hashlib.sha256(f"{session}\n{what}".encode()).digest()
        now = time.time()
        if self._until.get(key, 0.0) > now:
            return False
        self._until[key] = valid_until
        self._until.move_to_end(key)
        while len(self._until) > self._max_entries:
            self._until.popitem(last=False)
        return True
