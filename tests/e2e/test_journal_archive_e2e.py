"""« Journal », « Archivage des missions » and the alert history in Chromium: the admin downloads the journal
(the browser receives an .xlsx that opens with the events the database holds) and archives a closed mission;
the ARS follows what the CCS did with its alert."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from playwright.sync_api import expect

from core.shared.actor import to_session_user
from core.staffing.archive import finished_missions
from core.staffing.regulation import alert_ccs, close_alert
from core.staffing.workflow import close_mission
from db import models as m
from db.session import session_scope
from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import grid_cells, open_page, screenshot, sign_in, tick_row, type_in, wait_idle
from tests.readers import user_at

pytestmark = pytest.mark.e2e
ADMIN, ARS, CCS = "admin@example.org", "ars.paysdelaloire@example.org", "ccs@example.org"


def _open(page, base_url: str, email: str, link: str, heading: str) -> None:  # noqa: ANN001 - a Playwright page
    sign_in(page, base_url, email, DEMO_PASSWORD)
    open_page(page, link, heading)


def test_the_admin_downloads_the_journal_of_the_last_days(live_app, e2e_database, page) -> None:
    _open(page, live_app, ADMIN, "Journal", "Journal")
    page.get_by_role("button", name="Préparer l'export").click()
    download_button = page.get_by_role("button", name="Télécharger le journal (.xlsx)")
    expect(download_button).to_be_visible(timeout=60_000)
    wait_idle(page)
    screenshot(page, "90-journal")
    with page.expect_download(timeout=60_000) as download:
        download_button.click()
    assert download.value.suggested_filename.startswith("journal-")
    rows = list(load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
                .active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Date", "Acteur", "Rôle", "Action")
    with session_scope(e2e_database, read_only=True) as session:
        recorded = session.scalar(sa.select(sa.func.count(m.Event.id)).where(m.Event.entity != "export"))
        exports = session.scalars(sa.select(m.Event).where(m.Event.action == "journal")).all()
    assert len(rows) - 1 >= min(recorded, 1) and exports and exports[-1].details["rows"] == len(rows) - 1


def test_the_admin_archives_a_closed_mission(live_app, e2e_database, page) -> None:
    with session_scope(e2e_database) as session:
        mission = session.scalars(sa.select(m.Mission).where(m.Mission.status == "open", m.Mission.count > 0)
                                  .order_by(m.Mission.id.desc())).first()
        mission_id = mission.id
        member = session.scalars(sa.select(m.Membership.user_id)
                                 .where(m.Membership.establishment_id == mission.establishment_id)).first()
        close_mission(session, actor=to_session_user(session, user=session.get(m.User, member)),
                      mission_id=mission_id)
        listed = finished_missions(session, actor=user_at(e2e_database, ADMIN)).rows
    position = [row["id"] for row in listed].index(mission_id)
    _open(page, live_app, ADMIN, "Archivage des missions", "Archivage des missions")
    expect(page.get_by_text("mission(s), les plus récemment terminées d'abord").first).to_be_visible()
    tick_row(page, position)
    archive = page.get_by_role("button", name="Archiver cette mission")
    expect(archive).to_be_visible(timeout=60_000)
    screenshot(page, "91-archivage")
    archive.click()
    expect(page.get_by_text("archivée. Vous pouvez la restaurer")).to_be_visible(timeout=60_000)
    with session_scope(e2e_database, read_only=True) as session:
        archived = session.scalars(sa.select(m.Mission.id).where(m.Mission.status == "archived")).all()
    assert mission_id in archived


def test_the_ars_sees_what_the_ccs_did_with_its_alert(live_app, e2e_database, page) -> None:
    with session_scope(e2e_database) as session:
        mission = session.scalars(
            sa.select(m.Mission).join(m.Establishment, m.Establishment.id == m.Mission.establishment_id)
            .where(m.Establishment.ars_code == "52", m.Mission.status == "open", m.Mission.count > 0)
            .order_by(m.Mission.id)).first()
        alert_ccs(session, actor=user_at(e2e_database, ARS), mission_id=mission.id, message="Personne à proposer.")
        session.flush()
        close_alert(session, actor=user_at(e2e_database, CCS), mission_id=mission.id,
                    note="Renfort de la réserve sanitaire lundi.")
    _open(page, live_app, ARS, "Alertes au CCS", "Alertes au CCS")
    expect(page.get_by_text("alerte(s), la plus récente d'abord").first).to_be_visible()
    screenshot(page, "92-alertes-au-ccs")


def test_the_admin_finds_an_ars_account_and_opens_its_panel(live_app, page) -> None:
    _open(page, live_app, ADMIN, "Comptes", "Comptes")
    type_in(page, "Rechercher (nom ou courriel)", "paysdelaloire")
    expect(grid_cells(page, ARS)).to_have_count(1, timeout=60_000)
    tick_row(page, 0)
    expect(page.get_by_role("button", name="Désactiver…")).to_be_visible(timeout=60_000)
    screenshot(page, "93-comptes")
