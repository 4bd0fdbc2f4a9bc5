"""Issue 15 in Chromium: the ARS creates and publishes a call, a hospital's medical affairs office files a complete
dossier with its PDFs and confirms it, the call closes, the jury decides, the ARS publishes the results and the office
reads the decision — every step through the running app, checked in the database and the outbox."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from core.campaigns.fields import COMMITMENTS
from core.shared.clock import paris_today, utcnow
from db import models as m
from db.session import session_scope
from ops.demo_pdf import text_pdf
from ops.seed_campaigns import CAMPAIGN_ARS, DEMO_OFFICE
from tests.e2e.conftest import choose, open_page, open_tab, screenshot, sign_in, tick_row, wait_idle

PASSWORD = "Renfort-Demo-2026!"
TITLE = "Postes partagés ville-hôpital — appel de test"
MOTIVATION = "Projet partagé solide sur un territoire prioritaire."
PARTNER_EMAIL = "msp.e2e@example.org"
IDENTIFICATION = {  # what the office types; its own name, address and FINESS are prefilled
    "Type de l'établissement recruteur": "Centre hospitalier",
    "SIRET/SIREN de l'établissement recruteur": "73282932000074",
    "Directeur de l'établissement recruteur": "Claire Morel",
    "Courriel du bureau des affaires médicales": "bam.e2e@example.org",
    "Nom de la structure de soins partenaire": "Maison de santé des Lilas",
    "Type de la structure de soins partenaire": "Maison de santé pluriprofessionnelle",
    "Adresse de la structure de soins partenaire": "3 rue des Lilas",
    "Code postal de la structure de soins partenaire": "93200",
    "Commune de la structure de soins partenaire": "Saint-Denis",
    "SIRET/SIREN de la structure de soins partenaire": "123456782",
    "Responsable de la structure de soins partenaire": "Dr Paul Girard",
    "Courriel de la structure de soins partenaire": PARTNER_EMAIL,
}
TABS = {
    "Partenariat": {"Nature du projet médical partagé": "Consultations avancées et gardes partagées."},
    "Activité hospitalière": {"Service hospitalier d'accueil": "Urgences",
                              "Activité hospitalière proposée": "Deux jours par semaine aux urgences."},
    "Structure de soins": {"Activité ambulatoire proposée": "Trois jours de consultations à la maison de santé."},
    "Candidat": {"Nom du candidat": "Durand", "Prénom du candidat": "Élise", "N° RPPS du candidat": "10000000009"},
}


def _fill(page, label: str, value: str) -> None:
    """Type into the field whose label starts with `label` (mandatory ones end with « * »), then leave it: Streamlit
    takes a text's value when the field loses the focus."""
    field = page.get_by_label(re.compile("^" + re.escape(label) + r"( \*)?$"))
    for attempt in (1, 2, 3):  # a run still redrawing the page (a tab just opened) can blank what was typed
        wait_idle(page)
        field.fill(value)
        field.press("Tab")
        try:
            expect(field).to_have_value(value, timeout=10_000)
            wait_idle(page)
            expect(field).to_have_value(value, timeout=1_000)
            return
        except AssertionError:
            if attempt == 3:
                raise


def _date(page, label: str, day) -> None:  # noqa: ANN001 - a date
    """A date field is a group of segments (jj, mm, aaaa): type the digits into its first one, they move on."""
    field = page.get_by_label(re.compile("^" + re.escape(label) + r"( \*)?$"))
    field.locator('[role="spinbutton"]').first.click()
    page.keyboard.type(f"{day:%d%m%Y}")
    page.keyboard.press("Tab")
    wait_idle(page)


def _choose_file(page, index: int, pdf: Path, attempts: int = 3) -> None:
    """Choose the PDF of the index-th document: it goes to the server, then a run shows it as chosen, and only then
    may it be saved. A file chosen while a run redraws the page can be dropped by it: choose it again."""
    chosen = page.get_by_text(f"Fichier choisi, pas encore enregistré : « {pdf.name} »")
    for attempt in range(1, attempts + 1):
        page.locator('[data-testid="stFileUploader"] input[type="file"]').nth(index).set_input_files(pdf)
        try:
            expect(chosen).to_be_visible(timeout=30_000)
            break
        except AssertionError:
            if attempt == attempts:
                screenshot(page, f"echec-piece-{pdf.stem}")
                raise
            wait_idle(page)
    wait_idle(page)


def _confirm(page, opener: str, confirm: str, words: str, attempts: int = 3) -> None:
    """Open a confirmation popover and confirm: a run that redraws the page (the previous action's) closes an open
    popover, so it is opened again once the page is idle."""
    for attempt in range(1, attempts + 1):
        wait_idle(page)
        page.get_by_role("button", name=opener).click()
        try:
            page.get_by_role("button", name=confirm).click(timeout=15_000)
            break
        except PlaywrightTimeout:
            if attempt == attempts:
                screenshot(page, "echec-confirmation-popover")
                raise
    _flash(page, words)


def _flash(page, words: str, timeout: int = 60_000) -> None:
    expect(page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=words).first).to_be_visible(
        timeout=timeout)


def _submit(page, button, words: str) -> None:  # noqa: ANN001 - a Playwright locator
    """Click a save button and wait for its confirmation (these words name what was saved, so an earlier one does not
    count). A click that lands while a run redraws the page is dropped by Streamlit: click again once idle — saving
    the same values twice is harmless."""
    for attempt in (1, 2):
        wait_idle(page)
        button.click()
        try:
            _flash(page, words, timeout=30_000 if attempt == 1 else 60_000)
            return
        except AssertionError:
            if attempt == 2:
                screenshot(page, "echec-enregistrement")
                raise


def _create_and_publish(page, base_url: str) -> None:
    sign_in(page, base_url, CAMPAIGN_ARS[0], PASSWORD)
    open_page(page, "Appels à candidatures")
    page.get_by_text("Créer un appel à candidatures").click()
    _fill(page, "Intitulé", TITLE)
    today = paris_today()
    _date(page, "Ouverture", today)
    _date(page, "Clôture", today + timedelta(days=10))
    _date(page, "Confirmation du maintien du projet au plus tard le", today + timedelta(days=60))
    _date(page, "Confirmation de la prise de poste au plus tard le", today + timedelta(days=120))
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    _flash(page, "enregistré en brouillon")
    _confirm(page, "Publier l'appel…", "Oui, publier l'appel", "publié")
    screenshot(page, "70-ars-appel-publie")


def _file_dossier(page, base_url: str, pdfs: list[Path]) -> None:
    sign_in(page, base_url, DEMO_OFFICE, PASSWORD)
    open_page(page, "Appels à candidatures")
    choose(page, "Appel à candidatures", f"{TITLE} (Ouvert)")
    page.get_by_role("button", name="Déposer un nouveau dossier").click()
    wait_idle(page)
    for label, value in IDENTIFICATION.items():
        _fill(page, label, value)
    page.get_by_role("button", name="Enregistrer l'onglet et créer le dossier").click()
    _flash(page, "Dossier créé")
    for tab, fields in TABS.items():
        page.get_by_role("tab", name=tab, exact=True).click()
        wait_idle(page)
        for label, value in fields.items():
            _fill(page, label, value)
        if tab == "Candidat":
            choose(page, "Statut du candidat *", "Interne en médecine générale")
        _submit(page, page.get_by_role("button", name="Enregistrer l'onglet"), f"Onglet « {tab} » enregistré")
    page.get_by_role("tab", name="Pièces justificatives").click()
    expect(page.locator('[data-testid="stFileUploader"]')).to_have_count(len(pdfs), timeout=30_000)
    wait_idle(page)
    for index, pdf in enumerate(pdfs):
        _choose_file(page, index, pdf)
        _submit(page, page.get_by_role("button", name="Enregistrer la pièce").nth(index),
                f"enregistrée : « {pdf.name} »")
    page.get_by_role("tab", name="Confirmation").click()
    for text in COMMITMENTS.values():
        # enabled once the run that follows the last PDF has drawn the dossier complete; a click before is lost
        box = page.get_by_role("checkbox", name=text)
        try:
            expect(box).to_be_enabled(timeout=30_000)
        except AssertionError:
            screenshot(page, "echec-confirmation")
            raise AssertionError(" / ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())) from None
        page.locator('[data-testid="stCheckbox"]').filter(has=box).click()
        expect(box).to_be_checked()
        wait_idle(page)
    screenshot(page, "71-etablissement-engagements")
    page.get_by_role("button", name="Confirmer le dossier").click()
    _flash(page, "Dossier confirmé")


def _close_the_call(database_url: str) -> None:
    """Ten days pass: the call closes (the app reads the real clock, so its dates move back instead)."""
    with session_scope(database_url) as session:
        campaign = session.scalars(sa.select(m.Campaign).where(m.Campaign.title == TITLE)).one()
        campaign.opens_at -= timedelta(days=11)
        campaign.closes_at = utcnow() - timedelta(hours=1)


def _decide_and_publish(page, base_url: str) -> None:
    sign_in(page, base_url, CAMPAIGN_ARS[0], PASSWORD)
    open_page(page, "Appels à candidatures")
    tick_row(page, 0)  # the newest call first
    tick_row(page, 0, table=1)  # its one dossier
    page.get_by_text("Favorable", exact=True).click()
    _fill(page, "Motivation", MOTIVATION)
    page.get_by_role("button", name="Enregistrer la décision").click()
    _flash(page, "Avis « Favorable » enregistré")
    _confirm(page, "Publier les résultats…", "Oui, publier les résultats", "Résultats publiés")
    screenshot(page, "72-ars-resultats-publies")


def _read_decision(page, base_url: str) -> None:
    sign_in(page, base_url, DEMO_OFFICE, PASSWORD)
    open_page(page, "Appels à candidatures")
    choose(page, "Appel à candidatures", f"{TITLE} (Résultats publiés)")
    choose(page, "Dossier ouvert", "1. Élise Durand — Maison de santé des Lilas — Confirmé")
    page.get_by_role("tab", name="Décision").click()
    panel = page.get_by_role("tabpanel").filter(has_text=MOTIVATION)
    expect(panel).to_contain_text("Favorable", timeout=30_000)
    screenshot(page, "73-etablissement-decision")


def test_a_call_from_its_creation_to_the_decision_read_by_the_hospital(live_app, e2e_database, browser,
                                                                      tmp_path) -> None:
    pdfs = []
    for name in ("cv", "lettre-motivation", "lettre-engagement", "attestation-ordre"):
        pdfs.append(tmp_path / f"{name}.pdf")
        pdfs[-1].write_bytes(text_pdf(name, ["Pièce du dossier de test."]))
    for step in (_create_and_publish, lambda page, url: _file_dossier(page, url, pdfs)):
        context, page = open_tab(browser)
        step(page, live_app)
        context.close()
    _close_the_call(e2e_database)
    for step in (_decide_and_publish, _read_decision):
        context, page = open_tab(browser)
        step(page, live_app)
        context.close()
    with session_scope(e2e_database, read_only=True) as session:
        dossier = session.scalars(sa.select(m.Dossier).join(m.Campaign).where(m.Campaign.title == TITLE)).one()
        assert (dossier.state, dossier.decision, dossier.decision_reason) == ("confirme", "favorable", MOTIVATION)
        attached = session.scalar(sa.select(sa.func.count()).where(m.DossierAttachment.dossier_id == dossier.id))
        mails = {(to, subject) for to, subject in session.execute(sa.select(m.Outbox.to, m.Outbox.subject).where(
            m.Outbox.subject.contains(TITLE)))}
    assert attached == 4
    office = IDENTIFICATION["Courriel du bureau des affaires médicales"]
    assert {(to, subject.split(" — ")[1].split(" (")[0].split(" « ")[0]) for to, subject in mails} == {
        (office, "accusé de réception de votre dossier de candidature"),  # the dossier's address and the account's
        (DEMO_OFFICE, "accusé de réception de votre dossier de candidature"),
        (office, "résultats de l'appel à candidatures"), (PARTNER_EMAIL, "résultats de l'appel à candidatures")}
