"""What the platform holds about one plate — its reads and who searched for it — as JSON, CSV or a PDF table.

The answer to a data subject's access request (LGPD art. 18, II; art. 19): every read of the plate in the city
(where, when, which images) and every search or export that looked for it (who, when). CSV cells are neutralized
like the search export's (domain/lpr/export.py).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.lpr.export import safe_cell

MAX_REPORT_READS = 50_000  # more than a year of daily passes under many cameras; beyond it the report says so
MAX_REPORT_LOOKUPS = 5_000
TITLE = "Relatório do titular (LGPD art. 19): placa"


@dataclass(frozen=True)
class SubjectRead:
    """One read of the plate, with its camera's name."""

    id: UUID
    camera_id: UUID
    camera_name: str | None
    captured_at: datetime
    received_at: datetime
    confidence: float | None
    direction: str | None
    vehicle_color: str | None
    vehicle_type: str | None
    image_keys: list[str]


@dataclass(frozen=True)
class PlateLookup:
    """A search or export (audit ``lpr.search`` / ``lpr.export``) whose term matched the plate."""

    at: datetime
    action: str
    user_id: UUID | None
    username: str | None
    term: str  # as the user typed it
    range_start: datetime | None
    range_end: datetime | None


@dataclass(frozen=True)
class SubjectReport:
    tenant_id: UUID
    plate: str
    generated_at: datetime
    reads: list[SubjectRead]
    lookups: list[PlateLookup]
    reads_truncated: bool
    lookups_truncated: bool


CSV_COLUMNS = ("record", "at", "camera_id", "camera_name", "user", "action", "term", "images")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return str(value)


def report_rows(report: SubjectReport) -> list[list[str]]:
    """One row per read (``record`` = read) then per lookup (``record`` = search/export), in CSV_COLUMNS order."""
    rows = [["read", _text(r.captured_at), str(r.camera_id), r.camera_name or "", "", "", "", " ".join(r.image_keys)]
            for r in report.reads]
    rows += [["search" if lookup.action == "lpr.search" else "export", _text(lookup.at), "", "",
              lookup.username or _text(lookup.user_id), lookup.action, lookup.term, ""] for lookup in report.lookups]
    return rows


def report_csv(report: SubjectReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["plate", report.plate, "generated_at", _text(report.generated_at)])
    writer.writerow(CSV_COLUMNS)
    for row in report_rows(report):
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue().encode()


PDF_COLUMNS = ["Registro", "Quando (UTC)", "Câmera", "Usuário", "Ação", "Termo", "Imagens"]


def report_pdf_table(report: SubjectReport) -> tuple[str, list[tuple[str, str]], list[str], list[list[str]]]:
    """(title, header, columns, rows) for documents/pdf.py ``render_pdf``."""
    header = [("Placa", report.plate), ("Cidade", str(report.tenant_id)),
              ("Gerado em (UTC)", _text(report.generated_at)),
              ("Leituras", f"{len(report.reads)}{' (truncado)' if report.reads_truncated else ''}"),
              ("Consultas e exportações", f"{len(report.lookups)}{' (truncado)' if report.lookups_truncated else ''}")]
    rows = [[record, at, name or camera_id, user, action, term, str(len(images.split())) if images else ""]
            for record, at, camera_id, name, user, action, term, images in report_rows(report)]
    return f"{TITLE} {report.plate}", header, PDF_COLUMNS, rows
