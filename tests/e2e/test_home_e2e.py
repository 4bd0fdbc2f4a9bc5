"""The home page in a real browser, what a signed-out visitor gets at other URLs, and e-mailed links."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from navigation import PUBLIC_PAGES, all_specs
from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import ROOT, screenshot, wait_for_session_cookie, wait_idle

pytestmark = pytest.mark.e2e


def test_the_home_page_shows_both_entry_points_and_the_figures(live_app, page) -> None:
    page.goto(live_app)
    expect(page.get_by_role("heading", name="Renfort RH")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("Je suis une structure sanitaire ou médico-sociale et j'ai besoin de renfort")).to_be_visible()
    expect(page.get_by_text("Je suis un professionnel de santé et je souhaite proposer mon aide")).to_be_visible()
    expect(page.get_by_text("Volontaires disponibles")).to_be_visible()
    screenshot(page, "01-accueil")


PUBLIC = {spec.url_path for section in PUBLIC_PAGES.values() for spec in section}
ROLE_TITLES = {spec.url_path: spec.title for spec in all_specs() if spec.url_path not in PUBLIC}
MODULE_PATHS = sorted({p.stem for p in (ROOT / "pages").glob("*.py")} - {"__init__"} - PUBLIC - set(ROLE_TITLES))


@pytest.mark.parametrize("path", sorted(ROLE_TITLES))
def test_a_signed_out_visitor_gets_the_sign_in_form_instead_of_a_protected_page(live_app, page, path: str) -> None:
    page.goto(f"{live_app}/{path}")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    expect(page.get_by_text(f"La page « {ROLE_TITLES[path]} » est réservée aux comptes connectés")).to_be_visible()
    expect(page.get_by_role("heading", name=ROLE_TITLES[path], exact=True)).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    assert page.get_by_role("button", name="Se déconnecter").count() == 0


@pytest.mark.parametrize("path", MODULE_PATHS)
def test_a_page_module_is_not_reachable_by_its_file_name(live_app, page, path: str) -> None:
    page.goto(f"{live_app}/{path}")
    wait_idle(page)
    # Streamlit's "page not found" notice over the home page.
    expect(page.get_by_role("heading", name="Renfort RH")).to_be_visible()
    expect(page.get_by_text("Je suis un professionnel de santé et je souhaite proposer mon aide")).to_be_visible()
    assert page.get_by_role("button", name="Se déconnecter").count() == 0


def test_a_link_from_an_e_mail_opens_its_page_before_and_after_signing_in(live_app, page) -> None:
    """The e-mails link to /tableau-de-bord: signed out, the form; signed in, or on reload, the page."""
    page.goto(f"{live_app}/tableau-de-bord")
    wait_idle(page)
    page.get_by_label("Adresse électronique").fill("etablissement@example.org")
    page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # While the signed-in run replaces the form, the previous run's heading may stand beside the new one.
    expect(page.get_by_role("heading", name="Tableau de bord")).to_have_count(1, timeout=60_000)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    # The URL is the link's, or "/" when the linked page is the first of the role (on the sign-in run
    # it is Streamlit's default page, served at the root): both open this page again on reload.
    assert page.url.removeprefix(live_app) in ("/", "/tableau-de-bord")
    wait_for_session_cookie(page)
    page.goto(f"{live_app}/tableau-de-bord")  # the e-mail link again, signed in this time
    wait_idle(page)
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    page.goto(live_app)  # the root sends a signed-in user on to the first page of the role
    wait_idle(page)
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
