"""Pure rules of the audit trail: the action filter, CSV cells, and what a camera's rows say (never credentials)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

from domain.audit import ActionFilter, AuditEntry, action_filter, csv_row
from domain.camera import Camera
from domain.camera_audit import camera_changes, camera_settings
from domain.stream_url import StreamUrl


def test_an_action_ending_in_a_dot_is_a_prefix_anything_else_exact() -> None:
    assert action_filter("lpr.") == ActionFilter(prefix="lpr.")
    assert action_filter("lpr.search") == ActionFilter(exact="lpr.search")
    assert action_filter(None) == action_filter("") == ActionFilter()


def test_a_csv_row_has_iso_instants_compact_json_and_empty_cells_for_nothing() -> None:
    at = datetime(2031, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    entry = AuditEntry(7, at, None, "user.login_failed", None, None, None, {"username": "zé", "reason": "x"},
                       None, "203.0.113.7", "ab" * 32)
    assert csv_row(entry) == ["7", "2031-01-02T03:04:05.678000+00:00", "", "", "user.login_failed", "", "", "",
                              "203.0.113.7", '{"reason":"x","username":"zé"}', "ab" * 32]


def _camera(url: str, username: str | None = None) -> Camera:
    now = datetime(2031, 1, 1, tzinfo=UTC)
    return Camera(uuid4(), uuid4(), "Praça", "generic", StreamUrl(url, username), True, None, None, now, now,
                  sealed_password="sealed-blob" if username else None)


def test_camera_settings_redact_any_credentials_in_the_url() -> None:
    settings = camera_settings(_camera("rtsp://user:pass@10.0.0.1/s", "user"))
    assert settings["rtsp_url"] == "rtsp://***@10.0.0.1/s" and settings["has_credentials"] is True
    assert "pass" not in str(settings) and "sealed-blob" not in str(settings)


def test_camera_changes_list_what_differs_and_only_that_credentials_changed() -> None:
    before = _camera("rtsp://10.0.0.1/s")
    after = replace(_camera("rtsp://10.0.0.2/s", "operador"), id=before.id, name="Praça nova")
    changes = camera_changes(before, after, credentials_changed=True)
    assert changes == {"name": {"from": "Praça", "to": "Praça nova"},
                       "rtsp_url": {"from": "rtsp://10.0.0.1/s", "to": "rtsp://10.0.0.2/s"}, "credentials": "changed"}
    assert camera_changes(before, before, credentials_changed=False) == {}


def test_a_sub_stream_change_is_listed_redacted() -> None:
    before = _camera("rtsp://10.0.0.1/s")
    after = replace(before, substream=StreamUrl("rtsp://user:pw@10.0.0.1/sub"))
    assert camera_settings(before)["substream_url"] is None
    assert camera_changes(before, after, credentials_changed=False) == {
        "substream_url": {"from": None, "to": "rtsp://***@10.0.0.1/sub"}}
