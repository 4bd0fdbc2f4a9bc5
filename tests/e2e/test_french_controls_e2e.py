"""What Streamlit writes in English without visible words (issue 13), seen in Chromium set to French: an empty date
field reads « jj / mm / aaaa », a dialog's close button is « Fermer », and no control is labelled in English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import open_page, screenshot, sign_in, wait_idle
from tests.ui.test_no_english import ENGLISH

pytestmark = pytest.mark.e2e

# What a reader sees in a date field: typed digits, or the placeholder our CSS draws over an empty segment.
DATE_FIELDS = """() => [...document.querySelectorAll('[data-testid="stDateInput"] [role="group"]')].map(group =>
  [...group.querySelectorAll('[data-type]')].map(part => {
    const drawn = getComputedStyle(part, '::after').content;
    return part.dataset.placeholder === 'true' && drawn !== 'none' ? drawn.replace(/^"|"$/g, '') : part.innerText;
  }).join(''))"""
LABELS = """() => [...document.querySelectorAll('[aria-label], [title], [aria-valuetext]')].flatMap(e =>
  ['aria-label', 'title', 'aria-valuetext'].map(name => e.getAttribute(name)).filter(Boolean))"""
WORD = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(w) for w in ENGLISH) + r"|Choose date|start date|end date"
                  r"|day|month|year|Empty|Zoom In|Zoom Out|Help for|file upload|Navigate to home page|App pages"
                  r"|Sidebar)(?![\w/.-])")


def _english_labels(page) -> list[str]:
    return sorted({label for label in page.evaluate(LABELS) if WORD.search(label)})


def test_an_empty_date_field_reads_jj_mm_aaaa_and_no_control_is_labelled_in_english(live_app, page) -> None:
    page.goto(f"{live_app}/proposer-mon-aide")
    expect(page.get_by_text("Jusqu'au (facultatif)")).to_be_visible()
    wait_idle(page)
    fields = page.evaluate(DATE_FIELDS)
    assert "jj/mm/aaaa" in fields  # « Jusqu'au », empty
    assert all(re.fullmatch(r"(\d{2}|jj)/(\d{2}|mm)/(\d{4}|aaaa)", field) for field in fields), fields
    assert page.evaluate("() => document.documentElement.lang") == "fr"
    assert _english_labels(page) == []
    screenshot(page, "60-champ-date-en-francais")


def test_a_dialog_closes_with_a_button_labelled_fermer(live_app, page) -> None:
    sign_in(page, live_app, "ars.paysdelaloire@example.org", DEMO_PASSWORD)
    open_page(page, "Gestion de crise")
    page.get_by_role("button", name="Activer le mode gestion de crise…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Fermer")).to_be_visible()
    assert _english_labels(page) == []
    dialog.get_by_role("button", name="Fermer").click()
    expect(dialog).to_have_count(0)
    wait_idle(page)
