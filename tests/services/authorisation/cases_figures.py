"""Rows of the authorisation table for core/figures: exports, dashboards, the audit journal, public figures.

« Exports » (DESIGN §6, issue 11): the ministry (national, pseudonymised only), the CCS (national), each ARS (its
region only) and establishment accounts (the missions and assignments of their own establishments); a nominative
export is for the CCS and the ARS of the region — never the ministry, never an admin (who exports nothing). A file
is built from the receipt its own account prepared. The assigned staff of an establishment (names, phones,
e-mails) as .xlsx: its own accounts, its ARS, the CCS and admins — never the ministry (issue 12). The region's
dashboard: its ARS and the national roles (CCS, ministry, admin); the national overview: the national roles. The
journal: admins, the CCS and each ARS for the events of its region (not the ministry). The home page's headline
figures are public.
"""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy.orm as so
from openpyxl import load_workbook

from core.figures import exports, indicators, journal, stats, tension_history
from core.figures.datasets import ExportFilters
from core.shared.actor import SessionUser
from core.shared.clock import paris_today, utcnow
from core.shared.errors import PermissionDenied
from db import models as m
from tests.factories import NOW
from tests.services.authorisation.world import (
    EVERYONE,
    NATIONAL,
    READERS,
    REGION,
    Service,
    World,
    assigned,
    last_action,
    professional,
)

EXPORTERS = frozenset({"etablissement", "etablissement_autre", "ars", "ars_autre_region", "ccs", "ministere"})
REGION_EXPORTERS = EXPORTERS - {"ars_autre_region"}  # region 52's data: an establishment gets its own rows
JOURNAL_READERS = frozenset({"ars", "ars_autre_region", "ccs", "admin"})
REGIONAL = ExportFilters(ars_code=REGION)
REGION_JOURNAL = journal.JournalFilters(ars_code=REGION)
MISSIONS = exports.ExportRequest("missions", REGIONAL)
NOMINATIVE = exports.ExportRequest("professionnels", REGIONAL, nominative=True)


def _missions_of_the_scope(result: Any) -> bool:
    """Region 52's missions: both for a regional or national reader, its own one for an establishment."""
    if result.scope_label.startswith("Établissement"):
        return result.total == 1
    return result.scope_label == "ARS Pays de la Loire" and result.total == 2


def _recorded(session: so.Session, receipt: exports.ExportReceipt) -> bool:
    event = session.get(m.Event, receipt.event_id)
    return (receipt.rows == 1 and event.action == "exported" and event.ars_code == REGION
            and event.details["dataset"] == "professionnels" and event.details["nominative"] is True)


def _build(session: so.Session, world: World, actor: SessionUser | None) -> exports.ExportFile:
    """What the page does: the export recorded by this account, then its file built. An account that may not
    prepare it hands build_export a receipt of no event, so that build_export's own check is what refuses it
    (without it, the receipt's unknown event would give NotFound)."""
    try:
        receipt = exports.prepare_export(session, actor=actor, request=MISSIONS, now=NOW)
    except PermissionDenied:
        receipt = exports.ExportReceipt(event_id=0, request=MISSIONS, rows=0, at=NOW, file_name="missions.xlsx")
    return exports.build_export(session, actor=actor, receipt=receipt)


def _built(built: exports.ExportFile) -> bool:
    workbook = load_workbook(io.BytesIO(built.content), read_only=True)
    expected = 1 if "-etablissement-" in built.file_name else 2
    return workbook.sheetnames == ["À propos", "Missions"] and built.rows == expected


def _journal(session: so.Session, world: World, actor: SessionUser | None) -> journal.JournalPage:
    """Region 52's journal read (the rule of the cell: a refused account stops here, nothing written), then read
    again once an export of it is recorded, so that the page has an event of the region to show."""
    journal.journal(session, actor=actor, filters=REGION_JOURNAL)
    journal.export_journal(session, actor=actor, filters=REGION_JOURNAL, now=NOW)
    return journal.journal(session, actor=actor, filters=REGION_JOURNAL)


def _journal_export(content: bytes) -> bool:
    header = next(load_workbook(io.BytesIO(content), read_only=True).worksheets[0].iter_rows(values_only=True))
    return content.startswith(b"PK") and header == journal.COLUMNS


def _assigned_staff(session: so.Session, world: World, actor: SessionUser | None) -> bytes:
    """The world's nurse assigned to its mission, then the establishment's assigned staff as .xlsx."""
    return exports.export_assigned_staff(session, actor=actor, establishment_id=assigned(session, world), now=NOW)


def _staff_listed(session: so.Session, world: World, content: bytes) -> bool:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return (len(rows) == 2 and rows[1][0] == professional(session, world).last_name
            and last_action(session, "export") == "assigned_staff")


CASES: dict[str, Service] = {
    "exports.export_options": Service(
        lambda s, w, a: exports.export_options(s, actor=a), EXPORTERS,
        lambda s, w, r: "missions" in r.datasets and r.datasets.keys() == r.descriptions.keys()
        and (r.fixed_region is None or set(r.regions) == {r.fixed_region}),
        "un établissement : ses missions et affectations ; une ARS : sa région ; pas l'administrateur"),
    "exports.preview_export": Service(
        lambda s, w, a: exports.preview_export(s, actor=a, request=MISSIONS, now=NOW), REGION_EXPORTERS,
        lambda s, w, r: _missions_of_the_scope(r) and len(r.rows) == r.total,
        "missions de la région 52 : un établissement n'en voit que les siennes ; l'ARS d'une autre région non"),
    "exports.prepare_export": Service(
        lambda s, w, a: exports.prepare_export(s, actor=a, request=NOMINATIVE, now=NOW), frozenset({"ars", "ccs"}),
        lambda s, w, r: _recorded(s, r),
        "export nominatif des volontaires de la région : son ARS et le CCS ; le ministère, pseudonymisé seulement"),
    "exports.build_export": Service(
        _build, REGION_EXPORTERS,
        lambda s, w, r: _built(r),
        "le reçu préparé par le même compte (celui d'un autre compte est refusé)"),
    "exports.export_assigned_staff": Service(
        _assigned_staff, frozenset({"etablissement", "ars", "ccs", "admin"}),
        lambda s, w, r: _staff_listed(s, w, r),
        "nominatif : son établissement, son ARS, le CCS, l'administrateur ; jamais le ministère"),
    "indicators.region_indicators": Service(
        lambda s, w, a: indicators.region_indicators(s, actor=a, ars_code=REGION, now=NOW), READERS,
        lambda s, w, r: r.ars_code == REGION and sum(row.requested for row in r.posts_by_department) == 2
        and sum(row.volunteers for row in r.available_by_profession_and_department) == 1),
    "indicators.national_overview": Service(
        lambda s, w, a: indicators.national_overview(s, actor=a, now=NOW), NATIONAL,
        lambda s, w, r: (r.headline.open_missions, r.headline.posts_requested, r.headline.available_volunteers,
                         r.headline.open_alerts) == (2, 2, 1, 1)),
    # the world's missions are created at the real time: the snapshot is taken now, not at NOW
    "tension_history.tension_history": Service(
        lambda s, w, a: (tension_history.take_snapshot(s, now=utcnow()),
                         tension_history.tension_history(s, actor=a, ars_code=REGION))[1], READERS,
        lambda s, w, r: (r.latest.day, r.latest.requested, r.latest.available) == (paris_today(), 2, 1),
        "la région 52 ; la France entière : les rôles nationaux seulement"),
    "journal.journal": Service(
        _journal, frozenset({"ars", "ccs", "admin"}),
        lambda s, w, r: r.total == 1 and [(row["action"], row["entity"], row["region"]) for row in r.rows]
        == [("journal", "export", "Pays de la Loire")],
        "journal de la région 52 : son ARS, le CCS, l'administrateur ; jamais le ministère"),
    "journal.export_journal": Service(
        lambda s, w, a: journal.export_journal(s, actor=a, filters=journal.JournalFilters(), now=NOW),
        JOURNAL_READERS,
        lambda s, w, r: _journal_export(r) and last_action(s, "export") == "journal",
        "une ARS : les événements de sa région seulement"),
    "stats.national_figures": Service(
        lambda s, w, a: stats.national_figures(s, actor=a), EVERYONE,
        lambda s, w, r: r == stats.NationalFigures(volunteers_available=1, open_missions=2, open_posts=2,
                                                   posts_filled=0),
        "chiffres publics de la page d'accueil"),
}
