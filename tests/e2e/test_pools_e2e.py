"""A territorial pool in Chromium (issue 14): the ARS creates the pool of Vendée in « Plateformes territoriales » and
its coordinator's account in « Comptes »; the coordinator activates it, invites a nurse of the region, who accepts
in « Mon profil »; the coordinator proposes her to the member EHPAD's mission, and the EHPAD contacts and validates
her in « Choisir des renforts »."""

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
    contact_then_validate_first_candidate,
    grid_cells,
    open_page,
    open_tab,
    screenshot,
    sign_in,
    tick_row,
    type_in,
    wait_idle,
)
from tests.factories import (
    PASSWORD,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_user,
    with_luhn_key,
)

pytestmark = pytest.mark.e2e
POOL = "Plateforme solidaire de Vendée"
EHPAD = "EHPAD Les Oyats (E2E)"
HR = "rh.oyats@example.org"
NURSE = "ines.chaigneau@example.org"
COORDINATOR = "coordination.vendee@example.org"
COORDINATOR_PASSWORD = "Coordination-Vendee-2026!"


def _ehpad_and_nurse(database_url: str) -> tuple[str, str]:
    """A Vendée EHPAD with its HR account and an open nurse mission, and a nurse of Vendée with her account (both
    signed in with the factories' password): the mission's dates as its selectors show them, and the EHPAD as the
    support's list shows it."""
    start = paris_today() + timedelta(days=3)
    with session_scope(database_url) as session:
        ehpad = make_establishment(session, postal_code="85000", name=EHPAD, finess=with_luhn_key("85001234"),
                                   finess_category_code="500")
        support = f"{EHPAD} — {ehpad.city} (EHPAD) — FINESS {ehpad.finess}"
        hr = make_user(session, establishment=ehpad, email=HR, first_name="Paul", last_name="Renaud")
        make_mission(session, ehpad, hr, start_date=start, end_date=start + timedelta(days=7), count=1)
        nurse = make_available_nurse(session, postal_code="85000", first_name="Inès", last_name="Chaigneau",
                                     email=NURSE)
        make_user(session, "professionnel", professional_id=nurse.id, email=NURSE, first_name="Inès",
                  last_name="Chaigneau")
    return f"{start:%d/%m/%Y} au {start + timedelta(days=7):%d/%m/%Y}", support


def _ars_creates_the_pool_and_its_coordinator(page, base_url: str, support: str) -> None:
    sign_in(page, base_url, "ars.paysdelaloire@example.org", DEMO_PASSWORD)
    open_page(page, "Plateformes territoriales")
    page.get_by_text("Créer une plateforme", exact=True).click()
    wait_idle(page)
    choose(page, "Département *", "85 — Vendée")
    type_in(page, "Nom de la plateforme *", POOL)
    choose(page, "Établissement support (celui qui reçoit les crédits) *", support)
    screenshot(page, "pt1-plateforme-a-creer")
    page.get_by_role("button", name="Créer la plateforme").click()
    expect(page.get_by_text(f"Plateforme « {POOL} » créée")).to_be_visible()
    wait_idle(page)
    screenshot(page, "pt2-plateforme-creee")

    open_page(page, "Comptes")
    page.get_by_text("Créer un compte", exact=True).click()
    wait_idle(page)
    choose(page, "Rôle *", "Coordinateur de vivier territorial")
    for label, value in (("Nom *", "Rivière"), ("Prénom *", "Nadia"), ("Courriel *", COORDINATOR)):
        type_in(page, label, value)
    choose(page, "Plateforme territoriale coordonnée *", f"{POOL} — Vendée (85)")
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_text(f"un lien d'activation a été envoyé à {COORDINATOR}")).to_be_visible()
    wait_idle(page)
    screenshot(page, "pt3-compte-coordinateur-cree")


def _activation_link(database_url: str) -> str:
    with session_scope(database_url) as session:
        body = session.scalars(sa.select(m.Outbox.body_text).where(m.Outbox.to == COORDINATOR)).one()
    return next(word for word in body.split() if "activer-mon-compte?jeton=" in word)


def _coordinator_activates_and_invites(page, base_url: str, link: str) -> None:
    page.goto(link)
    expect(page.get_by_text("Bonjour Nadia, choisissez votre mot de passe.")).to_be_visible()
    wait_idle(page)
    page.get_by_label("Nouveau mot de passe *").fill(COORDINATOR_PASSWORD)
    page.get_by_label("Confirmation du mot de passe *").fill(COORDINATOR_PASSWORD)
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    expect(page.get_by_text("Votre mot de passe est enregistré")).to_be_visible()
    sign_in(page, base_url, COORDINATOR, COORDINATOR_PASSWORD)  # lands on « File des besoins »
    expect(page.get_by_role("heading", name="File des besoins")).to_have_count(1)
    open_page(page, "Vivier")
    expect(page.get_by_text("Le vivier est vide")).to_be_visible()
    type_in(page, "Nom ou commune", "Chaigneau")
    expect(grid_cells(page, "Chaigneau")).to_have_count(1)
    tick_row(page, 0)
    page.get_by_role("button", name="Inviter Inès Chaigneau").click()
    expect(page.get_by_text("Invitation envoyée à Inès Chaigneau")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("0 membre(s), 1 invitation(s) en attente")).to_be_visible()  # the roster's caption
    expect(grid_cells(page, "Invitation en attente de réponse.")).to_have_count(1)  # the search's row
    screenshot(page, "pt4-vivier-invitation-envoyee")


def _nurse_accepts(page, base_url: str) -> None:
    sign_in(page, base_url, NURSE, PASSWORD)
    expect(page.get_by_text(f"Invitation à rejoindre le vivier d'une plateforme territoriale : « {POOL} »")).to_be_visible()
    open_page(page, "Mon profil")
    expect(page.get_by_role("heading", name="Invitations des plateformes territoriales")).to_be_visible()
    wait_idle(page)
    screenshot(page, "pt5-mon-profil-invitation")
    page.get_by_role("button", name="Accepter l'invitation").click()
    expect(page.get_by_text(f"Vous avez rejoint le vivier de la plateforme territoriale « {POOL} »")).to_be_visible()
    expect(page.get_by_role("heading", name="Mes plateformes territoriales")).to_be_visible()
    wait_idle(page)


def _coordinator_proposes(page, dates: str) -> None:
    open_page(page, "File des besoins")
    expect(grid_cells(page, EHPAD)).to_have_count(1)
    tick_row(page, 0)
    screenshot(page, "pt6-file-des-besoins")
    page.get_by_role("button", name="Proposer des membres du vivier").click()
    expect(page.get_by_role("heading", name="Proposer des membres du vivier")).to_be_visible()
    expect(page.get_by_label("Mission (par ordre d'urgence)")).to_have_value(
        f"{EHPAD} — Infirmier diplômé d'État — {dates} — POURVUE 0/1")
    expect(grid_cells(page, "Chaigneau")).to_have_count(1)
    wait_idle(page)
    tick_row(page, 0)
    page.get_by_role("button", name="Proposer (1)").click()
    expect(page.get_by_text("1 membre(s) du vivier proposé(s) : statut EN COURS")).to_be_visible()
    wait_idle(page)
    expect(grid_cells(page, "EN COURS (PROPOSÉ PAR LA PLATEFORME)")).to_have_count(1)
    screenshot(page, "pt7-proposee-par-la-plateforme")


def _ehpad_validates(page, base_url: str) -> None:
    sign_in(page, base_url, HR, PASSWORD)
    open_page(page, "Choisir des renforts")
    type_in(page, "Nom ou commune", "Chaigneau")
    expect(grid_cells(page, "EN COURS (PROPOSÉ PAR LA PLATEFORME)")).to_have_count(1)
    expect(grid_cells(page, "Vivier territorial")).to_have_count(1)
    screenshot(page, "pt8-choisir-membre-du-vivier")
    contact_then_validate_first_candidate(page)
    screenshot(page, "pt9-validee-par-l-ehpad")


def test_the_ars_creates_a_pool_whose_coordinator_proposes_a_roster_member_the_ehpad_validates(
    live_app, e2e_database, browser
) -> None:
    dates, support = _ehpad_and_nurse(e2e_database)
    contexts, (ars, coordinator, nurse, ehpad) = zip(*(open_tab(browser) for _ in range(4)))
    _ars_creates_the_pool_and_its_coordinator(ars, live_app, support)
    _coordinator_activates_and_invites(coordinator, live_app, _activation_link(e2e_database))
    _nurse_accepts(nurse, live_app)
    _coordinator_proposes(coordinator, dates)
    _ehpad_validates(ehpad, live_app)
    with session_scope(e2e_database) as session:
        proposal = session.scalars(sa.select(m.Proposal).join(m.Professional).where(m.Professional.email == NURSE)
                                   ).one()
        assert (proposal.origin, proposal.state) == ("pool", "affecte")
        pool = session.scalars(sa.select(m.TerritorialPool).where(m.TerritorialPool.name == POOL)).one()
        coordinator_user = session.scalars(sa.select(m.User).where(m.User.email == COORDINATOR)).one()
        assert (coordinator_user.role, coordinator_user.pool_id) == ("pool", pool.id)
    for context in contexts:
        context.close()
