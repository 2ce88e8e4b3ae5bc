"""How many ``/events`` sockets a user and a city may hold open on one API replica, and the refusal past it.

Each open socket costs a replica a task, a queue and a slot of Serve's
``max_ongoing_requests`` (1000): one city's 500 browser tabs, or one user's
script reconnecting in a loop, must not take them from the other cities. The
limits are per replica, where the cost is; Serve spreads sockets over replicas.
"""

from __future__ import annotations


def socket_refusal(user_open: int, city_open: int, per_user: int, per_city: int) -> str | None:
    """Why one more socket of this user (of this city) is refused; None: it may open."""
    if user_open >= per_user:
        return f"too many open event sockets: this user already has {user_open} (at most {per_user} each)"
    if city_open >= per_city:
        return f"too many open event sockets: the city already has {city_open} (at most {per_city} per server)"
    return None
