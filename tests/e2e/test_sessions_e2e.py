"""Sessions in Chromium (issue 12): a cookie captured before a sign-out opens nothing when replayed in
another browser; « Garder la session ouverte » is a real choice (cookie of 30 days, else the idle time)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import open_tab, sign_in, wait_for_session_cookie, wait_idle
from ui.auth import COOKIE_NAME

pytestmark = pytest.mark.e2e
CCS = "ccs@example.org"


def _session_cookie(page) -> dict:  # noqa: ANN001 - a Playwright page
    [cookie] = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    return cookie


def test_a_cookie_captured_before_sign_out_opens_nothing(live_app, browser, page) -> None:
    sign_in(page, live_app, CCS, DEMO_PASSWORD)
    captured = _session_cookie(page)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("link", name="Se connecter").first).to_be_visible(timeout=60_000)

    thief, other = open_tab(browser)
    try:
        thief.add_cookies([captured])
        other.goto(f"{live_app}/vue-nationale")
        expect(other.get_by_label("Adresse électronique")).to_be_visible(timeout=60_000)
        wait_idle(other)
        expect(other.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    finally:
        thief.close()


@pytest.mark.parametrize(("keep", "days"), [(True, 30), (False, 30 / 1440)])
def test_keeping_the_session_open_is_a_real_choice(live_app, page, keep: bool, days: float) -> None:
    page.goto(f"{live_app}/connexion")
    page.get_by_label("Adresse électronique").fill(CCS)
    page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    if keep:
        page.get_by_text("Garder la session ouverte").click()
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Se déconnecter").wait_for(timeout=90_000)
    wait_for_session_cookie(page)
    lasts = _session_cookie(page)["expires"] - time.time()
    assert abs(lasts - days * 86400) < 600  # within ten minutes of the promised lifetime
    page.reload()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible(timeout=60_000)  # the cookie signs in
