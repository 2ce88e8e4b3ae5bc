"""The keyed pseudonym that replaces an anonymized plate (LGPD art. 12: anonymized data is no longer personal).

``ANON-`` + the first 12 hex digits (upper case) of HMAC-SHA256(plate) under a key derived from the deployment's
master secret (``Settings.key(KEY_PURPOSE)``). The same plate always gets the same pseudonym within a deployment,
so counts per vehicle stay meaningful, while nobody without the key can test a guessed plate against it (a plain
hash of a 7-character plate is reversed by trying them all). A pseudonym is never a plate: it is longer than
``MAX_PLATE`` and holds a ``-``, which no canonical plate or search term may contain.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_PURPOSE = "lpr-pseudonym"
PREFIX = "ANON-"
_HEX_DIGITS = 12  # 48 bits: no two plates of a country's fleet collide in practice
SQL_IN_THE_CLEAR = f"plate NOT LIKE '{PREFIX}%'"  # the predicate of the partial index lpr_events_clear_time


def pseudonym(key: bytes, plate: str) -> str:
    """The pseudonym of a canonical plate (domain/lpr/plates.py ``normalize``)."""
    digest = hmac.new(key, plate.encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:_HEX_DIGITS].upper()


def is_pseudonym(plate: str) -> bool:
    return plate.startswith(PREFIX)
