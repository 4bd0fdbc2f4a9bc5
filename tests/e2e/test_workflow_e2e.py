"""The establishment's path in Chromium: new need of 2 posts → Choisir → Contacter → Valider → e-mail → POURVUE 1/2,
at once in the mission selector and on the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core.shared.clock import paris_today
from db import models as m
from db.session import session_scope
from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import (
    choose,
    grid_cells,
    open_page,
    screenshot,
    sign_in,
    tick_row,
    type_in,
    wait_for_map,
    wait_idle,
)

pytestmark = pytest.mark.e2e
PROFESSION = "Infirmier diplômé d'État"


def _mission_label(assigned: int) -> str:
    today = paris_today()
    end = today + timedelta(days=14)
    return f"{PROFESSION} — {today:%d/%m/%Y} au {end:%d/%m/%Y} — POURVUE {assigned}/2"


def _assignment_email(database_url: str) -> tuple[str, str]:
    with session_scope(database_url) as session:
        row = session.execute(
            sa.select(m.Outbox.to, m.Outbox.body_text).where(m.Outbox.subject.like("%affectation est confirmée%"))
            .order_by(m.Outbox.id.desc())
        ).first()
    return row


def test_an_establishment_files_a_need_contacts_and_validates_a_volunteer(live_app, e2e_database, page) -> None:
    sign_in(page, live_app, "etablissement@example.org", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Tableau de bord")).to_have_count(1)
    screenshot(page, "20-tableau-de-bord")

    open_page(page, "Nouveau besoin")
    choose(page, "Profession *", PROFESSION)
    type_in(page, "Nombre *", "2")  # two posts: the mission stays open, and in the selector, after one validation
    page.get_by_role("button", name="Enregistrer les besoins").click()
    expect(page.get_by_text("1 besoin(s) enregistré(s)")).to_be_visible()
    wait_idle(page)

    open_page(page, "Choisir des renforts")
    choose(page, "Mission", _mission_label(0))
    expect(page.get_by_text("Affichage 1 -")).to_be_visible()
    wait_for_map(page)
    screenshot(page, "21-choisir-carte-et-candidats")
    # A click on an available volunteer's point of the map opens their sheet (the SVG map's second trace).
    page.locator(".js-plotly-plot .scattergeo.trace").nth(1).locator(".point").first.click(force=True)
    sheet = page.get_by_role("dialog")
    expect(sheet.get_by_text("Fiche du professionnel")).to_be_visible()
    expect(sheet.get_by_text("Commune :")).to_be_visible()
    page.keyboard.press("Escape")
    expect(sheet).to_have_count(0)
    wait_idle(page)

    tick_row(page, 0)
    page.get_by_role("button", name="Contacter (1)").click()
    expect(page.get_by_text("1 professionnel(s) contacté(s)")).to_be_visible()
    wait_idle(page)

    choose(page, "Statut", "Contacté")  # the contacted volunteer alone in the table
    expect(grid_cells(page, "CONTACTÉ")).to_have_count(1)
    tick_row(page, 0)
    page.get_by_role("button", name="Valider les candidatures").click()
    expect(page.get_by_text("1 candidature(s) validée(s)")).to_be_visible()
    wait_idle(page)
    mission = page.get_by_label("Mission", exact=True)
    expect(mission).to_have_value(_mission_label(1))  # the selector's POURVUE x/n at once, no reload
    choose(page, "Statut", "Disponible")  # another run: the mission stays chosen (its old label matched no option)
    expect(mission).to_have_value(_mission_label(1))
    # (no row count here: earlier browser tests may have reserved every other available nurse of the region)
    wait_idle(page)
    screenshot(page, "22-candidature-validee")

    to, body = _assignment_email(e2e_database)
    assert "affectation est confirmée" not in body and "CHU de Nantes (démo)" in body and to.endswith("@example.org")

    open_page(page, "Tableau de bord")
    choose(page, "Trier par", "Dernières créées")  # the new mission first
    expect(grid_cells(page, "POURVUE 1/2").first).to_be_attached()
    screenshot(page, "23-tableau-de-bord-pourvue")

    page.get_by_role("link", name="Voir affectation professionnels").first.click()
    expect(page.get_by_role("heading", name="Professionnels affectés")).to_have_count(1)
    wait_idle(page)
    screenshot(page, "24-affectations")
