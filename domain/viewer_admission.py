"""How many live streams a city may watch at once, and the refusal past it.

One city's wall of screens (or a script opening streams in a loop) must not
take the camera hosts' and the API's capacity from the others: each city may
have its plan's ``live_viewers_max`` live streams open at once, over every API
replica. The default is generous — 16 per user of the city, at least 16 — so a
city meets it only when far more streams are open than its people can watch.

A viewer is counted while its lease is fresh: the replica serving it renews it
every ``RENEW_S``; one not renewed for ``LEASE_S`` (its replica died) no longer
counts.
"""

from __future__ import annotations

PER_USER = 16
AT_LEAST = 16
RENEW_S = 10.0
LEASE_S = 30.0


def live_viewer_limit(plan_max: int | None, users: int) -> int:
    return plan_max if plan_max is not None else max(AT_LEAST, PER_USER * users)


def admission_refusal(watching: int, limit: int, plan_name: str) -> str | None:
    """Why one more live stream of the city is refused (None: admitted)."""
    if watching < limit:
        return None
    return (f"the city already watches {watching} live streams, the most its plan {plan_name!r} allows at once"
            f" ({limit}); close one and try again")
