"""Excel exports (openpyxl, streaming write): frozen header, autofilter, widths, no formula injection."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy.orm as so
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import PARIS, utcnow
from core.shared.validation import format_phone
from core.staffing.missions import assigned_staff

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="000091")
HEADER_FONT = Font(bold=True, color="FFFFFF")
MAX_WIDTH = 50


def neutralise(value: Any) -> Any:
    """A text cell beginning with = + - @ would run as a formula in Excel: prefix it with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, datetime):
        return value.astimezone(PARIS).replace(tzinfo=None)
    return value


def write_xlsx(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet, streamed (write-only mode keeps memory flat for 100,000 rows)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    widths = [len(c) + 2 for c in columns]
    sheet.freeze_panes = "A2"
    buffered = []
    for row in rows:
        values = [neutralise(v) for v in row]
        for index, value in enumerate(values):
            widths[index] = min(MAX_WIDTH, max(widths[index], len(_shown(value)) + 2))
        buffered.append(values)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        header.append(cell)
    sheet.append(header)
    for values in buffered:
        sheet.append(values)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(buffered) + 1}"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


ASSIGNED_COLUMNS = ("Nom", "Prénom", "Profession", "Téléphone", "Courriel", "Mission", "Début", "Fin", "Affecté le")


def export_filename(kind: str, name: str, today: date) -> str:
    """affectations-CHU-de-Nantes-2026-11-23.xlsx"""
    safe_name = "-".join("".join(c if c.isalnum() else " " for c in name).split())[:40]
    return f"{kind}-{safe_name}-{today:%Y-%m-%d}.xlsx"


def export_assigned_staff(session: so.Session, *, actor: SessionUser | None, establishment_id: int,
                          now: datetime | None = None) -> bytes:
    """The "Voir affectation professionnels" list as .xlsx; the export itself is recorded (who, what)."""
    now = now or utcnow()
    rows = assigned_staff(session, actor=actor, establishment_id=establishment_id)
    content = write_xlsx("Affectations", ASSIGNED_COLUMNS, (
        (r["last_name"], r["first_name"], r["profession"], format_phone(r["phone"]), r["email"], r["mission"],
         r["start_date"], r["end_date"], r["decided_at"]) for r in rows
    ))
    record_event(session, actor_id=actor.id, entity="export", entity_id=establishment_id, action="assigned_staff",
                 details={"rows": len(rows), "nominative": True}, at=now)
    return content
