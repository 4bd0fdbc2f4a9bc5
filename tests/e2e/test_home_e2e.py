"""The home page in a real browser, and pages that a signed-out visitor must not reach by URL."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, screenshot, wait_idle
from ui.navigation import PUBLIC_PAGES, ROLE_PAGES

pytestmark = pytest.mark.e2e


def test_the_home_page_shows_both_entry_points_and_the_figures(live_app, page) -> None:
    page.goto(live_app)
    expect(page.get_by_role("heading", name="Renfort RH")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("Je suis une structure sanitaire ou médico-sociale et j'ai besoin de renfort")).to_be_visible()
    expect(page.get_by_text("Je suis un professionnel de santé et je souhaite proposer mon aide")).to_be_visible()
    expect(page.get_by_text("Volontaires disponibles")).to_be_visible()
    screenshot(page, "01-accueil")


def _protected_paths() -> list[str]:
    public = {spec.url_path for section in PUBLIC_PAGES.values() for spec in section}
    role_paths = {
        spec.url_path for sections in ROLE_PAGES.values() for section in sections.values() for spec in section
    }
    module_paths = {p.stem for p in (ROOT / "pages").glob("*.py") if p.stem != "__init__"}
    return sorted((role_paths | module_paths) - public)


@pytest.mark.parametrize("path", _protected_paths())
def test_a_signed_out_visitor_cannot_open_a_protected_page_by_its_url(live_app, page, path: str) -> None:
    page.goto(f"{live_app}/{path}")
    wait_idle(page)
    # Either Streamlit's "page not found" notice over the home page, or the home page itself.
    expect(page.get_by_role("heading", name="Renfort RH")).to_be_visible()
    expect(page.get_by_text("Je suis un professionnel de santé et je souhaite proposer mon aide")).to_be_visible()
    assert page.get_by_role("button", name="Se déconnecter").count() == 0
