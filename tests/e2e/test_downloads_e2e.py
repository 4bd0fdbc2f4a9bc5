"""Every download of the app in Chromium, for each role that has it: the browser receives the file, which is
opened (openpyxl for .xlsx, magic bytes for PDF / JPEG / PNG) and compared with what the database holds.

The buttons used to hand st.download_button a callable that Streamlit ran later, outside the page's run, where
nobody is signed in: the click gave no file, only a MediaFileStorageError in the server's log (issue 11 §1).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from PIL import Image
from playwright.sync_api import expect

from core.figures.exports import export_filename
from core.shared.actor import to_session_user
from core.shared.clock import paris_today
from core.shared.security import hash_password
from core.staffing.matching import find_candidates
from core.staffing.missions import MissionInput, assigned_staff, create_missions
from core.staffing.workflow import close_mission, contact
from core.volunteers.professionals import replace_document
from db import models as m
from db.session import session_scope
from ops.seed import DEMO_ESTABLISHMENT_NAME, DEMO_PASSWORD
from ops.simulation.report import write_report_html
from tests.e2e.conftest import (
    choose,
    grid_cells,
    open_page,
    screenshot,
    sign_in,
    tick_row,
    type_in,
    wait_idle,
)
from tests.readers import events, xlsx_rows
from tests.unit.test_simulation_charts import sample_report

pytestmark = pytest.mark.e2e
ESTABLISHMENT = "etablissement@example.org"
ARS = "ars.paysdelaloire@example.org"
CCS = "ccs@example.org"
VOLUNTEER_PASSWORD = "Volontaire-Telechargement-2026!"
PROFESSION = "Infirmier diplômé d'État"
MAGIC = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


# ---------------------------------------------------------------- the database behind the app


def _image(kind: str) -> bytes:
    """A small real image (what a phone's photo of a document would be), JPEG or PNG."""
    output = io.BytesIO()
    Image.new("RGB", (60, 40), (0, 0, 145)).save(output, format=kind)
    return output.getvalue()


def _user(session: so.Session, email: str) -> m.User:
    return session.scalars(sa.select(m.User).where(m.User.email == email)).one()


def _document(database_url: str, professional_id: int, kind: str) -> m.Document:
    """The stored document, detached with its content (a deferred column)."""
    with session_scope(database_url, read_only=True) as session:
        document = session.scalars(sa.select(m.Document).options(so.undefer(m.Document.content)).where(
            m.Document.professional_id == professional_id, m.Document.kind == kind)).one()
        session.expunge(document)
        return document


def _volunteer_of_region(database_url: str, ars_code: str, *, skip: int = 0) -> tuple[int, str]:
    """A registered volunteer of the region (id, e-mail), far down the list where the other tests never look."""
    with session_scope(database_url, read_only=True) as session:
        return session.execute(
            sa.select(m.Professional.id, m.Professional.email)
            .where(m.Professional.ars_code == ars_code, m.Professional.status != "supprime",
                   m.Professional.email != "benevole@example.org",
                   m.Professional.id.in_(sa.select(m.Document.professional_id)))
            .order_by(m.Professional.id).offset(skip).limit(1)).one()


def _send_document(database_url: str, professional_id: int, kind: str, filename: str, content: bytes) -> None:
    """The volunteer replaces a document, through the service « Mon profil » uses."""
    with session_scope(database_url) as session:
        user = session.scalars(sa.select(m.User).where(m.User.professional_id == professional_id)).one()
        replace_document(session, actor=to_session_user(session, user=user), kind=kind, filename=filename,
                         content=content)


@pytest.fixture
def contacted_candidate(e2e_database: str) -> Iterator[tuple[str, int]]:
    """A fresh CHU mission and a volunteer the CHU has contacted for it: its label in « Mission », the volunteer.
    The mission is closed afterwards, which frees the volunteer: later tests of the shared database need the
    region's available nurses."""
    label, professional_id, mission_id = _contacted_candidate(e2e_database)
    yield label, professional_id
    with session_scope(e2e_database) as session:
        close_mission(session, actor=to_session_user(session, user=_user(session, ESTABLISHMENT)),
                      mission_id=mission_id)


def _contacted_candidate(database_url: str) -> tuple[str, int, int]:
    start = paris_today() + timedelta(days=21)
    end = start + timedelta(days=5)
    with session_scope(database_url) as session:
        actor = to_session_user(session, user=_user(session, ESTABLISHMENT))
        [mission_id] = create_missions(session, actor=actor, establishment_id=actor.establishment_ids[0], missions=[
            MissionInput(profession_code="infirmier_de", count=1, start_date=start, end_date=end)])
        demo_volunteer = _user(session, "benevole@example.org").professional_id  # left free for the demo
        candidates = find_candidates(session, actor=actor, mission_id=mission_id).rows
        professional_id = next(r["id"] for r in candidates if r["proposal_state"] is None
                               and r["status"] == "disponible" and r["id"] != demo_volunteer)
        contact(session, actor=actor, mission_id=mission_id, professional_id=professional_id)
    return f"{PROFESSION} — {start:%d/%m/%Y} au {end:%d/%m/%Y} — POURVUE 0/1", professional_id, mission_id


def _downloaded_by(database_url: str, email: str) -> list[dict]:
    """The documents this user has downloaded, as the journal records them."""
    with session_scope(database_url, read_only=True) as session:
        user_id = _user(session, email).id
        return [event.details for event in events(session, "document_downloaded") if event.actor_user_id == user_id]


# ---------------------------------------------------------------- the browser


def _download(page, scope, label: str) -> tuple[str, bytes]:  # noqa: ANN001 - Playwright page and locator
    """Click a download button and return the file the browser received (its name and bytes)."""
    with page.expect_download(timeout=60_000) as download:
        scope.get_by_role("button", name=label, exact=True).click()
    return download.value.suggested_filename, Path(download.value.path()).read_bytes()


def _prepare_and_download(page, scope, name: str) -> tuple[str, bytes]:  # noqa: ANN001
    """« Préparer : <name> », wait for « Télécharger : <name> », download."""
    scope.get_by_role("button", name=f"Préparer : {name}", exact=True).click()
    expect(scope.get_by_role("button", name=f"Télécharger : {name}", exact=True)).to_be_visible(timeout=60_000)
    wait_idle(page)
    return _download(page, scope, f"Télécharger : {name}")


def _assert_is(document: m.Document, received: tuple[str, bytes]) -> None:
    filename, content = received
    assert content.startswith(MAGIC[document.mime]), content[:16]
    assert (filename, content) == (document.filename, document.content)


def _open_sheet(page):  # noqa: ANN001, ANN202 - the dialog's locator
    page.get_by_role("button", name="Voir la fiche").click()
    sheet = page.get_by_role("dialog")
    expect(sheet.get_by_text("Justificatifs", exact=True)).to_be_visible()
    wait_idle(page)
    return sheet


def _sheet_from_region_professionals(page, email: str, region: str | None = None):  # noqa: ANN001, ANN202
    """« Professionnels de la région » (of that region, for national roles): search the volunteer by e-mail,
    tick the only row, open the sheet."""
    open_page(page, "Professionnels de la région")
    if region is not None:
        choose(page, "Région", region)
    type_in(page, "Nom, courriel ou commune", email)
    expect(page.get_by_text("Affichage 1 - 1 de 1")).to_be_visible()
    tick_row(page, 0)
    return _open_sheet(page)


@pytest.fixture
def server_log_is_clean(live_app: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What the server logs during the test (live_app writes its log under the session's temporary folder)
    shows no failed download: a download that fails in Streamlit gives the browser nothing, and says why only
    there."""
    logs = sorted(tmp_path_factory.getbasetemp().glob("logs*/streamlit.log"))
    assert logs, "journal du serveur introuvable"
    start = {log: log.stat().st_size for log in logs}
    yield
    written = "".join(log.read_bytes()[start[log]:].decode(errors="replace") for log in logs)
    assert "MediaFileStorageError" not in written and "Deferred file" not in written, written


# ---------------------------------------------------------------- one test per download and role


def test_an_establishment_downloads_its_assigned_staff_as_an_excel_file(live_app, e2e_database, page,
                                                                        server_log_is_clean) -> None:
    sign_in(page, live_app, ESTABLISHMENT, DEMO_PASSWORD)
    page.get_by_role("link", name="Voir affectation professionnels").first.click()
    expect(page.get_by_role("heading", name="Professionnels affectés")).to_have_count(1)
    wait_idle(page)
    page.get_by_role("button", name="Préparer la liste (.xlsx)").click()
    expect(page.get_by_role("button", name="Télécharger la liste (.xlsx)")).to_be_visible(timeout=60_000)
    wait_idle(page)
    expect(page.get_by_role("button", name="Préparer la liste (.xlsx)")).to_have_count(0)
    screenshot(page, "60-affectations-liste-preparee")
    filename, content = _download(page, page, "Télécharger la liste (.xlsx)")

    with session_scope(e2e_database, read_only=True) as session:
        actor = to_session_user(session, user=_user(session, ESTABLISHMENT))
        staff = assigned_staff(session, actor=actor, establishment_id=actor.establishment_ids[0])
        [export] = [e for e in events(session, "assigned_staff") if e.actor_user_id == actor.id]
    assert staff, "la démo affecte des volontaires au CHU"
    assert filename == export_filename("affectations", DEMO_ESTABLISHMENT_NAME, paris_today())
    assert content.startswith(b"PK")  # an .xlsx is a zip
    header, *rows = xlsx_rows(content)
    assert header[:5] == ("Nom", "Prénom", "Profession", "Téléphone", "Courriel")
    assert sorted((r[0], r[1], r[4]) for r in rows) == sorted(
        (s["last_name"], s["first_name"], s["email"]) for s in staff)
    assert export.details == {"rows": len(staff), "nominative": True}


def test_an_establishment_downloads_a_contacted_candidates_diploma_from_the_sheet_in_choisir(
        live_app, e2e_database, page, server_log_is_clean, contacted_candidate) -> None:
    mission, professional_id = contacted_candidate
    diploma = _document(e2e_database, professional_id, "diplome")
    sign_in(page, live_app, ESTABLISHMENT, DEMO_PASSWORD)
    open_page(page, "Choisir des renforts")
    choose(page, "Mission", mission)
    choose(page, "Statut", "Contacté")  # the contacted volunteer alone in the table
    expect(grid_cells(page, "CONTACTÉ")).to_have_count(1)
    tick_row(page, 0)
    sheet = _open_sheet(page)

    received = _prepare_and_download(page, sheet, f"Diplôme — {diploma.filename}")
    screenshot(page, "61-choisir-fiche-diplome-telecharge")
    _assert_is(diploma, received)
    assert {"document_id": diploma.id, "kind": "diplome"} in _downloaded_by(e2e_database, ESTABLISHMENT)


def test_the_ars_downloads_a_volunteers_identity_photo_from_professionnels_de_la_region(
        live_app, e2e_database, page, server_log_is_clean) -> None:
    professional_id, email = _volunteer_of_region(e2e_database, "52", skip=40)
    _send_document(e2e_database, professional_id, "identite", "carte-identite.jpg", _image("JPEG"))
    identity = _document(e2e_database, professional_id, "identite")
    sign_in(page, live_app, ARS, DEMO_PASSWORD)
    sheet = _sheet_from_region_professionals(page, email)

    received = _prepare_and_download(page, sheet, "Pièce d'identité — carte-identite.jpg")
    screenshot(page, "62-ars-fiche-piece-identite-telechargee")
    assert identity.mime == "image/jpeg"
    _assert_is(identity, received)
    assert {"document_id": identity.id, "kind": "identite"} in _downloaded_by(e2e_database, ARS)


def test_the_ccs_downloads_a_volunteers_diploma_from_professionnels_de_la_region(
        live_app, e2e_database, page, server_log_is_clean) -> None:
    professional_id, email = _volunteer_of_region(e2e_database, "52", skip=41)
    diploma = _document(e2e_database, professional_id, "diplome")
    sign_in(page, live_app, CCS, DEMO_PASSWORD)
    sheet = _sheet_from_region_professionals(page, email, region="ARS Pays de la Loire")

    received = _prepare_and_download(page, sheet, f"Diplôme — {diploma.filename}")
    screenshot(page, "63-ccs-fiche-diplome-telecharge")
    _assert_is(diploma, received)
    assert {"document_id": diploma.id, "kind": "diplome"} in _downloaded_by(e2e_database, CCS)


def test_a_volunteer_downloads_both_own_documents_from_mon_profil(live_app, e2e_database, page,
                                                                  server_log_is_clean) -> None:
    professional_id, email = _volunteer_of_region(e2e_database, "52", skip=42)
    with session_scope(e2e_database) as session:
        _user(session, email).password_hash = hash_password(VOLUNTEER_PASSWORD)
    _send_document(e2e_database, professional_id, "diplome", "diplome-IDE.png", _image("PNG"))
    identity, diploma = (_document(e2e_database, professional_id, kind) for kind in ("identite", "diplome"))
    sign_in(page, live_app, email, VOLUNTEER_PASSWORD)
    page.goto(f"{live_app}/mon-profil")
    expect(page.get_by_role("heading", name="Mes justificatifs")).to_be_visible()
    wait_idle(page)

    received = [_prepare_and_download(page, page, f"{label} — {document.filename} "
                                                  f"({max(1, round(document.size / 1024))} Ko)")
                for label, document in (("Pièce d'identité", identity), ("Diplôme", diploma))]
    screenshot(page, "64-mon-profil-justificatifs-telecharges")
    assert (identity.mime, diploma.mime) == ("application/pdf", "image/png")
    _assert_is(identity, received[0])
    _assert_is(diploma, received[1])


def test_the_ccs_downloads_the_last_simulation_report(live_app, e2e_simulations, page, server_log_is_clean) -> None:
    run_dir = e2e_simulations / "20270104-090000"
    run_dir.mkdir()
    report = sample_report("renfort")
    (run_dir / "report.json").write_text(json.dumps(report), encoding="utf-8")
    write_report_html(report, run_dir / "report.html")
    sign_in(page, live_app, CCS, DEMO_PASSWORD)
    open_page(page, "Simulation")

    name, content = _download(page, page, "Télécharger le rapport (.html)")
    screenshot(page, "64-ccs-simulation-rapport-telecharge")
    assert name.endswith(".html") and content == (run_dir / "report.html").read_bytes()
    html = content.decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Règles Renfort RH" in html and "Gini 0,23" in html
