"""Admin page "Courriels" through the whole app (AppTest on app.py): the outbox without SMTP."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.mail import emails
from core.mail.outbox import queue_email
from core.shared.clock import utcnow
from db.models import Event, Outbox
from db.session import session_scope
from tests.readers import user_at
from tests.ui.conftest import open_page, sign_in_as
from ui.markdown import md

TABLE = "outbox_table::1"  # the key carries the search and the page, so a new search clears the selection


def _queue(url: str, *recipients: str) -> dict[str, str]:
    """An outbox holding exactly one password e-mail per recipient, in this order (the demo's own
    e-mails are removed first); returns each recipient's link."""
    links = {}
    with session_scope(url) as session:
        session.execute(sa.delete(Outbox))
        for number, to in enumerate(recipients):
            links[to] = emails.link_to(emails.ACTIVATION_PATH, jeton=f"jeton-de-test-{number}")
            queue_email(session, dedup_key=f"test-outbox:{number}", to=to,
                        content=emails.password_link(f"Prénom{number}", links[to]))
    return links


def _open_outbox(app: AppTest) -> AppTest:
    sign_in_as(app, "admin@example.org", "admin").run()
    return open_page(app, "courriels")


def _captions(app: AppTest) -> list[str]:
    return [c.value for c in app.caption]


def _select_row(app: AppTest, position: int) -> AppTest:
    app.session_state[TABLE] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    return app.run()


def test_the_outbox_lists_every_message_newest_first(app, demo_url) -> None:
    _queue(demo_url, "alice@example.org", "bruno@example.org", "chloe@example.org")
    _open_outbox(app)
    assert not app.exception
    assert "Affichage 1 - 3 de 3" in _captions(app)
    frame = app.dataframe[0].value
    assert list(frame["Destinataire"]) == ["chloe@example.org", "bruno@example.org", "alice@example.org"]
    assert set(frame["Objet"]) == {"Renfort RH — choisir votre mot de passe"}
    assert set(frame["Statut"]) == {"en attente"}
    assert not app.get("link_button")  # no message opened yet


def test_selecting_a_row_shows_the_message_and_a_button_to_its_link(app, demo_url) -> None:
    links = _queue(demo_url, "alice@example.org", "bruno@example.org")
    _open_outbox(app)
    _select_row(app, 0)
    assert not app.exception
    buttons = app.get("link_button")
    assert [(b.label, b.url) for b in buttons] == [("Ouvrir le lien du message", links["bruno@example.org"])]
    assert [c.value for c in app.code] == [links["bruno@example.org"]]
    body = app.text[0].value
    assert body.startswith("Bonjour Prénom1,")
    assert f"Choisir mon mot de passe : {links['bruno@example.org']}" in body
    assert f"**Renfort RH — choisir votre mot de passe**  \nÀ : {md('bruno@example.org')} — en attente" in [
        element.value for element in app.markdown]


def test_the_search_box_filters_on_recipient_or_subject(app, demo_url) -> None:
    _queue(demo_url, "alice@example.org", "bruno@example.org", "chloe@example.org")
    _open_outbox(app)
    app.text_input(key="outbox_search").input("BRUNO").run()
    assert "Affichage 1 - 1 de 1" in _captions(app)
    assert list(app.dataframe[0].value["Destinataire"]) == ["bruno@example.org"]

    app.text_input(key="outbox_search").input("mot de passe").run()
    assert "Affichage 1 - 3 de 3" in _captions(app)

    app.text_input(key="outbox_search").input("personne@nulle-part.fr").run()
    assert [i.value for i in app.info if i.value == "Aucun courriel."] == ["Aucun courriel."]
    assert not app.dataframe


def test_the_outbox_pages_by_fifty(app, demo_url) -> None:
    _queue(demo_url, *(f"volontaire{n:02d}@example.org" for n in range(55)))
    _open_outbox(app)
    assert "Affichage 1 - 50 de 55" in _captions(app)
    assert len(app.dataframe[0].value) == 50
    app.number_input(key="outbox_page").set_value(2).run()
    assert "Affichage 51 - 55 de 55" in _captions(app)
    assert list(app.dataframe[0].value["Destinataire"]) == [f"volontaire{n:02d}@example.org" for n in range(4, -1, -1)]


def _navigation(app: AppTest) -> tuple[set[str], set[str]]:
    """Titles and URL paths of the pages registered for this session (the default page's path is "")."""
    pages = app._registered_pages.values()
    return {info.get("page_name") for info in pages}, {info.get("url_pathname") for info in pages}


def test_only_an_admin_has_the_outbox_page(app) -> None:
    sign_in_as(app, "admin@example.org", "admin").run()
    titles, _ = _navigation(app)
    assert "Courriels" in titles
    sign_in_as(app, "ccs@example.org", "ccs").run()
    titles, paths = _navigation(app)
    assert "Validation des comptes" in titles  # the navigation of the CCS was rebuilt…
    assert "Courriels" not in titles and "courriels" not in paths  # …without the outbox


def test_an_interrupted_send_is_flagged_and_requeued_by_hand(app, demo_url) -> None:
    _queue(demo_url, "alice@example.org")
    with session_scope(demo_url) as session:  # what a worker that crashed mid-send leaves behind
        row = session.scalars(sa.select(Outbox)).one()
        row.status, row.claimed_at = "sending", utcnow() - timedelta(hours=1)
    _open_outbox(app)
    _select_row(app, 0)
    assert not app.exception
    assert app.warning[0].value.startswith("L'envoi de ce courriel a été interrompu")
    app.button(key=f"requeue_{row.id}").click().run()
    assert [s.value for s in app.success] == [
        f"Courriel n° {row.id} remis en file : le prochain passage du worker l'enverra."]
    with session_scope(demo_url, read_only=True) as session:
        again = session.get(Outbox, row.id)
        assert (again.status, again.claimed_at) == ("pending", None)


def test_an_interrupted_send_the_recipient_received_is_marked_sent_by_hand(app, demo_url) -> None:
    _queue(demo_url, "alice@example.org")
    claimed = utcnow() - timedelta(hours=1)
    with session_scope(demo_url) as session:  # what a worker that crashed mid-send leaves behind
        row = session.scalars(sa.select(Outbox)).one()
        row.status, row.claimed_at = "sending", claimed
    _open_outbox(app)
    _select_row(app, 0)
    assert app.warning[0].value.startswith("L'envoi de ce courriel a été interrompu")
    app.button(key=f"mark_sent_{row.id}").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        f"Courriel n° {row.id} marqué comme envoyé : il ne sera pas renvoyé."]
    assert list(app.dataframe[0].value["Statut"]) == ["envoyé"]
    with session_scope(demo_url, read_only=True) as session:
        sent = session.get(Outbox, row.id)
        assert (sent.status, sent.sent_at.replace(tzinfo=None), sent.attempts) == (
            "sent", claimed.replace(tzinfo=None), 1)
        event = session.scalars(sa.select(Event).where(Event.entity == "outbox")).one()
        assert (event.actor_user_id, event.action, event.before, event.after) == (
            user_at(demo_url, "admin@example.org").id, "marked_sent", "sending", "sent")
    _select_row(app, 0)
    assert not app.warning  # no longer « à vérifier »: nothing left to requeue or mark
    assert not [b for b in app.button if b.key in (f"mark_sent_{row.id}", f"requeue_{row.id}")]
