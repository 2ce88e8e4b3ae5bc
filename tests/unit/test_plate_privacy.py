"""The LGPD rules for plates, without I/O: pseudonyms, masking, LPR retention, request deadlines, the subject
report's rows."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.events import lpr_alert_event
from domain.lgpd_requests import (
    FULL_DECLARATION_DAYS,
    LgpdRequest,
    RequestKind,
    Step,
    due_at,
    is_overdue,
    refusal_to_complete,
)
from domain.lpr.masking import mask_plate, masked_event, masked_read, plate_view
from domain.lpr.plates import BadPlate, normalize, search_pattern
from domain.lpr.pseudonym import PREFIX, is_pseudonym, pseudonym
from domain.lpr.queued_read import QueuedRead
from domain.lpr.retention import lpr_cutoff, lpr_retention_days
from domain.lpr.stored import StoredRead
from domain.lpr.subject_report import PlateLookup, SubjectRead, SubjectReport, report_csv, report_pdf_table
from domain.lpr.watchlist import WatchEntry
from domain.rbac import Action, Principal, Role, may

KEY = b"k" * 32
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_pseudonym_is_stable_keyed_and_never_a_plate_or_a_search_term() -> None:
    first = pseudonym(KEY, "ABC1D23")
    assert first == pseudonym(KEY, "ABC1D23"), "the same plate, the same pseudonym: counts per vehicle stay"
    assert first.startswith(PREFIX) and len(first) == len(PREFIX) + 12 and is_pseudonym(first)
    assert first != pseudonym(KEY, "ABC1D24")
    assert first != pseudonym(b"another deployment", "ABC1D23"), "keyed: a guessed plate cannot be checked"
    with pytest.raises(BadPlate):
        normalize(first)  # longer than any plate once its '-' is dropped
    with pytest.raises(BadPlate):
        search_pattern(first)
    assert not is_pseudonym("ABC1D23")


@pytest.mark.parametrize(("plate", "shown"), [
    ("ABC1D23", "ABC1D**"), ("ABC1234", "ABC12**"), ("AB12", "AB12"), ("ABCDE", "ABCDE"),
    ("ABCDEF", "ABCDE*"), ("ABC?D23", "ABC?D**")])
def test_masking_keeps_the_first_five_characters(plate: str, shown: str) -> None:
    assert mask_plate(plate) == shown


def test_pseudonyms_are_not_masked() -> None:
    anonymous = pseudonym(KEY, "ABC1D23")
    assert mask_plate(anonymous) == anonymous


def test_only_viewers_without_a_grant_see_masked_plates_and_full_views_under_the_policy_are_audited() -> None:
    assert plate_view(Role.VIEWER, True, False).masked
    assert not plate_view(Role.VIEWER, True, False).audited
    for role, granted in [(Role.VIEWER, True), (Role.MANAGER, False), (Role.ADMIN, False)]:
        view = plate_view(role, True, granted)
        assert not view.masked and view.audited, role
    off = plate_view(Role.VIEWER, False, False)
    assert not off.masked and not off.audited, "no policy: nothing masked, nothing extra audited"


def test_a_masked_viewer_gets_alerts_and_reads_with_masked_plates_and_other_events_unchanged() -> None:
    tenant, camera = uuid.uuid4(), uuid.uuid4()
    read = QueuedRead(id=uuid.uuid4(), tenant_id=tenant, camera_id=camera, sender="generic", plate="ABC1D23",
                      captured_at=NOW, received_at=NOW, dedupe_key="k")
    alert = lpr_alert_event(read, WatchEntry(uuid.uuid4(), "ABC1D23", "stolen"))
    shown = masked_event(alert)
    assert shown["plate"] == "ABC1D**" and shown["pattern"] == "ABC1D**"
    assert alert["plate"] == "ABC1D23", "the bus's event is not changed for the other sockets"
    status = {"type": "camera.status", "camera_id": str(camera)}
    assert masked_event(status) is status
    stored = StoredRead(read.id, camera, "ABC1D23", NOW, NOW, 90.0, None, None, None, "generic", [])
    assert masked_read(stored).plate == "ABC1D**" and masked_read(stored).id == stored.id


def test_lpr_retention_defaults_to_the_footage_retention_and_cuts_by_capture_time() -> None:
    assert lpr_retention_days(30, None) == 30
    assert lpr_retention_days(30, 7) == 7
    assert lpr_cutoff(NOW, 7) == NOW - timedelta(days=7)


def _request(kind: RequestKind, **changes: object) -> LgpdRequest:
    request = LgpdRequest(uuid.uuid4(), uuid.uuid4(), "ABC1D23", pseudonym(KEY, "ABC1D23"), kind, "art. 18, II",
                          None, None, uuid.uuid4(), NOW, due_at(NOW), None, None, "open")
    return replace(request, **changes)  # type: ignore[arg-type]


def test_a_request_is_due_fifteen_days_after_it_was_received_and_overdue_only_while_open() -> None:
    assert FULL_DECLARATION_DAYS == 15
    request = _request(RequestKind.ACCESS)
    assert request.due_at == NOW + timedelta(days=15)
    assert not is_overdue(request, NOW + timedelta(days=15))
    assert is_overdue(request, NOW + timedelta(days=15, seconds=1))
    done = replace(request, completed_at=NOW + timedelta(days=20), state="completed")
    assert not is_overdue(done, NOW + timedelta(days=30))


def test_a_request_is_completed_by_its_own_step_on_its_own_plate() -> None:
    own = pseudonym(KEY, "ABC1D23")
    assert refusal_to_complete(_request(RequestKind.ACCESS), Step.REPORT, own) is None
    assert refusal_to_complete(_request(RequestKind.ACCESS), Step.EXPORT, own) is None
    assert refusal_to_complete(_request(RequestKind.EXPORT), Step.EXPORT, own) is None
    assert refusal_to_complete(_request(RequestKind.ANONYMIZE), Step.ANONYMIZE, own) is None
    assert "does not complete" in str(refusal_to_complete(_request(RequestKind.ANONYMIZE), Step.REPORT, own))
    assert "does not complete" in str(refusal_to_complete(_request(RequestKind.EXPORT), Step.REPORT, own))
    assert "another plate" in str(refusal_to_complete(_request(RequestKind.ACCESS), Step.REPORT,
                                                       pseudonym(KEY, "XYZ9876")))
    assert "already completed" in str(refusal_to_complete(_request(RequestKind.ACCESS, state="completed"),
                                                          Step.REPORT, own))


def test_managers_and_admins_may_act_on_plates_viewers_may_not() -> None:
    city = uuid.uuid4()
    assert may(Principal(uuid.uuid4(), Role.MANAGER, city), Action.LGPD, city)
    assert not may(Principal(uuid.uuid4(), Role.MANAGER, city), Action.LGPD, uuid.uuid4())
    assert may(Principal(uuid.uuid4(), Role.ADMIN, None), Action.LGPD, city)
    assert not may(Principal(uuid.uuid4(), Role.VIEWER, city), Action.LGPD, city)


def _report() -> SubjectReport:
    camera, user = uuid.uuid4(), uuid.uuid4()
    reads = [SubjectRead(uuid.uuid4(), camera, "Av. Brasil — sentido centro", NOW, NOW, 95.0, None, None, None,
                         ["t/x/lpr/a.jpg", "t/x/lpr/a-1.jpg"])]
    lookups = [PlateLookup(NOW, "lpr.search", user, "joão", "=ABC*", None, None),
               PlateLookup(NOW, "lpr.export", user, None, "ABC1D23", NOW, NOW)]
    return SubjectReport(uuid.uuid4(), "ABC1D23", NOW, reads, lookups, False, False)


def test_the_subject_report_as_csv_lists_reads_then_lookups_with_formulas_neutralized() -> None:
    rows = list(csv.reader(io.StringIO(report_csv(_report()).decode())))
    assert rows[0][:2] == ["plate", "ABC1D23"]
    assert rows[2][0] == "read" and rows[2][3] == "Av. Brasil — sentido centro" and "t/x/lpr/a-1.jpg" in rows[2][7]
    assert rows[3][0] == "search" and rows[3][4] == "joão" and rows[3][6] == "'=ABC*"
    assert rows[4][0] == "export" and rows[4][5] == "lpr.export"


def test_the_subject_report_pdf_table_has_a_title_with_the_plate_and_one_row_per_record() -> None:
    title, header, columns, rows = report_pdf_table(_report())
    assert "ABC1D23" in title and "LGPD" in title
    assert ("Placa", "ABC1D23") in header and len(columns) == len(rows[0])
    assert [row[0] for row in rows] == ["read", "search", "export"] and rows[0][6] == "2"
