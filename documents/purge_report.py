"""The purge report ("proof of automatic purge") as a PDF in Portuguese, for a city's records office.

Rendered from the report as the API serves it in JSON (serve/routes/retention.py), so the PDF holds exactly
what the JSON holds — including the audit anchor when the report carries one. The same report gives the same
bytes (the creation date is the pass's end), so its signed manifest can be fetched apart from it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from documents.pdf import render_pdf

TITLE = "Relatório de expurgo automático de gravações"
COLUMNS = ["Cidade", "Câmera", "Dia (local)", "Segmentos apagados", "Bytes apagados", "Primeiro início (UTC)",
           "Último fim (UTC)", "Segmentos retidos (bloqueio judicial)"]


def purge_report_pdf(report: dict[str, Any], cities: dict[UUID, str], cameras: dict[UUID, str],
                     city: UUID | None) -> bytes:
    """The PDF of a pass's report (``report``: the JSON body) for one city (or, ``None``, all of them)."""
    retention_pass = report["pass"]
    totals = report["totals"]
    header = [
        ("Cidade", cities.get(city, str(city)) if city else "todas as cidades"),
        ("Passagem de retenção", f"nº {retention_pass['id']} ({retention_pass['trigger']}), {retention_pass['state']}"),
        ("Período", f"{_instant(retention_pass['started_at'])} a {_instant(retention_pass['finished_at'])}"),
        ("Total apagado", f"{totals['chunks']} segmentos, {totals['bytes']} bytes"),
        ("Retidos por bloqueio judicial", f"{totals['held_chunks']} segmentos vencidos mantidos"),
    ]
    anchor = next((value for key, value in report.items() if "anchor" in key), None)
    if anchor is not None:
        header.append(("Âncora de auditoria", _text(anchor)))
    rows = [[cities.get(line["tenant_id"], str(line["tenant_id"])), cameras.get(line["camera_id"], str(line["camera_id"])),
             _day(line["local_day"]), str(line["chunks"]), str(line["bytes"]), _instant(line["first_start"]),
             _instant(line["last_end"]), str(line["held_chunks"])] for line in report["lines"]]
    return render_pdf(TITLE, header, COLUMNS, rows, created_at=retention_pass["finished_at"])


def _instant(value: datetime | str | None) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else str(value)


def _day(value: date | str) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value)


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)
