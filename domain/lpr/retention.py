"""How long a city keeps plate reads in the clear, and which reads a retention pass anonymizes.

A plate is personal data (LGPD art. 5, I): it is kept no longer than its purpose needs (art. 15, I; art. 16).
A plan's ``lpr_retention_days`` says how long; unset, plate reads live as long as the plan's footage
(``retention_days``). Past it a read is not deleted but anonymized — its plate replaced by the keyed pseudonym
(domain/lpr/pseudonym.py), its images deleted — so the hourly counts of dashboards stay true. A read a legal
hold covers (its camera, its instant) is kept as it is, like held footage.
"""

from __future__ import annotations

from datetime import datetime, timedelta

LPR_EXPIRY_BATCH = 1000  # reads anonymized per transaction


def lpr_retention_days(retention_days: int, lpr_retention_days: int | None) -> int:
    """The plan's plate-read retention: its own when set, else its footage's."""
    return retention_days if lpr_retention_days is None else lpr_retention_days


def lpr_cutoff(now: datetime, days: int) -> datetime:
    """Reads captured before this instant are expired (unless held)."""
    return now - timedelta(days=days)
