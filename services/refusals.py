"""Why a use case refused: one exception per kind of refusal, each mapped to one HTTP status by the API.

Use cases raise these instead of HTTP errors so they run the same under a route,
an actor or a test; ``serve/errors.py`` is the one place that turns them into
answers. The message always says what is wrong.
"""

from __future__ import annotations


class Refusal(Exception):
    """A request the platform will not carry out, and why."""


class NotAuthenticated(Refusal):
    """The caller (a user or a pushing camera) is not who it claims: 401."""


class NotAllowed(Refusal):
    """The caller is known but may not do this: 403."""


class NotFound(Refusal):
    """The thing does not exist, or belongs to another city (the answer is the same): 404."""


class Conflict(Refusal):
    """The request clashes with what is stored (a replay, a state that does not allow it): 409."""


class Invalid(Refusal):
    """The request is well-formed but cannot be done as asked: 422."""


class TooMany(Refusal):
    """The caller's city has as many of these in progress as its plan allows; it may ask again later: 429."""


class Unavailable(Refusal):
    """A backing store is down or too far behind; nothing was done and the client may retry: 503."""

    def __init__(self, message: str, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
