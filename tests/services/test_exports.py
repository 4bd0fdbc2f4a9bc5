"""« Exports » (issue 11 §2): the files read back cell by cell, pseudonymisation, filters, the audit Event, the
rights of every role, the command line and the bench's measurement — on SQLite and PostgreSQL.

One small world: a Nantes hospital (Pays de la Loire, 52) and a Rennes EHPAD (Bretagne, 53), three missions,
three volunteers with recognisable names, contacts and RPPS numbers, and three assignments (one ongoing in
each region, one cancelled with a free-text reason that names somebody).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from openpyxl import load_workbook

from core.figures.datasets import DATASETS, ExportFilters, pseudonym
from core.figures.exports import (
    ExportFile,
    ExportReceipt,
    ExportRequest,
    build_export,
    export_options,
    prepare_export,
    preview_export,
)
from core.shared.actor import COMMAND_LINE, SessionUser, to_session_user
from core.shared.clock import PARIS
from core.shared.config import get_settings
from core.shared.errors import NotFound, PermissionDenied, ValidationError
from core.shared.validation import format_phone
from db import models as m
from db.session import session_scope
from ops import bench
from ops.cli import main as cli
from tests.factories import (
    END,
    NOW,
    START,
    make_establishment,
    make_mission,
    make_professional,
    make_proposal,
    make_user,
    with_luhn_key,
)
from tests.readers import count, events

REGION, OTHER_REGION = "52", "53"
ROLES = ("anonyme", "professionnel", "etablissement", "pool", "ars", "ars_autre_region", "ccs", "ministere", "admin",
         "operateur")
ALERT_MESSAGE = "Aucune infirmière disponible ; Mme Zébulon est déjà affectée."
CANCEL_REASON = "Absence signalée par M. Quintard-Vasseur"
FORMULA = '=HYPERLINK("http://piege.example","cliquez")'


@dataclass(frozen=True)
class World:
    nantes: int
    rennes: int
    alerted: int  # Nantes, 2 nurses, one assigned, alerted to the CCS, pools opened 6 hours later
    filled: int  # Nantes, 1 carer, filled, then its assignment cancelled (reason naming someone)
    breton: int  # Rennes, 1 nurse, assigned
    volunteers: dict[str, int]
    personal: tuple[str, ...]  # every personal value of the world: none may appear in a pseudonymised export
    actors: dict[str, SessionUser | None]


def build(session: so.Session) -> World:
    nantes = make_establishment(session, "44000", name="CHU de Nantes (test)")
    rennes = make_establishment(session, "35000", name="EHPAD des Lices", category_code="sociaux_hebergement",
                                finess_category_code="500")
    hr = make_user(session, establishment=nantes, first_name="Hortense", last_name="Ressources",
                   email="hortense.ressources@chu-test.example", phone="0240000000")
    hr_rennes = make_user(session, establishment=rennes, first_name="Bertrand", last_name="Lemarchal",
                          email="bertrand.lemarchal@ehpad-test.example")
    ars_user = make_user(session, "ars", ars_code=REGION, first_name="Sophie", last_name="Régulatrice")
    ccs_user = make_user(session, "ccs", first_name="Marcellin", last_name="Crisecentre")
    alerted = make_mission(session, nantes, hr, count=2, start_date=START, end_date=END, specialty=FORMULA,
                           created_at=NOW - timedelta(days=3), contact_name="Gaspard Contactini",
                           contact_phone="0240111213", ccs_alert_at=NOW - timedelta(days=1),
                           ccs_alert_message=ALERT_MESSAGE, pools_opened_at=NOW - timedelta(hours=18))
    filled = make_mission(session, nantes, hr, profession_code="aide_soignant", count=1, start_date=START + timedelta(days=7),
                          end_date=END + timedelta(days=7), created_at=NOW - timedelta(days=2), status="filled")
    breton = make_mission(session, rennes, hr_rennes, count=1, start_date=START, end_date=END,
                          created_at=NOW - timedelta(days=2))
    people = {
        "zebulon": make_professional(session, "44800", first_name="Alexandrine", last_name="Zébulon",
                                     email="alexandrine.zebulon@exemple.fr", phone="0611223344", id_type="rpps",
                                     id_number=with_luhn_key("1000012345"), specialty="@SOMME(1;2)",
                                     verified=True, available_from=None, status="affecte"),
        "quintard": make_professional(session, "44800", first_name="Ysolde", last_name="Quintard",
                                      email="ysolde.quintard@exemple.fr", phone="0655443322",
                                      profession_code="aide_soignant", id_type="adeli", id_number="449876543"),
        "kerjean": make_professional(session, "35400", first_name="Tanguy", last_name="Kerjean",
                                     email="tanguy.kerjean@exemple.fr", phone="0699887766", id_type="rpps",
                                     id_number=with_luhn_key("1000067890"), available_from=None,
                                     status="affecte"),
    }
    make_proposal(session, session.get(m.Mission, alerted.id), people["zebulon"], "affecte", by_user_id=hr.id,
                  created_at=NOW - timedelta(days=2), decided_at=NOW - timedelta(days=1, hours=12))
    make_proposal(session, session.get(m.Mission, filled.id), people["quintard"], "annule", by_user_id=ars_user.id,
                  origin="push", created_at=NOW - timedelta(days=1), decided_at=NOW - timedelta(hours=2),
                  reason=CANCEL_REASON)
    make_proposal(session, session.get(m.Mission, breton.id), people["kerjean"], "affecte", by_user_id=hr_rennes.id,
                  created_at=NOW - timedelta(days=1), decided_at=NOW - timedelta(hours=20))
    users = {
        "professionnel": make_user(session, "professionnel", professional_id=people["zebulon"].id),
        "etablissement": hr,
        "pool": make_user(session, "pool"),
        "ars": ars_user,
        "ars_autre_region": make_user(session, "ars", ars_code=OTHER_REGION, first_name="Yann", last_name="Breizh"),
        "ccs": ccs_user,
        "ministere": make_user(session, "ministere", first_name="Anne", last_name="Ministre"),
        "admin": make_user(session, "admin", first_name="Paulin", last_name="Ardouvel"),
    }
    actors: dict[str, SessionUser | None] = {role: to_session_user(session, user=user) for role, user in users.items()}
    actors["anonyme"], actors["operateur"] = None, COMMAND_LINE
    personal: list[str] = [ALERT_MESSAGE, CANCEL_REASON, "Gaspard Contactini", "Contactini", "0240111213",
                           format_phone("0240111213")]
    for person in people.values():
        personal += [person.first_name, person.last_name, person.email, person.phone, format_phone(person.phone),
                     person.id_number, person.city]
    for user in (hr, hr_rennes, ars_user, ccs_user, users["ars_autre_region"], users["admin"]):
        personal += [user.first_name, user.last_name, user.email, *([user.phone] if user.phone else [])]
    assert {person.city for person in people.values()} == {"SAINT HERBLAIN", "SAINT MALO"}  # no establishment there
    return World(nantes.id, rennes.id, alerted.id, filled.id, breton.id,
                 {name: person.id for name, person in people.items()}, tuple(personal), actors)


# ---------------------------------------------------------------- reading the files back


def export(session: so.Session, actor: SessionUser | None, dataset: str, *, file_format: str = "xlsx",
           nominative: bool = False, step: str = "semaine", **filters: Any) -> tuple[ExportReceipt, ExportFile]:
    request = ExportRequest(dataset, ExportFilters(**filters), nominative=nominative, file_format=file_format,
                            step=step)
    receipt = prepare_export(session, actor=actor, request=request, now=NOW)
    return receipt, build_export(session, actor=actor, receipt=receipt)


def workbook(content: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(content))
    return {sheet.title: [tuple(cell.value for cell in row) for row in sheet.iter_rows()] for sheet in book.worksheets}


def records(content: bytes, sheet: str) -> list[dict[str, Any]]:
    header, *rows = workbook(content)[sheet]
    return [dict(zip(header, row, strict=False)) for row in rows]


def about(content: bytes) -> dict[str, Any]:
    return {label: value for label, value in workbook(content)["À propos"]}


def csv_records(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM French Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def every_text(content: bytes, file_format: str) -> list[str]:
    """Every cell of the file (all sheets), as text."""
    if file_format == "csv":
        return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";") for cell in row]
    return [str(cell) for rows in workbook(content).values() for row in rows for cell in row if cell is not None]


def by_mission(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["N° mission"]: row for row in rows}


# ---------------------------------------------------------------- round trips


def test_a_missions_workbook_reads_back_with_its_about_sheet_french_headers_and_typed_cells(uow) -> None:
    with uow() as session:
        world = build(session)
        receipt, file = export(session, world.actors["ccs"], "missions")
    assert file.rows == receipt.rows == 3 and file.file_name == "missions-national-2026-11-23.xlsx"
    book = load_workbook(io.BytesIO(file.content))
    assert book.sheetnames == ["À propos", "Missions"]
    sheet = book["Missions"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:AC4"
    header = [cell.value for cell in sheet[1]]
    assert header[:12] == ["N° mission", "Établissement", "FINESS / GID", "Catégorie", "Département", "Région",
                           "Code postal", "Commune", "Profession", "Spécialité", "Postes demandés", "Postes pourvus"]
    assert "Contact" not in header  # not a nominative export
    assert sheet["A1"].font.b and sheet.column_dimensions["B"].width >= len("CHU de Nantes (test)")
    row = by_mission(records(file.content, "Missions"))[world.alerted]
    assert row["Établissement"] == "CHU de Nantes (test)" and row["Département"] == "44 — Loire-Atlantique"
    assert row["Région"] == "Pays de la Loire" and row["Profession"] == "Infirmier diplômé d'État"
    assert (row["Postes demandés"], row["Postes pourvus"], row["Pourvue"]) == (2, 1, "POURVUE 1/2")
    assert row["Début"] == datetime(2026, 11, 25) and row["Fin"] == datetime(2026, 12, 8)
    assert row["Statut"] == "Ouverte" and row["Expérience EHPAD"] == "Non" and isinstance(row["Score d'urgence"], int)
    assert row["Alerte au CCS le"] == (NOW - timedelta(days=1)).astimezone(PARIS).replace(tzinfo=None)  # Paris time
    cells = {cell.column_letter: cell for cell in sheet[2]}
    start_column = header.index("Début")
    assert sheet.cell(2, start_column + 1).number_format == "dd/mm/yyyy"
    assert sheet.cell(2, header.index("Alerte au CCS le") + 1).number_format == "dd/mm/yyyy hh:mm"
    assert cells["A"].data_type == "n" and cells["B"].data_type == "s"
    assert by_mission(records(file.content, "Missions"))[world.filled]["Statut"] == "Pourvue"
    lines = about(file.content)
    assert lines["Jeu de données"] == "Missions" and lines["Périmètre"] == "National" and lines["Filtres"] == "aucun"
    assert lines["Nombre de lignes"] == 3 and lines["Exporté le"] == NOW.astimezone(PARIS).replace(tzinfo=None)
    assert lines["Exporté par"] == "Marcellin Crisecentre — Centre de crise sanitaire"
    assert lines["Données personnelles"].startswith("Pseudonymisées")
    assert lines["Source"].startswith("Renfort RH (") and str(receipt.event_id) in lines["Journal"]


def test_a_csv_is_utf8_with_a_bom_semicolons_french_dates_and_decimal_commas(uow) -> None:
    with uow() as session:
        world = build(session)
        _, missions = export(session, world.actors["ccs"], "missions", file_format="csv", nominative=True)
        _, alerts = export(session, world.actors["ccs"], "alertes", file_format="csv")
    assert missions.file_name == "missions-national-nominatif-2026-11-23.csv" and missions.mime == "text/csv"
    assert missions.content.decode("utf-8-sig").splitlines()[0].startswith("N° mission;Établissement;FINESS / GID;")
    row = {int(r["N° mission"]): r for r in csv_records(missions.content)}[world.alerted]
    assert (row["Début"], row["Fin"], row["Postes demandés"], row["Pourvue"]) == ("25/11/2026", "08/12/2026", "2",
                                                                                  "POURVUE 1/2")
    assert row["Contact"] == "Gaspard Contactini" and row["Téléphone du contact"] == "02 40 11 12 13"
    assert row["Créée par"] == "Hortense Ressources" and row["Spécialité"] == "'" + FORMULA
    alert = csv_records(alerts.content)[0]
    assert alert["Délai de réponse (heures)"] == "6,0" and alert["Suite donnée"] == "Viviers nationaux ouverts"
    assert alert["Alerte le"] == (NOW - timedelta(days=1)).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def test_text_that_excel_would_run_as_a_formula_is_neutralised_in_both_formats(uow) -> None:
    with uow() as session:
        world = build(session)
        _, missions = export(session, world.actors["ccs"], "missions")
        _, volunteers = export(session, world.actors["ccs"], "professionnels", file_format="csv")
    sheet = load_workbook(io.BytesIO(missions.content))["Missions"]
    specialty = next(cell for cell in sheet["J"] if cell.value and "HYPERLINK" in cell.value)
    assert specialty.value == "'" + FORMULA and specialty.data_type == "s"
    assert "'@SOMME(1;2)" in {row["Spécialité"] for row in csv_records(volunteers.content)}
    assert not any(text.startswith(("=", "+", "-", "@")) for text in every_text(missions.content, "xlsx"))


def test_assignments_say_who_where_when_and_by_whom(uow) -> None:
    with uow() as session:
        world = build(session)
        _, named = export(session, world.actors["ccs"], "affectations", nominative=True)
        _, pseudonymised = export(session, world.actors["ccs"], "affectations")
    rows = {row["Nom"]: row for row in records(named.content, "Affectations")}
    zebulon = rows["Zébulon"]
    assert (zebulon["Prénom"], zebulon["Courriel"], zebulon["Téléphone"]) == (
        "Alexandrine", "alexandrine.zebulon@exemple.fr", "06 11 22 33 44")
    assert zebulon["Type d'identifiant"] == "RPPS" and zebulon["N° RPPS / ADELI"] == with_luhn_key("1000012345")
    assert zebulon["Commune du professionnel"] == "SAINT HERBLAIN" and zebulon["N° mission"] == world.alerted
    assert zebulon["Établissement"] == "CHU de Nantes (test)" and zebulon["Statut"] == "Affecté"
    assert zebulon["Sollicité par"] == "Hortense Ressources" and zebulon["Sollicité par (rôle)"] == "Établissement"
    assert zebulon["Début"] == datetime(2026, 11, 25)
    cancelled = rows["Quintard"]
    assert cancelled["Statut"] == "Affectation annulée" and cancelled["Motif d'annulation"] == CANCEL_REASON
    assert cancelled["Origine"] == "Proposé par l'ARS ou le CCS" and cancelled["Sollicité par (rôle)"] == "ARS"
    hidden = {row["Pseudonyme"]: row for row in records(pseudonymised.content, "Affectations")}
    assert set(hidden) == {pseudonym(world.volunteers[name], get_settings().pseudonym_key)
                           for name in ("zebulon", "quintard", "kerjean")}
    first = hidden[pseudonym(world.volunteers["zebulon"], get_settings().pseudonym_key)]
    assert first["Département du professionnel"] == "44 — Loire-Atlantique" and "Nom" not in first
    assert "Motif d'annulation" not in first and "Sollicité par" not in first


def test_the_pool_export_gives_mobility_availability_status_verification_and_recent_solicitations(uow) -> None:
    with uow() as session:
        world = build(session)
        _, file = export(session, world.actors["ars"], "professionnels", nominative=True)
    rows = {row["Nom"]: row for row in records(file.content, "Professionnels")}
    assert set(rows) == {"Zébulon", "Quintard"}  # the ARS's region only: Kerjean lives in Brittany
    zebulon = rows["Zébulon"]
    assert zebulon["Département"] == "44 — Loire-Atlantique" and zebulon["Mobilité"] == "Départementale"
    assert zebulon["Vérifié"] == "Oui" and zebulon["Statut"] == "Affecté"
    assert zebulon["Sollicitations (30 jours)"] == 1 and zebulon["Disponible à partir du"] is None
    assert rows["Quintard"]["Disponible à partir du"] == datetime.combine(date.today(), datetime.min.time())
    assert about(file.content)["Périmètre"] == "ARS Pays de la Loire"
    assert about(file.content)["Données personnelles"].startswith("Nominatives")


def test_establishments_list_identifier_category_region_accounts_and_open_needs(uow) -> None:
    with uow() as session:
        world = build(session)
        _, file = export(session, world.actors["ministere"], "etablissements")
    rows = {row["Établissement"]: row for row in records(file.content, "Établissements")}
    nantes = rows["CHU de Nantes (test)"]
    assert nantes["ARS"] == "Pays de la Loire" and nantes["Catégorie"].startswith("Établissements relevant de la loi")
    assert (nantes["Comptes"], nantes["Comptes actifs"], nantes["Missions"], nantes["Besoins ouverts"],
            nantes["Postes ouverts non pourvus"]) == (1, 1, 2, 1, 1)
    assert rows["EHPAD des Lices"]["ARS"] == "Bretagne" and nantes["FINESS / GID"].isdigit()
    assert (rows["EHPAD des Lices"]["Catégorie FINESS"], nantes["Catégorie FINESS"]) == ("EHPAD", None)


def test_statistics_give_posts_per_week_tension_and_the_funnel(uow) -> None:
    with uow() as session:
        world = build(session)
        _, file = export(session, world.actors["ccs"], "statistiques", ars_code=REGION)
        _, daily = export(session, world.actors["ccs"], "statistiques", file_format="csv", step="jour")
    posts = records(file.content, "Postes")
    nurses = next(row for row in posts if row["Profession"] == "Infirmier diplômé d'État")
    assert nurses["Période (début)"] == datetime(2026, 11, 23)  # the Monday of the week of 25/11
    assert (nurses["Région"], nurses["Département"], nurses["Missions"], nurses["Postes demandés"],
            nurses["Postes pourvus"], nurses["Postes non pourvus"], nurses["Taux de pourvoi"]) == (
        "Pays de la Loire", "44 — Loire-Atlantique", 1, 2, 1, 1, 0.5)
    assert nurses["Délai médian de pourvoi (heures)"] == 36.0  # created 3 days before NOW, assigned 1.5 days before
    assert {row["Région"] for row in posts} == {"Pays de la Loire"}
    tension = {(row["Département"], row["Profession"]): row for row in records(file.content, "Tension")}
    nantes_nurses = tension[("44 — Loire-Atlantique", "Infirmier diplômé d'État")]
    assert (nantes_nurses["Postes ouverts non pourvus"], nantes_nurses["Volontaires disponibles"]) == (1, 0)
    funnel = {(row["Département"], row["Profession"]): row for row in records(file.content, "Entonnoir")}
    carers = funnel[("44 — Loire-Atlantique", "Aide-soignant")]
    assert (carers["Inscrits"], carers["Vérifiés"], carers["Sollicités"], carers["Affectés"]) == (1, 0, 1, 0)
    assert about(file.content)["Lignes de la feuille « Entonnoir »"] == len(funnel)
    days = csv_records(daily.content)
    assert {row["Période (début)"] for row in days} == {"25/11/2026", "02/12/2026"}


def test_alerts_say_what_the_ccs_did_and_how_fast(uow) -> None:
    with uow() as session:
        world = build(session)
        with session.begin_nested():
            session.get(m.Mission, world.breton).ccs_alert_at = NOW - timedelta(hours=3)
        _, file = export(session, world.actors["ccs"], "alertes", nominative=True)
    rows = by_mission(records(file.content, "Alertes"))
    assert rows[world.alerted]["Suite donnée"] == "Viviers nationaux ouverts"
    assert rows[world.alerted]["Délai de réponse (heures)"] == 6.0 and rows[world.alerted]["Message de l'ARS"] == ALERT_MESSAGE
    assert rows[world.breton]["Suite donnée"] == "En attente du CCS"
    assert rows[world.breton]["Délai de réponse (heures)"] is None and rows[world.breton]["Région"] == "Bretagne"


# ---------------------------------------------------------------- pseudonymisation


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_no_name_email_phone_rpps_town_or_free_text_anywhere_in_a_ministry_export(uow, file_format: str) -> None:
    with uow() as session:
        world = build(session)
        texts = {dataset: every_text(export(session, world.actors["ministere"], dataset,
                                            file_format=file_format)[1].content, file_format)
                 for dataset in DATASETS}
        # Positive control: the same check finds the names in a nominative export.
        named = every_text(export(session, world.actors["ccs"], "affectations", nominative=True,
                                  file_format=file_format)[1].content, file_format)
    assert all(texts.values())
    for dataset, cells in texts.items():
        for cell in cells:
            leaks = [value for value in world.personal if value and value in cell]
            assert not leaks, f"{dataset} : « {cell} » contient {leaks}"
    assert any("Zébulon" in cell for cell in named)


def test_the_ministry_cannot_ask_for_names_and_nothing_is_recorded(uow) -> None:
    with uow() as session:
        world = build(session)
        before = count(session, m.Event)
        request = ExportRequest("professionnels", nominative=True)
        with pytest.raises(PermissionDenied, match="pseudonymisés uniquement"):
            prepare_export(session, actor=world.actors["ministere"], request=request, now=NOW)
        with pytest.raises(PermissionDenied):
            preview_export(session, actor=world.actors["ministere"], request=request, now=NOW)
        assert count(session, m.Event) == before
        assert export_options(session, actor=world.actors["ministere"]).names_allowed is False


def test_a_volunteer_keeps_one_pseudonym_across_exports_and_datasets_and_another_key_gives_another(
        uow, monkeypatch: pytest.MonkeyPatch) -> None:
    with uow() as session:
        world = build(session)
        first = records(export(session, world.actors["ministere"], "professionnels")[1].content, "Professionnels")
        again = records(export(session, world.actors["ccs"], "professionnels")[1].content, "Professionnels")
        assigned = records(export(session, world.actors["ministere"], "affectations")[1].content, "Affectations")
        monkeypatch.setenv("RENFORT_PSEUDONYM_KEY", "une-autre-cle-de-production")
        get_settings.cache_clear()
        try:
            rekeyed = records(export(session, world.actors["ministere"], "professionnels")[1].content,
                              "Professionnels")
        finally:
            monkeypatch.delenv("RENFORT_PSEUDONYM_KEY")
            get_settings.cache_clear()
    names = [row["Pseudonyme"] for row in first]
    assert len(set(names)) == 3 and all(name.startswith("V-") and len(name) == 18 for name in names)
    assert names == [row["Pseudonyme"] for row in again]
    assert {row["Pseudonyme"] for row in assigned} == set(names)  # the same volunteer, from the pool to the mission
    assert not set(names) & {row["Pseudonyme"] for row in rekeyed}
    assert "N° professionnel" not in first[0] and "Commune" not in first[0] and first[0]["Département"]


# ---------------------------------------------------------------- filters and scopes


def mission_ids(session: so.Session, actor: SessionUser | None, **filters: Any) -> set[int]:
    return set(by_mission(records(export(session, actor, "missions", **filters)[1].content, "Missions")))


def test_each_filter_narrows_the_missions(uow) -> None:
    with uow() as session:
        w = build(session)
        ccs = w.actors["ccs"]
        assert mission_ids(session, ccs) == {w.alerted, w.filled, w.breton}
        assert mission_ids(session, ccs, ars_code=REGION) == {w.alerted, w.filled}
        assert mission_ids(session, ccs, department_code="35") == {w.breton}
        assert mission_ids(session, ccs, profession_code="aide_soignant") == {w.filled}
        assert mission_ids(session, ccs, category_code="sociaux_hebergement") == {w.breton}
        assert mission_ids(session, ccs, statuses=("filled",)) == {w.filled}
        # The period keeps the missions whose dates overlap it.
        assert mission_ids(session, ccs, start=END + timedelta(days=1)) == {w.filled}
        assert mission_ids(session, ccs, end=START - timedelta(days=1)) == set()
        assert mission_ids(session, ccs, start=START, end=START) == {w.alerted, w.breton}


def test_the_period_of_the_pool_is_availability_and_that_of_alerts_the_day_they_were_raised(uow) -> None:
    with uow() as session:
        w = build(session)
        with session.begin_nested():
            session.get(m.Professional, w.volunteers["kerjean"]).available_to = START - timedelta(days=1)
        pool = records(export(session, w.actors["ccs"], "professionnels", start=START, end=END, nominative=True)[1]
                       .content, "Professionnels")
        assert {row["Nom"] for row in pool} == {"Zébulon", "Quintard"}
        yesterday = (NOW - timedelta(days=1)).astimezone(PARIS).date()
        raised = records(export(session, w.actors["ccs"], "alertes", start=yesterday, end=yesterday)[1].content,
                         "Alertes")
        assert [row["N° mission"] for row in raised] == [w.alerted]
        assert records(export(session, w.actors["ccs"], "alertes", start=yesterday + timedelta(days=1))[1].content,
                       "Alertes") == []


def test_an_ars_exports_its_region_only(uow) -> None:
    with uow() as session:
        w = build(session)
        assert mission_ids(session, w.actors["ars"]) == {w.alerted, w.filled}
        assert mission_ids(session, w.actors["ars_autre_region"]) == {w.breton}
        with pytest.raises(PermissionDenied, match="sa région"):
            prepare_export(session, actor=w.actors["ars"], now=NOW,
                           request=ExportRequest("missions", ExportFilters(ars_code=OTHER_REGION)))
        with pytest.raises(ValidationError, match="ne relève pas") as refused:
            preview_export(session, actor=w.actors["ars"], now=NOW,
                           request=ExportRequest("missions", ExportFilters(department_code="35")))
        assert refused.value.field == "department_code"
        options = export_options(session, actor=w.actors["ars"])
        assert options.fixed_region == REGION and options.regions == {REGION: "Pays de la Loire"}
        assert options.names_allowed and set(options.datasets) == set(DATASETS)


def test_an_establishment_exports_the_missions_and_assignments_of_its_own_establishments_only(uow) -> None:
    with uow() as session:
        w = build(session)
        hr = w.actors["etablissement"]
        assert mission_ids(session, hr) == {w.alerted, w.filled}
        assert about(export(session, hr, "missions")[1].content)["Périmètre"] == "Établissement : CHU de Nantes (test)"
        assert mission_ids(session, hr, ars_code=OTHER_REGION) == {w.alerted, w.filled}  # no region of its own to pick
        rows = records(export(session, hr, "affectations", nominative=True)[1].content, "Affectations")
        assert {row["Nom"] for row in rows} == {"Zébulon", "Quintard"}
        for dataset in ("professionnels", "etablissements", "statistiques", "alertes"):
            with pytest.raises(PermissionDenied, match="missions et ses affectations"):
                preview_export(session, actor=hr, request=ExportRequest(dataset), now=NOW)
        options = export_options(session, actor=hr)
        assert list(options.datasets) == ["missions", "affectations"] and options.regions == {}
        assert options.scope_label == "Établissement : CHU de Nantes (test)"
        assert "region" not in options.filters["missions"]


@pytest.mark.parametrize(("filters", "field"), [
    (ExportFilters(ars_code="99"), "ars_code"), (ExportFilters(department_code="999"), "department_code"),
    (ExportFilters(profession_code="astronaute"), "profession_code"), (ExportFilters(category_code="x"), "category_code"),
    (ExportFilters(statuses=("en_vacances",)), "statuses"), (ExportFilters(start=END, end=START), "period"),
])
def test_a_bad_filter_is_refused_with_its_field_and_nothing_is_recorded(uow, filters: ExportFilters, field: str) -> None:
    with uow() as session:
        w = build(session)
        before = count(session, m.Event)
        with pytest.raises(ValidationError) as refused:
            prepare_export(session, actor=w.actors["ccs"], request=ExportRequest("missions", filters), now=NOW)
        assert refused.value.field == field and count(session, m.Event) == before


def test_the_preview_shows_the_first_rows_and_the_count_of_the_file(uow) -> None:
    with uow() as session:
        w = build(session)
        preview = preview_export(session, actor=w.actors["ccs"], request=ExportRequest("missions"), limit=2, now=NOW)
        assert preview.total == 3 and len(preview.rows) == 2 and preview.columns[0] == "N° mission"
        assert [row[0] for row in preview.rows] == sorted([w.alerted, w.filled, w.breton])[:2]
        assert preview.file_name == "missions-national-2026-11-23.xlsx" and count(session, m.Event) == 0


# ---------------------------------------------------------------- the audit Event


def test_each_export_records_who_what_filters_names_and_rows_in_its_region(uow) -> None:
    with uow() as session:
        w = build(session)
        export(session, w.actors["ars"], "professionnels", nominative=True, profession_code="infirmier_de")
        export(session, w.actors["ministere"], "missions", file_format="csv", start=START)
        export(session, w.actors["etablissement"], "affectations")
        export(session, COMMAND_LINE, "alertes")
        regional, national, own, operator = events(session, "exported")
    assert (regional.entity, regional.actor_user_id, regional.ars_code) == ("export", w.actors["ars"].id, REGION)
    assert regional.details == {"dataset": "professionnels", "filters": {"region": REGION, "profession": "infirmier_de"},
                                "nominative": True, "rows": 1, "format": "xlsx"}
    assert national.ars_code is None and national.details == {
        "dataset": "missions", "filters": {"from": START.isoformat()}, "nominative": False, "rows": 3, "format": "csv"}
    assert own.ars_code == REGION and own.details["establishments"] == [w.nantes] and own.details["rows"] == 2
    assert operator.actor_user_id is None and operator.details["acteur"] == "ligne de commande"
    assert not any(value in str(event.details) for event in (regional, national, own, operator)
                   for value in w.personal if value)


def test_a_file_is_built_only_for_the_export_recorded_by_the_same_reader(uow) -> None:
    with uow() as session:
        w = build(session)
        receipt = prepare_export(session, actor=w.actors["ars"], request=ExportRequest("missions"), now=NOW)
        with pytest.raises(PermissionDenied):
            build_export(session, actor=w.actors["ccs"], receipt=receipt)
        with pytest.raises(NotFound):
            build_export(session, actor=w.actors["ars"], receipt=ExportReceipt(
                receipt.event_id + 99, receipt.request, receipt.rows, receipt.at, receipt.file_name))
        seen: list[tuple[int, int]] = []
        built = build_export(session, actor=w.actors["ars"], receipt=receipt,
                             progress=lambda done, expected: seen.append((done, expected)))
    assert built.rows == 2 and seen[0] == (0, 2) and seen[-1] == (2, 2)


# ---------------------------------------------------------------- who may do what (every service, every role)

EXPORTERS = frozenset({"ministere", "ccs", "ars", "etablissement", "ars_autre_region", "operateur"})
NATIONAL_OR_REGION = frozenset({"ministere", "ccs", "ars", "operateur"})  # region 52's data, non-nominative


@dataclass(frozen=True)
class Service:
    call: Callable[[so.Session, World, SessionUser | None], Any]
    allowed: frozenset[str]
    succeeded: Callable[[so.Session, World, Any], bool]


def _ccs_receipt(session: so.Session, world: World) -> ExportReceipt:
    return prepare_export(session, actor=world.actors["ccs"], request=ExportRequest("missions"), now=NOW)


REGIONAL = ExportFilters(ars_code=REGION)
SERVICES: dict[str, Service] = {
    "export_options": Service(
        lambda s, w, a: export_options(s, actor=a), EXPORTERS, lambda s, w, r: "missions" in r.datasets),
    "preview_export missions": Service(
        lambda s, w, a: preview_export(s, actor=a, request=ExportRequest("missions", REGIONAL), now=NOW),
        NATIONAL_OR_REGION | {"etablissement"}, lambda s, w, r: r.total == 2),
    "preview_export professionnels": Service(
        lambda s, w, a: preview_export(s, actor=a, request=ExportRequest("professionnels", REGIONAL), now=NOW),
        NATIONAL_OR_REGION, lambda s, w, r: r.total == 2),
    "prepare_export affectations": Service(
        lambda s, w, a: prepare_export(s, actor=a, request=ExportRequest("affectations", REGIONAL), now=NOW),
        NATIONAL_OR_REGION | {"etablissement"},
        lambda s, w, r: r.rows == 2 and count(s, m.Event, m.Event.action == "exported") == 1),
    "prepare_export nominatif": Service(
        lambda s, w, a: prepare_export(s, actor=a, request=ExportRequest("professionnels", REGIONAL, nominative=True),
                                       now=NOW),
        frozenset({"ccs", "ars", "operateur"}), lambda s, w, r: events(s, "exported")[-1].details["nominative"]),
    "build_export": Service(
        lambda s, w, a: build_export(s, actor=a, receipt=_ccs_receipt(s, w)), frozenset({"ccs"}),
        lambda s, w, r: r.rows == 3 and load_workbook(io.BytesIO(r.content)).sheetnames == ["À propos", "Missions"]),
}


def test_every_public_service_is_in_the_matrix() -> None:
    from core.figures import exports

    services = {name for name, value in vars(exports).items() if callable(value) and not name.startswith("_")
                and getattr(value, "__module__", None) == exports.__name__ and not isinstance(value, type)}
    helpers = {"file_name", "about_lines", "export_filename", "export_assigned_staff"}  # the last one: issue 6's
    assert services - helpers == {name.split()[0] for name in SERVICES}


@pytest.mark.parametrize(("service", "role"), [
    pytest.param(name, role, id=f"{name}-{role}") for name, service in SERVICES.items()
    for role in ROLES if role not in service.allowed])
def test_a_forbidden_role_is_refused_and_nothing_is_written(uow, service: str, role: str) -> None:
    with uow() as session:
        world = build(session)
        receipt = _ccs_receipt(session, world) if service == "build_export" else None
        before = count(session, m.Event)
        with pytest.raises(PermissionDenied):
            if receipt is None:
                SERVICES[service].call(session, world, world.actors[role])
            else:
                build_export(session, actor=world.actors[role], receipt=receipt)
        assert count(session, m.Event) == before and not session.new and not session.dirty


@pytest.mark.parametrize(("service", "role"), [
    pytest.param(name, role, id=f"{name}-{role}") for name, service in SERVICES.items() for role in sorted(service.allowed)])
def test_an_allowed_role_gets_the_service(uow, service: str, role: str) -> None:
    with uow() as session:
        world = build(session)
        actor = world.actors[role]
        if role == "ars_autre_region":  # its own region, the only one it may export
            assert set(export_options(session, actor=actor).regions) == {OTHER_REGION}
        assert SERVICES[service].succeeded(session, world, SERVICES[service].call(session, world, actor))


# ---------------------------------------------------------------- command line and bench


def test_the_command_line_exports_pseudonymised_unless_asked_and_records_the_operator(db_url: str, tmp_path,
                                                                                      capsys) -> None:
    with session_scope(db_url) as session:
        world = build(session)
    out = tmp_path / "missions.xlsx"
    assert cli(["--db", db_url, "export", "missions", "--out", str(out), "--ars", REGION, "--from", "25/11/2026",
                "--to", "2026-12-02"]) == 0
    assert "2 ligne(s) exportée(s)" in capsys.readouterr().out
    rows = by_mission(records(out.read_bytes(), "Missions"))
    assert set(rows) == {world.alerted, world.filled} and "Contact" not in rows[world.alerted]
    lines = about(out.read_bytes())
    assert lines["Exporté par"] == "Ligne de commande (opérateur de la plateforme)"
    assert lines["Filtre : période"] == "du 25/11/2026 au 02/12/2026"
    named = tmp_path / "affectations.csv"
    assert cli(["--db", db_url, "export", "affectations", "--out", str(named), "--nominatif"]) == 0
    assert {row["Nom"] for row in csv_records(named.read_bytes())} == {"Zébulon", "Quintard", "Kerjean"}
    with session_scope(db_url, read_only=True) as session:
        recorded = events(session, "exported")
        assert [(e.actor_user_id, e.details["acteur"], e.details["nominative"]) for e in recorded] == [
            (None, "ligne de commande", False), (None, "ligne de commande", True)]
        assert recorded[0].ars_code == REGION
    assert cli(["--db", db_url, "export", "missions", "--out", str(tmp_path / "missions.pdf")]) == 1
    assert cli(["--db", db_url, "export", "missions", "--out", str(out), "--ars", "99"]) == 1
    assert "Région inconnue" in capsys.readouterr().err


def test_the_bench_measures_the_export_of_the_pool_in_a_child_process(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        build(session)
    # The bench process is large when it measures (data set, AppTest runs): the child's peak must be its own.
    ballast = bytearray(600 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))  # resident, not just reserved
    measured = bench.measure_export(sqlite_url, say=lambda text: None)
    del ballast
    assert measured["rows"] == 3 and 0 < measured["seconds"] < measured["target_seconds"] == 20
    assert 20 < measured["peak_mb"] < 300 and measured["target_mb"] == 500 and measured["ok"] is True
    report = {"engine": "sqlite", "cpu_count": 2, "dataset": {}, "operations": {}, "export": measured,
              "naive_speedup": {"ratio": None, "ok": None}, "peak_memory_mb": {"value": 100, "ok": True}}
    assert "Export de 3 volontaires" in bench.format_table(report) and bench.all_ok(report)
    assert not bench.all_ok({**report, "export": {**measured, "ok": False}})
    with session_scope(sqlite_url, read_only=True) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Event).where(m.Event.action == "exported")) == 1
