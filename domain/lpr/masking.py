"""Plate masking: under a city's ``plate_masking`` policy its viewers see ``ABC1D**`` instead of ``ABC1D23``.

Managers and admins always see full plates; a viewer does too once a manager granted them full view. Every view
of full plates while the policy is on is audited (``lpr.unmasked_view``), so the rule also says when to audit.
Pseudonyms of anonymized reads are not personal data and are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain.events import LPR_ALERT
from domain.lpr.pseudonym import is_pseudonym
from domain.lpr.stored import StoredRead
from domain.rbac import Role

KEPT = 5  # characters shown: enough to tell reads apart on a screen, not enough to name the vehicle
MASK = "*"


def mask_plate(plate: str) -> str:
    """The first ``KEPT`` characters, the rest as ``*`` (``ABC1D23`` → ``ABC1D**``); pseudonyms unchanged."""
    if is_pseudonym(plate):
        return plate
    return plate[:KEPT] + MASK * max(0, len(plate) - KEPT)


@dataclass(frozen=True)
class PlateView:
    """How one user sees one city's plates."""

    policy_on: bool  # the city's plate_masking
    masked: bool  # this user sees masked plates

    @property
    def audited(self) -> bool:
        """A view of full plates while the city masks them: one ``lpr.unmasked_view`` row per request."""
        return self.policy_on and not self.masked


def plate_view(role: Role, policy_on: bool, full_view_granted: bool) -> PlateView:
    """Viewers of a masking city see masked plates unless granted full view; managers and admins never do."""
    return PlateView(policy_on, policy_on and role == Role.VIEWER and not full_view_granted)


def masked_read(read: StoredRead) -> StoredRead:
    """A stored read as a masked viewer sees it in a search or its CSV."""
    return replace(read, plate=mask_plate(read.plate))


def masked_event(event: dict[str, Any]) -> dict[str, Any]:
    """An event of the city's /events stream as a masked viewer gets it: an LPR alert's plate and watchlist
    pattern masked (``ABC?D**``); every other event unchanged."""
    if event.get("type") != LPR_ALERT:
        return event
    changed = dict(event)
    for field in ("plate", "pattern"):
        if isinstance(changed.get(field), str):
            changed[field] = mask_plate(changed[field])
    return changed
