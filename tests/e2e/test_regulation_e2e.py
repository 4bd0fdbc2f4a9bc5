"""Regulation in Chromium: the ARS switches a profession to crisis mode, proposes a volunteer, and the
establishment sees them EN COURS (PROPOSÉ PAR L'ARS), contacts and validates them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core.shared.actor import to_session_user
from core.shared.clock import paris_today
from core.staffing.missions import MissionInput, create_missions
from db import models as m
from db.session import session_scope
from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import (
    choose,
    contact_then_validate_first_candidate,
    grid_cells,
    open_page,
    open_tab,
    screenshot,
    sign_in,
    tick_row,
    wait_for_charts,
    wait_idle,
)

pytestmark = pytest.mark.e2e
PROFESSION = "Infirmier diplômé d'État"


def _new_mission(database_url: str) -> str:
    """A fresh CHU mission, so that its label in the selectors is known."""
    start = paris_today() + timedelta(days=3)
    end = start + timedelta(days=7)
    with session_scope(database_url) as session:
        user = session.scalar(sa.select(m.User).where(m.User.email == "etablissement@example.org"))
        actor = to_session_user(session, user=user)
        create_missions(session, actor=actor, establishment_id=actor.establishment_ids[0],
                        missions=[MissionInput(profession_code="infirmier_de", count=1, start_date=start, end_date=end)])
    return f"{start:%d/%m/%Y} au {end:%d/%m/%Y} — POURVUE 0/1"


def _switch_crisis(page, base_url: str) -> None:
    sign_in(page, base_url, "ars.paysdelaloire@example.org", DEMO_PASSWORD)
    open_page(page, "Gestion de crise")
    page.get_by_text("Professions choisies").click()
    wait_idle(page)
    choose(page, "Professions", PROFESSION)
    page.get_by_role("button", name="Activer le mode gestion de crise…").click()
    page.get_by_role("button", name="Oui, activer").click()
    expect(page.get_by_text(f"Mode gestion de crise actif pour : {PROFESSION}")).to_be_visible()
    wait_idle(page)
    screenshot(page, "30-gestion-de-crise")


def _propose(page, dates: str) -> None:
    open_page(page, "Proposer des candidats")
    choose(page, "Mission (par ordre de priorité)", f"CHU de Nantes (démo) — {PROFESSION} — {dates}")
    choose(page, "Statut", "Disponible")
    expect(page.get_by_text("Affichage 1 -")).to_be_visible()
    tick_row(page, 0)
    page.get_by_role("button", name="Proposer (1)").click()
    expect(page.get_by_text("1 professionnel(s) proposé(s)")).to_be_visible()
    wait_idle(page)
    screenshot(page, "31-proposer-des-candidats")


@pytest.fixture
def crisis_cleanup(e2e_database: str):  # noqa: ANN201
    """The browser tests share one database: leave the region out of crisis mode afterwards."""
    yield
    from core.staffing.regulation import set_crisis_mode

    with session_scope(e2e_database) as session:
        ars = session.scalar(sa.select(m.User).where(m.User.email == "ars.paysdelaloire@example.org"))
        set_crisis_mode(session, actor=to_session_user(session, user=ars), ars_code="52", enabled=False)


def test_the_ars_proposes_in_crisis_mode_and_the_establishment_validates(live_app, e2e_database, browser,
                                                                         crisis_cleanup) -> None:
    dates = _new_mission(e2e_database)
    (ars_context, ars), (establishment_context, establishment) = open_tab(browser), open_tab(browser)
    contexts = [ars_context, establishment_context]
    _switch_crisis(ars, live_app)
    _propose(ars, dates)

    sign_in(establishment, live_app, "etablissement@example.org", DEMO_PASSWORD)
    open_page(establishment, "Choisir des renforts")
    choose(establishment, "Mission", f"{PROFESSION} — {dates}")
    expect(establishment.get_by_text("Mode gestion de crise")).to_be_visible()
    expect(grid_cells(establishment, "EN COURS (PROPOSÉ PAR L'ARS)")).to_have_count(1)
    screenshot(establishment, "32-choisir-en-mode-crise")
    contact_then_validate_first_candidate(establishment)
    screenshot(establishment, "33-candidature-validee-en-mode-crise")
    with session_scope(e2e_database) as session:
        states = session.scalars(sa.select(m.Proposal.state).where(m.Proposal.origin == "push")
                                 .order_by(m.Proposal.id.desc())).first()
    assert states == "affecte"
    for context in contexts:
        context.close()


def test_the_ccs_sees_the_national_map_and_the_regional_charts(live_app, page) -> None:
    sign_in(page, live_app, "ccs@example.org", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Vue nationale")).to_have_count(1)
    wait_idle(page)
    expect(page.get_by_text("Taux de pourvoi")).to_be_visible()
    wait_for_charts(page, 9)  # mainland, 5 overseas insets, 2 bar charts, series
    screenshot(page, "40-vue-nationale")
    open_page(page, "Indicateurs")
    wait_for_charts(page, 1)
    screenshot(page, "41-indicateurs")
