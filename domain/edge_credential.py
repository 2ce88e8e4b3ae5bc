"""The platform's own credential at the MediaMTX edge: how the Fleet, the recorders and Prometheus identify
themselves to MediaMTX, which asks GT-Vision's auth endpoint about every user (docs/edge.md).

It is derived from the master secret (``Settings.key("edge")``), so every node computes the same one and
nothing is stored; rotating the secret rotates it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from domain.settings import Settings

EDGE_USER = "gtvision-edge"


@dataclass(frozen=True)
class EdgeCredential:
    user: str
    password: str

    def matches(self, user: str, password: str) -> bool:
        """Whether ``user``/``password`` are this credential (constant-time: the password is a secret)."""
        same_user = hmac.compare_digest(user.encode(), self.user.encode())
        same_password = hmac.compare_digest(password.encode(), self.password.encode())
        return same_user and same_password

    def __repr__(self) -> str:
        return f"EdgeCredential(user={self.user!r})"


def edge_credential(settings: Settings) -> EdgeCredential:
    return EdgeCredential(EDGE_USER, settings.key("edge").hex())
