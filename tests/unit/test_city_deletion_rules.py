"""City deletion's pure rules (domain/city_deletion.py): what each object is, the counts, the report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.city_deletion import (
    TenantDeletion,
    add_objects,
    city_prefix,
    deletion_report,
    due_at,
    hold_refusal,
    object_kind,
    report_keys,
    report_table,
)

CITY = uuid.uuid4()
AT = datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_each_object_of_a_city_is_counted_under_its_kind() -> None:
    base = city_prefix(CITY)
    assert object_kind(f"{base}c/{uuid.uuid4()}/2026/11/30/12/1.mp4", CITY) == "recordings"
    assert object_kind(f"{base}c/{uuid.uuid4()}/2026/11/30/12/1.jpg", CITY) == "thumbnails"
    assert object_kind(f"{base}clips/{uuid.uuid4()}.mp4", CITY) == "clips"
    assert object_kind(f"{base}clips/{uuid.uuid4()}.manifest.json", CITY) == "clip_manifests"
    assert object_kind(f"{base}lpr/2026/11/30/e/0.jpg", CITY) == "lpr_images"
    assert object_kind(f"{base}something-new", CITY) == "other"
    counts = add_objects({}, CITY, [(f"{base}clips/a.mp4", 10), (f"{base}clips/b.mp4", 5)])
    counts = add_objects(counts, CITY, [(f"{base}lpr/x.jpg", 1)])
    assert counts == {"clips": {"objects": 2, "bytes": 15}, "lpr_images": {"objects": 1, "bytes": 1}}


def test_a_held_city_is_refused_with_the_reason_and_the_grace_period_sets_the_date() -> None:
    assert hold_refusal(0) is None
    refusal = hold_refusal(2)
    assert refusal is not None and "2 active legal hold(s)" in refusal and "release the holds" in refusal
    assert due_at(AT, 30) == AT + timedelta(days=30) and due_at(AT, 0.5) == AT + timedelta(hours=12)


def test_the_report_says_what_was_deleted_by_whom_and_what_was_kept() -> None:
    admin = uuid.uuid4()
    deletion = TenantDeletion(
        id=7, tenant_id=CITY, tenant_name="Maricá", requested_at=AT, requested_by=admin, requested_by_name="ana",
        due_at=AT + timedelta(days=30), state="deleting", cancelled_at=None,
        objects={"recordings": {"objects": 3, "bytes": 300}, "clips": {"objects": 1, "bytes": 50}},
        rows_deleted=None, completed_at=None, report=None, report_key=None)
    report = deletion_report(deletion, {"recordings": 3, "tenants": 1}, AT + timedelta(days=30, minutes=5), "ab" * 32)
    assert report["totals"] == {"objects": 4, "bytes": 350, "rows": 4}
    assert report["requested_by"] == {"user_id": str(admin), "username": "ana"}
    assert "audit_log" in report["kept"] and report["city"]["name"] == "Maricá"
    header, columns, rows = report_table(report)
    assert ("Total", "4 objetos, 350 bytes, 4 linhas") in header and len(columns) == 4
    assert ["objetos", "clips", "1", "50"] in rows and ["linhas", "tenants", "1", "-"] in rows
    json_key, pdf_key, manifest_key = report_keys(CITY, 7)
    assert json_key.startswith("platform/city-deletions/") and not json_key.startswith("t/")
    assert pdf_key.endswith(".pdf") and manifest_key.endswith(".manifest.json")
