"""How many ``/events`` messages one city's sockets may be sent per second on one API replica.

Fan-out costs the replica one send per event per socket: a city with 50
consoles publishing 50 alerts a second asks for 2 500 sends a second, and an
event loop busy with them delays every other city's events. The budget is a
token bucket per city and replica whose rate grows with the city's open
sockets (``sockets × per_socket_s``), so a city with more people may be sent
more, but never more than its sockets could sensibly show. A city over its
budget has its own feed held back (its events wait in its stream and arrive
in bigger batches later); another city's feed is never charged for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MessageBudget:
    """One city's token bucket; ``wait_s`` charges a batch and says how long to hold it back."""

    per_socket_s: float  # messages a second each open socket of the city may be sent
    burst_s: float = 1.0  # seconds of budget a quiet city may spend at once
    _tokens: float = 0.0
    _at: float | None = None

    def __post_init__(self) -> None:
        if self.per_socket_s <= 0 or self.burst_s <= 0:
            raise ValueError("a message budget needs a positive rate and burst")

    def wait_s(self, messages: int, sockets: int, now: float) -> float:
        """Seconds to hold back ``messages`` sends to the city's ``sockets`` at monotonic time ``now`` so the
        city keeps to its rate (0: send now); the batch is charged either way."""
        rate = max(1, sockets) * self.per_socket_s
        ceiling = rate * self.burst_s
        self._tokens = ceiling if self._at is None else min(ceiling, self._tokens + (now - self._at) * rate)
        self._at = now
        self._tokens -= messages
        return 0.0 if self._tokens >= 0 else -self._tokens / rate
