"""Typing in a field, then clicking a menu link at once (no Enter, no Tab): one click opens the page, and the text
is still there on coming back (ui.late_commit). Before, the first click always left the user where they typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import open_page, sign_in, wait_idle

pytestmark = pytest.mark.e2e


def _menu_link(page, name: str):  # noqa: ANN001, ANN202 - Playwright Page and Locator
    return page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name, exact=True)


def test_one_click_on_the_menu_right_after_typing_opens_the_page_and_keeps_the_text(live_app, page) -> None:
    sign_in(page, live_app, "etablissement@example.org", DEMO_PASSWORD)
    open_page(page, "Nouveau besoin")
    field = page.get_by_label("Spécialité")
    field.click()
    field.fill("gériatrie aiguë")
    _menu_link(page, "Tableau de bord").click()  # once: the field's value leaves the browser after this click
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    wait_idle(page)
    open_page(page, "Nouveau besoin")
    expect(page.get_by_label("Spécialité")).to_have_value("gériatrie aiguë")


def test_going_to_a_page_and_straight_back_stays_back(live_app, page) -> None:
    # The run of the page left, right after a run of another page, is not always a late value: here the user
    # changed their mind, nothing new was typed, and they stay where they clicked last.
    sign_in(page, live_app, "etablissement@example.org", DEMO_PASSWORD)
    open_page(page, "Nouveau besoin")
    field = page.get_by_label("Spécialité")
    field.fill("urgences")
    field.press("Enter")
    wait_idle(page)
    _menu_link(page, "Tableau de bord").click()
    _menu_link(page, "Nouveau besoin").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Nouveau besoin")).to_be_visible()
    expect(page.get_by_role("heading", name="Tableau de bord")).to_have_count(0)
    expect(page.get_by_label("Spécialité")).to_have_value("urgences")
