"""Names, addresses, messages and file names typed by users read as typed on every page (AppTest on app.py).

An establishment named `[Valider ici](https://evil.example/login)`, a volunteer named
`![x](https://evil.example/p.png)`, a multi-line message with a heading, a link and HTML: each page that
shows them is drawn, and every text Streamlit renders as Markdown (markdown, captions, alerts, table
cells, button / popover / expander labels…) must hold them escaped by ui.markdown.md — never the live
syntax. Chromium then checks what the reader really gets (tests/e2e/test_markdown_injection_e2e.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.shared.actor import to_session_user
from core.staffing.regulation import alert_ccs
from core.staffing.workflow import contact, validate
from db import models as m
from db.session import session_scope
from tests.factories import make_available_nurse, make_establishment, make_mission, make_user
from tests.readers import user_at
from tests.ui.conftest import open_page, signed_in, tick
from tests.ui.readers import button
from ui.candidates import PROPOSE
from ui.markdown import md

LINK = "[Valider ici](https://evil.example/login)"
IMAGE = "![x](https://evil.example/p.png)"
MESSAGE = "Bonjour,\n# Disponible tout de suite\n[mon site](https://evil.example/m) <img src=https://evil.example/i.png>"
FILE_NAME = "[diplome](https://evil.example/d).pdf"
ARS_USER = "ars.paysdelaloire@example.org"
CCS_USER = "ccs@example.org"
ADMIN = "admin@example.org"
VOLUNTEER = "benevole@example.org"
MANAGER = "gestionnaire.piege@example.org"
HOSTILE = (LINK, IMAGE, MESSAGE, FILE_NAME)
LIVE_SYNTAX = re.compile(r"(?<!\\)(\]\(|!\[|<img|https?://)")  # a link, an image, HTML or a bare address


# ---------------------------------------------------------------- what the page renders as Markdown


def _rendered(node: Any) -> list[str]:
    """Every string of the tree that Streamlit renders as Markdown: element bodies, table cells, widget and
    block labels (buttons, popovers, expanders, tabs), help tooltips."""
    found: list[str] = []
    for child in getattr(node, "children", {}).values():
        kind = getattr(child, "type", "")
        value = getattr(child, "value", None)
        if kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader",
                    "toast") and isinstance(value, str):
            found.append(value)
        if kind == "table":
            frame = child.value
            found += [str(cell) for cell in frame.to_numpy().ravel()] + [str(i) for i in frame.index]
        for attribute in ("label", "help"):
            text = getattr(child, attribute, None)
            if isinstance(text, str):
                found.append(text)
        proto = getattr(child, "proto", None)
        for block in ("expandable", "popover", "tab", "dialog"):
            if proto is not None and hasattr(proto, "HasField") and _has(proto, block):
                found += [getattr(getattr(proto, block), name) for name in ("label", "title")
                          if hasattr(getattr(proto, block), name)]
        found += _rendered(child)
    return found


def _has(proto: Any, field: str) -> bool:
    try:
        return proto.HasField(field)
    except ValueError:
        return False


def _page(app: AppTest) -> list[str]:
    return _rendered(app._tree)


def assert_inert(app: AppTest, *expected: str) -> None:
    """No user text reaches Markdown raw, and each expected one is shown, escaped."""
    assert not app.exception, app.exception
    rendered = _page(app)
    live = [text for text in rendered if LIVE_SYNTAX.search(text) or any(h in text for h in HOSTILE)]
    assert not live, f"texte utilisateur rendu en Markdown sans échappement : {live}"
    for text in expected:
        assert any(md(text) in shown for shown in rendered), f"{md(text)!r} absent de la page : {rendered}"


# ---------------------------------------------------------------- a region full of hostile names


@pytest.fixture
def hostile(demo_url: str) -> dict[str, Any]:
    """In the ARS's region (44000): an establishment and its manager, a mission alerted to the CCS, a
    volunteer with a message and a document, contacted then assigned; the demo volunteer contacted too."""
    with session_scope(demo_url) as session:
        establishment = make_establishment(session, "44000", name=LINK, address=IMAGE)
        manager = make_user(session, "etablissement", establishment=establishment, email=MANAGER,
                            first_name=IMAGE, last_name=LINK)
        mission = make_mission(session, establishment, manager, contact_name=IMAGE, specialty=LINK, count=2)
        volunteer = make_available_nurse(session, "44000", first_name=IMAGE, last_name=LINK, message=MESSAGE,
                                         status="disponible")
        session.add(m.Document(professional_id=volunteer.id, kind="diplome", filename=FILE_NAME,
                               mime="application/pdf", size=12, sha256="0" * 64, content=b"%PDF-1.4 test"))
        benevole = session.scalar(sa.select(m.Professional).where(m.Professional.email == VOLUNTEER))
        actor = to_session_user(session, user=manager)
        contact(session, actor=actor, mission_id=mission.id, professional_id=volunteer.id)
        validate(session, actor=actor, mission_id=mission.id, professional_ids=[volunteer.id])
        contact(session, actor=actor, mission_id=mission.id, professional_id=benevole.id)
        ids = {"establishment": establishment.id, "mission": mission.id, "volunteer": volunteer.id,
               "manager": manager.id}
    with session_scope(demo_url) as session:
        alert_ccs(session, actor=user_at(demo_url, ARS_USER), mission_id=ids["mission"], message=MESSAGE)
    with session_scope(demo_url) as session:  # the message as core keeps it
        ids["alert"] = session.get(m.Mission, ids["mission"]).ccs_alert_message
    return ids


def _pending_request(url: str) -> None:
    from datetime import date, timedelta

    from core.access.accounts import AccountRequest, request_establishment_account
    from core.staffing.missions import MissionInput

    request = AccountRequest(
        last_name=LINK, first_name=IMAGE, email="demande.piege@example.org", phone="0612345678",
        category_code="sociaux_hebergement", identifier="010000024", establishment_name=LINK, address=IMAGE,
        postal_code="49000", city="", ars_code="52",
        missions=[MissionInput(profession_code="aide_soignant", specialty=LINK, count=2, start_date=date.today(),
                               end_date=date.today() + timedelta(days=10))])
    with session_scope(url) as session:
        request_establishment_account(session, actor=None, request=request)


def _tick(app: AppTest, column: str, value: str) -> AppTest:
    frame = app.dataframe[0].value
    positions = [i for i, cell in enumerate(frame[column]) if cell == value]
    assert positions, f"« {value} » absent de la colonne {column}"
    return tick(app, positions[0])


# ---------------------------------------------------------------- the pages


def test_the_validation_queue_shows_a_hostile_establishment_name_as_text(app, demo_url) -> None:
    _pending_request(demo_url)
    signed_in(app, ARS_USER, "ars")
    open_page(app, "validation-des-comptes")
    assert_inert(app, LINK, IMAGE)
    assert f"#### {md(LINK)}" in [e.value for e in app.markdown]


def test_the_region_professionals_the_sheet_and_its_history_show_names_messages_and_files_as_text(
        app, demo_url, hostile) -> None:
    signed_in(app, ARS_USER, "ars")
    open_page(app, "professionnels")
    app.text_input(key="pros_text").input("evil").run()
    _tick(app, "Nom", LINK)
    assert_inert(app, f"{IMAGE} {LINK}")
    button(app, "Voir la fiche").click()
    app.run()
    assert_inert(app, f"{IMAGE} {LINK}", MESSAGE, FILE_NAME)
    history = app.table[0].value
    assert md(LINK) in list(history["Établissement"])


def test_the_ccs_alerts_show_the_establishment_and_the_message_as_text(app, demo_url, hostile) -> None:
    signed_in(app, CCS_USER, "ccs")
    open_page(app, "alertes")
    assert_inert(app, LINK, hostile["alert"])


def test_the_region_missions_and_the_proposal_page_show_the_establishment_as_text(app, demo_url, hostile) -> None:
    signed_in(app, ARS_USER, "ars")
    open_page(app, "missions-region")
    app.checkbox(key="region_unfilled").uncheck().run()
    _tick(app, "Établissement", LINK)
    assert_inert(app, LINK, hostile["alert"])
    app.session_state[PROPOSE.mission_key] = hostile["mission"]
    open_page(app, "proposer")
    assert_inert(app, LINK)


def test_my_missions_shows_the_establishment_address_and_contact_as_text(app, demo_url, hostile) -> None:
    signed_in(app, VOLUNTEER, "professionnel")
    open_page(app, "mes-missions")
    assert_inert(app, LINK, IMAGE)


def test_the_establishment_pages_show_its_name_and_its_staff_as_text(app, demo_url, hostile) -> None:
    signed_in(app, MANAGER, "etablissement")
    assert_inert(app, LINK)  # the dashboard's caption and the sidebar's card
    assert any(md(f"{IMAGE} {LINK}") in text for text in _rendered(app.sidebar))
    open_page(app, "affectations")
    _tick(app, "Nom", LINK)
    assert_inert(app, f"{IMAGE} {LINK}")
    app.text_area(key=next(t.key for t in app.text_area if t.key.startswith("cancel_reason_"))).input("Absence")
    button(app, "Confirmer l'annulation").click()
    app.run()
    assert_inert(app, f"{IMAGE} {LINK}")  # the confirmation names the volunteer
    assert any(md(f"{IMAGE} {LINK}") in s.value for s in app.success)
    open_page(app, "exports-de-donnees")
    assert_inert(app, LINK)  # « Périmètre : Établissement : … »


def test_the_outbox_shows_a_message_quoting_a_hostile_text_without_a_link_to_it(app, demo_url, hostile) -> None:
    """The CCS's e-mail about the alert quotes the ARS's message: its addresses are no « Ouvrir le lien »."""
    signed_in(app, ADMIN, "admin")
    open_page(app, "courriels")
    app.text_input(key="outbox_search").input("alerte de l'ARS").run()
    tick(app, 0)
    assert_inert(app)
    assert "evil.example" in app.text[0].value  # the body, plain text (st.text)
    links = [element.proto.url for element in app.get("link_button")]
    assert not [link for link in links if "evil.example" in link]


def test_the_accounts_panel_shows_a_hostile_user_and_establishment_as_text(app, demo_url, hostile) -> None:
    signed_in(app, ADMIN, "admin")
    open_page(app, "comptes")
    app.text_input(key="accounts_search").input(MANAGER).run()
    tick(app, 0)
    assert_inert(app, f"{IMAGE} {LINK}", LINK)


# ---------------------------------------------------------------- core messages quoting a user's text


def _flash_app() -> None:
    import streamlit as st

    from core.shared.errors import Conflict, ValidationError
    from ui.actions import read, run_action
    from ui.forms import FormState
    from ui.state import show_flash

    def refused(session, *, actor):  # noqa: ANN001, ANN202 - a service
        raise Conflict("[Valider ici](https://evil.example/login) est déjà contacté(e).")

    def invalid(session, *, actor):  # noqa: ANN001, ANN202 - a service
        raise ValidationError("name", "Le fichier « ![x](https://evil.example/p.png) » est vide.")

    show_flash()
    if st.button("Agir"):
        run_action(refused)
    read(refused)
    form = FormState("piege")
    run_action(invalid, on_error=form.capture)
    form.error("name")


def test_a_refusal_quoting_a_user_text_is_shown_escaped_in_the_flash_in_place_and_beside_a_field(app) -> None:
    flash = AppTest.from_function(_flash_app, default_timeout=30)
    flash.run()
    assert not flash.exception, flash.exception
    button(flash, "Agir").click()
    flash.run()
    flash.run()  # the flash shows at the top of the run after the action
    shown = [e.value for e in flash.error]
    refusal = md("[Valider ici](https://evil.example/login) est déjà contacté(e).")
    field = md("Le fichier « ![x](https://evil.example/p.png) » est vide.")
    assert shown.count(refusal) == 2  # the flash of run_action, the refusal of read() in place
    assert field in shown
    assert_inert(flash)
