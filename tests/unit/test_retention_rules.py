"""Retention rules: quotas, cut-offs, stalls, and report days across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from domain.plans import Plan, Quota, quota_refusal
from domain.purge_rules import PurgedChunk, ReportRow, is_stalled, report_csv, report_lines

PLAN = Plan(uuid4(), "30 days", 30, camera_quota=1000, manager_quota=1, viewer_quota=5, storage_quota_bytes=None)


def test_the_quota_refuses_the_one_past_the_limit_with_a_reason() -> None:
    assert quota_refusal(PLAN, Quota.CAMERAS, 999) is None
    message = quota_refusal(PLAN, Quota.CAMERAS, 1000)
    assert message == "the plan '30 days' allows 1000 cameras per city and this city has 1000"
    assert quota_refusal(PLAN, Quota.MANAGERS, 0) is None
    assert quota_refusal(PLAN, Quota.MANAGERS, 1) is not None
    assert quota_refusal(PLAN, Quota.VIEWERS, 4) is None and quota_refusal(PLAN, Quota.VIEWERS, 5) is not None


def _hourly(start: datetime, hours: int) -> list[PurgedChunk]:
    camera = uuid4()
    return [PurgedChunk(camera, start + timedelta(hours=h), start + timedelta(hours=h + 1), 100) for h in range(hours)]


def test_report_days_follow_the_tenant_zone_across_dst_without_losing_or_doubling_an_hour() -> None:
    # New York left DST on 2026-11-01 at 02:00 local (06:00 UTC): that local day has 25 hours.
    chunks = _hourly(datetime(2026, 10, 31, 4, 0, tzinfo=UTC), 72)  # 00:00 EDT Oct 31 onwards
    lines = report_lines(chunks, "America/New_York")
    assert [(line.local_day, line.chunks) for line in lines] == [
        (date(2026, 10, 31), 24), (date(2026, 11, 1), 25), (date(2026, 11, 2), 23)]
    assert sum(line.chunks for line in lines) == 72 and sum(line.bytes for line in lines) == 7200
    # Spring forward (2026-03-08): a 23-hour local day.
    spring = report_lines(_hourly(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), 23), "America/New_York")
    assert [(line.local_day, line.chunks) for line in spring] == [(date(2026, 3, 8), 23)]
    # São Paulo has no DST: days are 24 hours, cut at 03:00 UTC.
    sao_paulo = report_lines(_hourly(datetime(2026, 11, 1, 3, 0, tzinfo=UTC), 48), "America/Sao_Paulo")
    assert [(line.local_day, line.chunks) for line in sao_paulo] == [(date(2026, 11, 1), 24), (date(2026, 11, 2), 24)]


def test_report_csv_has_a_header_and_one_row_per_line() -> None:
    line = report_lines(_hourly(datetime(2026, 1, 1, 12, tzinfo=UTC), 2), "America/Sao_Paulo")[0]
    text = report_csv([ReportRow(tenant_id=uuid4(), camera_id=line.camera_id, local_day=line.local_day, chunks=2,
                                 bytes=200, first_start=line.first_start, last_end=line.last_end, held_chunks=0)])
    header, row, *_ = text.splitlines()
    assert header.startswith("tenant_id,camera_id,local_day")
    assert row.endswith(",2,200,2026-01-01T12:00:00.000+00:00,2026-01-01T14:00:00.000+00:00,0")


def test_a_pass_overdue_by_twice_its_interval_is_stalled() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    assert not is_stalled(now - 90 * timedelta(minutes=1), None, now, hour)
    assert is_stalled(now - 3 * hour, None, now, hour)
    assert is_stalled(None, None, now, hour)
    assert is_stalled(now - 30 * timedelta(minutes=1), now - 3 * hour, now, hour), "stuck mid-pass"
