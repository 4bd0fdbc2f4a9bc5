"""A volunteer adds a document from « Mon profil » in Chromium: the real uploader, the French labels."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core.shared.security import hash_password
from db import models as m
from db.session import session_scope
from ops.demo_pdf import text_pdf
from tests.e2e.conftest import screenshot, sign_in, wait_idle

pytestmark = pytest.mark.e2e
PASSWORD = "Volontaire-E2E-2026!"


def _volunteer_without_documents(database_url: str) -> str:
    """A verified demo volunteer of nobody else's test, whose documents are removed, with a known password."""
    with session_scope(database_url) as session:
        user = session.scalars(
            sa.select(m.User).join(m.Professional, m.Professional.id == m.User.professional_id)
            .where(m.User.role == "professionnel", m.User.email != "benevole@example.org",
                   m.Professional.status == "disponible")
            .order_by(m.User.id.desc()).limit(1)
        ).one()
        user.password_hash = hash_password(PASSWORD)
        session.get(m.Professional, user.professional_id).verified = True
        session.execute(sa.delete(m.Document).where(m.Document.professional_id == user.professional_id))
        return user.email


def test_a_volunteer_adds_a_diploma_from_the_profile(live_app, e2e_database, page, tmp_path: Path) -> None:
    email = _volunteer_without_documents(e2e_database)
    sign_in(page, live_app, email, PASSWORD)
    page.goto(f"{live_app}/mon-profil")
    wait_idle(page)
    expect(page.get_by_text("Diplôme : aucun fichier.")).to_be_visible()
    expect(page.get_by_text("Votre profil porte le badge VÉRIFIÉ")).to_be_visible()
    expect(page.get_by_text("VÉRIFIÉ", exact=True)).to_have_count(1)  # the badge beside the status
    instructions = page.locator('[data-testid="stFileUploaderDropzoneInstructions"] span').first
    assert instructions.evaluate("e => getComputedStyle(e, '::after').content") == '"PDF, JPEG ou PNG — 5 Mo au plus"'
    page.get_by_text("Diplôme", exact=True).click()  # the radio: its rerun must end before the upload
    expect(page.get_by_role("radio", name="Diplôme")).to_be_checked()
    wait_idle(page)
    diploma = tmp_path / "diplôme IDE.pdf"
    diploma.write_bytes(text_pdf("Diplôme d'État infirmier", ["Document de test"]))
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(diploma)
    expect(page.get_by_text("diplôme IDE.pdf").first).to_be_visible()
    wait_idle(page)
    page.get_by_role("button", name="Enregistrer le justificatif").click()
    expect(page.get_by_text("Diplôme enregistré : « diplôme IDE.pdf ». Votre ARS le vérifiera")).to_be_visible()
    expect(page.get_by_text("VÉRIFIÉ", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Préparer : Diplôme — diplôme IDE.pdf (1 Ko)")).to_be_visible()
    expect(page.get_by_text("Diplôme : aucun fichier.")).to_have_count(0)
    wait_idle(page)
    screenshot(page, "50-mon-profil-justificatif-ajoute")
