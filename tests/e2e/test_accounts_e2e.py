"""The account flow in Chromium: request → ARS validation → link from the outbox → password → sign-in."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from db import models as m
from db.session import session_scope
from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import (
    choose,
    grid_cells,
    open_page,
    open_tab,
    screenshot,
    sign_in,
    tick_row,
    type_in,
    wait_idle,
)

pytestmark = pytest.mark.e2e
EMAIL = "claire.e2e@chu-test.fr"
PASSWORD = "Claire-Renfort-2026!"


def _activation_link(database_url: str) -> str:
    with session_scope(database_url) as session:
        body = session.scalars(
            sa.select(m.Outbox.body_text).where(m.Outbox.to == EMAIL, m.Outbox.subject.like("%validé%"))
        ).one()
    return next(word for word in body.split() if "activer-mon-compte?jeton=" in word)


def _request_account(page, base_url: str) -> None:
    page.goto(f"{base_url}/demande-de-compte")
    expect(page.get_by_role("heading", name="Demande de compte établissement")).to_be_visible()
    wait_idle(page)
    for label, value in (("Nom *", "Moreau"), ("Prénom *", "Claire"), ("Courriel *", EMAIL),
                         ("Téléphone *", "06 12 34 56 78")):
        type_in(page, label, value)
    choose(page, "Catégorie *", "Établissements relevant de la loi hospitalière")
    for label, value in (("FINESS géographique *", "750100125"), ("Nom de l'établissement *", "Hôpital E2E"),
                         ("Adresse *", "1 place de l'Hôpital"), ("Code postal *", "44000")):
        type_in(page, label, value)
    choose(page, "Profession *", "Infirmier diplômé d'État")
    screenshot(page, "10-demande-de-compte-remplie")
    page.get_by_role("button", name="Valider la demande").click()
    expect(page.get_by_text("sont enregistrés")).to_be_visible()
    wait_idle(page)
    screenshot(page, "11-demande-de-compte-confirmee")


def _ars_validates(page, base_url: str) -> None:
    sign_in(page, base_url, "ars.paysdelaloire@example.org", DEMO_PASSWORD)
    open_page(page, "Validation des comptes")
    expect(page.get_by_role("heading", name="Hôpital E2E")).to_be_visible()
    wait_idle(page)
    screenshot(page, "12-validation-des-comptes")
    page.get_by_role("button", name="Valider").first.click()
    expect(page.get_by_text(f"un lien d'activation a été envoyé à {EMAIL}")).to_be_visible()
    wait_idle(page)


def _admin_opens_the_link_from_the_outbox(admin, base_url: str, link: str):  # noqa: ANN202 - a Playwright page
    """The newcomer's way without SMTP: « Courriels » → the message → its link, in the same browser."""
    sign_in(admin, base_url, "admin@example.org", DEMO_PASSWORD)
    open_page(admin, "Courriels")
    type_in(admin, "Rechercher (destinataire ou objet)", EMAIL)
    expect(admin.get_by_text("Affichage 1 - 2 de 2")).to_be_visible()  # the table redrawn with this search
    expect(grid_cells(admin, "Renfort RH — votre compte est validé")).to_have_count(1)
    wait_idle(admin)
    tick_row(admin, 0)  # newest first: the "compte validé" message
    expect(admin.locator("strong", has_text="Renfort RH — votre compte est validé")).to_be_visible()
    expect(admin.get_by_text(link, exact=True)).to_be_visible()
    wait_idle(admin)
    screenshot(admin, "12b-courriels-message-de-validation")
    with admin.context.expect_page() as opened:
        admin.get_by_role("link", name="Ouvrir le lien du message").click()
    tab = opened.value
    tab.set_default_timeout(20_000)
    # Still signed in as the admin (the session cookie is shared): the page says so, no "Page not found".
    expect(tab.get_by_text("Vous êtes connecté(e) avec le compte « admin@example.org »")).to_be_visible()
    expect(tab.get_by_text("Page not found")).to_have_count(0)
    wait_idle(tab)
    screenshot(tab, "12c-lien-ouvert-en-etant-connecte")
    tab.get_by_role("button", name="Me déconnecter et utiliser ce lien").click()
    return tab


def test_an_establishment_requests_an_account_gets_validated_activates_and_signs_in(
    live_app, e2e_database, browser
) -> None:
    contexts, (visitor, ars, admin) = zip(*(open_tab(browser) for _ in range(3)))
    _request_account(visitor, live_app)
    _ars_validates(ars, live_app)

    link = _activation_link(e2e_database)
    assert link.startswith(live_app)
    establishment = _admin_opens_the_link_from_the_outbox(admin, live_app, link)
    expect(establishment.get_by_text("Bonjour Claire, choisissez votre mot de passe.")).to_be_visible()
    expect(establishment.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    wait_idle(establishment)
    establishment.get_by_label("Nouveau mot de passe *").fill(PASSWORD)
    establishment.get_by_label("Confirmation du mot de passe *").fill(PASSWORD)
    establishment.get_by_role("button", name="Enregistrer mon mot de passe").click()
    expect(establishment.get_by_text("Votre mot de passe est enregistré")).to_be_visible()
    wait_idle(establishment)
    screenshot(establishment, "13-mot-de-passe-enregistre")

    sign_in(establishment, live_app, EMAIL, PASSWORD)  # lands on the first page of the role: its dashboard
    expect(establishment.get_by_role("heading", name="Tableau de bord")).to_have_count(1)
    expect(establishment.get_by_text("Hôpital E2E, 44000 NANTES", exact=False).first).to_be_visible()
    expect(grid_cells(establishment, "Infirmier diplômé d'État")).to_have_count(1)  # the mission requested
    wait_idle(establishment)
    screenshot(establishment, "14-tableau-de-bord")
    establishment.get_by_role("button", name="Se déconnecter").click()
    expect(establishment.get_by_role("link", name="Se connecter").first).to_be_visible()
    expect(establishment.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    wait_idle(establishment)
    screenshot(establishment, "14b-deconnecte")
    for context in contexts:
        context.close()


def test_the_admin_reads_the_outbox(live_app, page) -> None:
    sign_in(page, live_app, "admin@example.org", DEMO_PASSWORD)
    open_page(page, "Courriels")
    screenshot(page, "15-courriels")
