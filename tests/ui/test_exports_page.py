"""« Exports » through the whole app (AppTest on app.py), on the seeded demo: what each role sees in the preview
(the values the services give for the same request), and the file « Préparer le fichier » builds — opened
with openpyxl, recorded in the audit trail."""

from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from core.figures.datasets import ExportFilters
from core.figures.exports import ExportPreview, ExportRequest, preview_export
from db import models as m
from db.session import session_scope
from tests.readers import count_at, user_at
from tests.ui.conftest import open_page, signed_in
from tests.ui.readers import button, errors, served_files, table, texts
from ui.format import fr_int

EXPORTS = "exports-de-donnees"
MINISTRY, CCS, ARS, ESTABLISHMENT = ("ministere@example.org", "ccs@example.org", "ars.paysdelaloire@example.org",
                                     "etablissement@example.org")
ROLES = {MINISTRY: "ministere", CCS: "ccs", ARS: "ars", ESTABLISHMENT: "etablissement"}
NOMINATIVE = "Export nominatif (noms, coordonnées et numéros RPPS des personnes)"


def _open(app: AppTest, email: str) -> AppTest:
    signed_in(app, email, ROLES[email])
    open_page(app, EXPORTS)
    assert not app.exception
    return app


def _expected(url: str, email: str, request: ExportRequest) -> ExportPreview:
    with session_scope(url, read_only=True) as session:
        return preview_export(session, actor=user_at(url, email), request=request)


def _same_rows(app: AppTest, expected: ExportPreview, *columns: str) -> None:
    frame = table(app)
    assert list(frame.columns) == expected.columns
    for column in columns:
        position = expected.columns.index(column)
        assert frame[column].tolist() == [row[position] for row in expected.rows], column
    assert f"**{fr_int(expected.total)} ligne(s)** dans le fichier — {expected.scope_label}." in texts(app.main)


def test_the_ministry_previews_missions_then_the_pool_under_pseudonyms_only(app: AppTest, demo_url: str) -> None:
    _open(app, MINISTRY)
    missions = _expected(demo_url, MINISTRY, ExportRequest("missions"))
    assert missions.total > len(missions.rows) == 20
    _same_rows(app, missions, "N° mission", "Établissement", "Profession", "Pourvue", "Statut")
    assert NOMINATIVE not in [box.label for box in app.checkbox]
    assert any(text.startswith("Exports pseudonymisés") for text in texts(app.main))
    app.selectbox(key="exports_dataset").set_value("professionnels").run()
    pool = _expected(demo_url, MINISTRY, ExportRequest("professionnels"))
    _same_rows(app, pool, "Pseudonyme", "Département", "Profession", "Statut")
    assert "Nom" not in table(app).columns and "Commune" not in table(app).columns
    assert all(name.startswith("V-") for name in table(app)["Pseudonyme"])


def test_the_ccs_may_tick_the_nominative_export_and_then_sees_names(app: AppTest, demo_url: str) -> None:
    _open(app, CCS)
    app.selectbox(key="exports_dataset").set_value("professionnels").run()
    app.checkbox(key="exports_nominative").check().run()
    expected = _expected(demo_url, CCS, ExportRequest("professionnels", nominative=True))
    _same_rows(app, expected, "N° professionnel", "Nom", "Prénom", "Courriel", "Commune")
    with session_scope(demo_url, read_only=True) as session:
        first = session.scalar(sa.select(m.Professional).where(m.Professional.status != "supprime")
                               .order_by(m.Professional.id).limit(1))
        assert table(app)["Nom"].iloc[0] == first.last_name


def test_a_region_and_a_department_narrow_the_preview(app: AppTest, demo_url: str) -> None:
    _open(app, CCS)
    app.selectbox(key="exports_region").set_value("52").run()
    app.selectbox(key="exports_department_52").set_value("44").run()
    expected = _expected(demo_url, CCS, ExportRequest("missions", ExportFilters(ars_code="52", department_code="44")))
    _same_rows(app, expected, "N° mission", "Établissement")
    assert set(table(app)["Département"]) == {"44 — Loire-Atlantique"}
    assert expected.total < _expected(demo_url, CCS, ExportRequest("missions")).total


def test_the_ars_exports_its_own_region_only(app: AppTest, demo_url: str) -> None:
    _open(app, ARS)
    assert app.text_input(key="exports_region_fixed").value == "ARS Pays de la Loire"
    assert app.text_input(key="exports_region_fixed").disabled
    expected = _expected(demo_url, ARS, ExportRequest("missions"))
    _same_rows(app, expected, "N° mission", "Région")
    assert set(table(app)["Région"]) == {"Pays de la Loire"}
    assert NOMINATIVE in [box.label for box in app.checkbox]


def test_an_establishment_exports_its_missions_and_assignments_only(app: AppTest, demo_url: str) -> None:
    _open(app, ESTABLISHMENT)
    assert app.selectbox(key="exports_dataset").options == ["Missions", "Affectations"]
    expected = _expected(demo_url, ESTABLISHMENT, ExportRequest("missions"))
    _same_rows(app, expected, "N° mission", "Établissement")
    with session_scope(demo_url, read_only=True) as session:
        own = set(session.scalars(sa.select(m.Establishment.name).where(
            m.Establishment.id.in_(user_at(demo_url, ESTABLISHMENT).establishment_ids))))
    assert set(table(app)["Établissement"]) <= own and "CHU de Nantes (démo)" in own
    assert expected.scope_label == "Établissements : " + ", ".join(sorted(own))
    assert "Région" not in [box.label for box in app.selectbox]


def test_a_period_ending_before_it_starts_is_refused_in_french(app: AppTest) -> None:
    _open(app, CCS)
    app.date_input(key="exports_from").set_value(date(2026, 12, 10))
    app.date_input(key="exports_to").set_value(date(2026, 12, 1)).run()
    assert errors(app) == ["La date de fin de la période précède sa date de début."]
    assert not app.dataframe and "Préparer le fichier" not in [b.label for b in app.button]


def test_preparing_gives_a_workbook_that_opens_and_the_export_is_recorded(app: AppTest, demo_url: str) -> None:
    _open(app, MINISTRY)
    expected = _expected(demo_url, MINISTRY, ExportRequest("missions"))
    button(app, "Préparer le fichier").click().run()
    assert not app.exception
    [(label, content)] = served_files(app).items()
    assert label == "Télécharger le fichier Excel"
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["À propos", "Missions"]
    about = {label: value for label, value in book["À propos"].iter_rows(values_only=True)}
    assert about["Exporté par"] == "Anne Petit — Ministère" and about["Nombre de lignes"] == expected.total
    rows = list(book["Missions"].iter_rows(values_only=True))
    assert list(rows[0]) == expected.columns and len(rows) == expected.total + 1
    assert [row[0] for row in rows[1:21]] == [row[0] for row in expected.rows]
    assert count_at(demo_url, m.Event, m.Event.action == "exported",
                    m.Event.actor_user_id == user_at(demo_url, MINISTRY).id) == 1


def test_preparing_a_csv_gives_french_excel_csv(app: AppTest, demo_url: str) -> None:
    _open(app, CCS)
    app.selectbox(key="exports_dataset").set_value("statistiques").run()
    app.radio(key="exports_format").set_value("csv").run()
    button(app, "Préparer le fichier").click().run()
    [(label, content)] = served_files(app).items()
    assert label == "Télécharger le fichier CSV"
    assert content.startswith(b"\xef\xbb\xbfP\xc3\xa9riode (d\xc3\xa9but);R\xc3\xa9gion;")
    expected = _expected(demo_url, CCS, ExportRequest("statistiques", file_format="csv"))
    assert len(content.decode("utf-8-sig").splitlines()) == expected.total + 1
