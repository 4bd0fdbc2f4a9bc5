"""Markdown injection in Chromium (issue 12, defect 4): what the ARS's browser really draws.

An establishment asks for an account under the name `[Valider ici](https://evil.example/login)`; a volunteer
signs up as `![x](https://evil.example/p.png)` with a message and a file name full of Markdown and HTML. Both
go through the services, as a visitor would send them. The ARS of their region opens « Validation des
comptes », « Professionnels de la région » and the volunteer's sheet: the names read as typed, and the page
holds no link to, no image from, and makes no request to evil.example.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core.access.accounts import AccountRequest, reject_account, request_establishment_account
from core.shared.actor import to_session_user
from core.shared.clock import paris_today
from core.staffing.missions import MissionInput
from core.volunteers.professionals import RegistrationInput, register_professional
from db import models as m
from db.session import session_scope
from ops.demo_pdf import text_pdf
from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import open_page, screenshot, sign_in, tick_row, type_in, wait_idle
from tests.factories import with_luhn_key
from ui.markdown import WORD_JOINER

pytestmark = pytest.mark.e2e
ARS_USER = "ars.paysdelaloire@example.org"
LINK = "[Valider ici](https://evil.example/login)"
IMAGE = "![x](https://evil.example/p.png)"
SURNAME = "Testpiège"  # the volunteer's last name: what the ARS searches for
MESSAGE = "Bonjour,\n# Disponible tout de suite\n[mon site](https://evil.example/m) <img src=https://evil.example/i.png>"
FILE_NAME = "[diplome](https://evil.example/d).pdf"


@pytest.fixture
def hostile_request(e2e_database: str):  # noqa: ANN201
    """What a visitor sends from « Demande de compte », in the ARS's region (Angers). Refused afterwards: the
    browser tests share one database, and another one validates the first request of this queue."""
    user_id = _hostile_request(e2e_database)
    yield
    with session_scope(e2e_database) as session:
        ars = session.scalar(sa.select(m.User).where(m.User.email == ARS_USER))
        reject_account(session, actor=to_session_user(session, user=ars), user_id=user_id,
                       reason="Demande de test (injection Markdown).")


def _hostile_request(database_url: str) -> int:
    today = paris_today()
    request = AccountRequest(
        last_name=LINK, first_name=IMAGE, email="demande.piege.e2e@example.org", phone="0612345678",
        category_code="sociaux_hebergement", identifier=with_luhn_key("49000987"), establishment_name=LINK,
        address=IMAGE, postal_code="49000", city="", ars_code="52",
        missions=[MissionInput(profession_code="aide_soignant", specialty=LINK, count=1, start_date=today,
                               end_date=today + timedelta(days=10))])
    with session_scope(database_url) as session:
        return request_establishment_account(session, actor=None, request=request).user_id


def _hostile_volunteer(database_url: str) -> tuple[str, str]:
    """What a visitor sends from « Proposer mon aide », in Nantes; returns the message and the identity
    document's name as stored (core cleans what is typed: the slashes of a file's name are replaced)."""
    pdf = text_pdf("Document de test", ["Injection Markdown"])
    form = RegistrationInput(
        first_name=IMAGE, last_name=SURNAME, email="volontaire.piege.e2e@example.org", phone="0698765432",
        postal_code="44000", city="NANTES", profession_code="aide_soignant", available_from=paris_today(),
        message=MESSAGE, consent=True, documents={"identite": (FILE_NAME, pdf), "diplome": ("diplome.pdf", pdf)})
    with session_scope(database_url) as session:
        registration = register_professional(session, actor=None, form=form)
        message = session.get(m.Professional, registration.professional_id).message
        return message, session.scalar(sa.select(m.Document.filename).where(
            m.Document.professional_id == registration.professional_id, m.Document.kind == "identite"))


def _shown(locator) -> str:  # noqa: ANN001 - a Playwright locator
    """The text as the reader sees it (the word joiners that break automatic links are invisible)."""
    return locator.inner_text().replace(WORD_JOINER, "")


def _no_outside_link_nor_image(page, requests: list[str]) -> None:  # noqa: ANN001
    assert page.locator('a[href*="evil.example"]').count() == 0
    assert page.locator('img[src*="evil.example"]').count() == 0
    assert page.locator("h1, h2, h3", has_text="Disponible tout de suite").count() == 0  # « # Disponible… »
    assert requests == []


def test_hostile_names_read_as_typed_and_give_the_ars_no_link_nor_outside_image(live_app, e2e_database, page,
                                                                             hostile_request) -> None:
    message, file_name = _hostile_volunteer(e2e_database)
    assert "[mon site](https://evil.example/m)" in message and file_name.startswith("[diplome](https:")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "evil.example" in request.url else None)
    sign_in(page, live_app, ARS_USER, DEMO_PASSWORD)

    open_page(page, "Validation des comptes")
    heading = page.locator("h4", has_text="[Valider ici]")
    expect(heading).to_be_visible()
    assert _shown(heading) == LINK
    markdown = page.locator('[data-testid="stMarkdownContainer"]')
    assert _shown(markdown.filter(has_text="Demandeur").first).startswith(f"Demandeur : {IMAGE} {LINK}")
    assert _shown(markdown.filter(has_text="Adresse").first) == f"Adresse : {IMAGE}, 49000 ANGERS"
    cell = page.locator('[data-testid="stTable"] td', has_text="[Valider ici]")  # the need's specialty
    assert _shown(cell) == LINK
    _no_outside_link_nor_image(page, requests)
    heading.scroll_into_view_if_needed()
    screenshot(page, "60-injection-validation-des-comptes")

    open_page(page, "Professionnels de la région")
    type_in(page, "Nom, courriel ou commune", SURNAME)
    expect(page.get_by_text("Affichage 1 - 1 de 1")).to_be_visible()
    tick_row(page, 0)
    selected = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=SURNAME).first
    expect(selected).to_be_visible()
    assert _shown(selected).startswith(f"{IMAGE} {SURNAME} — Aide-soignant")
    _no_outside_link_nor_image(page, requests)
    screenshot(page, "61-injection-professionnels-de-la-region")

    page.get_by_role("button", name="Voir la fiche").click()
    sheet = page.get_by_role("dialog")
    expect(sheet.get_by_role("heading", name="Fiche du professionnel")).to_be_visible()
    wait_idle(page)
    assert _shown(sheet.locator("h3").first).startswith(f"{IMAGE} {SURNAME}")
    shown = sheet.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Disponible tout de suite")
    assert _shown(shown) == message
    document = sheet.get_by_role("button", name="Préparer : Pièce d'identité")
    expect(document).to_be_visible()
    label = document.locator('[data-testid="stMarkdownContainer"]')  # the label, without the button's icon
    assert _shown(label) == f"Préparer : Pièce d'identité — {file_name}"
    _no_outside_link_nor_image(page, requests)
    screenshot(page, "62-injection-fiche-du-professionnel")
