"""Data-subject requests about a plate (LGPD art. 18): their kinds, their legal deadline, what completes them.

A request is received (``received_at``), due ``FULL_DECLARATION_DAYS`` later and completed by the step it asks
for. Its subject is kept as the plate's pseudonym, and as the plate itself only until the plate is anonymized.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

# LGPD art. 19, II: the full declaration (origin, records, criteria, purpose) is due within 15 days of the
# subject's request. Used for every kind: the simplified answer of art. 19, I is immediate, so 15 days is the
# longest any of them may take.
FULL_DECLARATION_DAYS = 15


class RequestKind(StrEnum):
    ACCESS = "access"  # art. 18, II: access to the data
    EXPORT = "export"  # art. 18, V / art. 19 §3: a copy in a format others can read
    ANONYMIZE = "anonymize"  # art. 18, IV: anonymization of data kept beyond need


class Step(StrEnum):
    """What the API did for a plate, each of which can complete a request."""

    REPORT = "report"
    EXPORT = "export"
    ANONYMIZE = "anonymize"


_COMPLETES: dict[Step, frozenset[RequestKind]] = {
    Step.REPORT: frozenset({RequestKind.ACCESS}),
    Step.EXPORT: frozenset({RequestKind.ACCESS, RequestKind.EXPORT}),  # an export is access too
    Step.ANONYMIZE: frozenset({RequestKind.ANONYMIZE}),
}


@dataclass(frozen=True)
class LgpdRequest:
    id: UUID
    tenant_id: UUID
    plate: str | None  # None once the plate is anonymized
    plate_pseudonym: str
    kind: RequestKind
    legal_basis: str
    request_reference: str | None
    note: str | None
    requested_by: UUID
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None
    completed_by: UUID | None
    state: str  # open | completed


def due_at(received_at: datetime) -> datetime:
    return received_at + timedelta(days=FULL_DECLARATION_DAYS)


def is_overdue(request: LgpdRequest, now: datetime) -> bool:
    """Still open past its deadline (a request completed late is not overdue any more, but stays late)."""
    return request.completed_at is None and now > request.due_at


def refusal_to_complete(request: LgpdRequest, step: Step, pseudonym: str) -> str | None:
    """Why ``step`` on the plate whose pseudonym is ``pseudonym`` cannot complete ``request`` (None: it can)."""
    if request.state != "open":
        return f"request {request.id} is already completed"
    if request.plate_pseudonym != pseudonym:
        return f"request {request.id} is about another plate"
    if request.kind not in _COMPLETES[step]:
        return f"request {request.id} asks for {request.kind.value}, which a {step.value} does not complete"
    return None
