"""A page action whose database connection the server cuts mid-transaction (issue 12, « Faults »), on PostgreSQL:
the page says so in French, nothing changes, and the same click works right after."""

from __future__ import annotations

from datetime import timedelta

from streamlit.testing.v1 import AppTest

from core.shared.clock import utcnow
from db import models as m
from db.session import session_scope
from tests.factories import PASSWORD, make_professional, make_user
from tests.faults import backend_terminated
from tests.ui.conftest import ROOT, open_page, sign_in_as
from tests.ui.readers import button

UNAVAILABLE = "Service momentanément indisponible, réessayez dans quelques instants : rien n'a été enregistré."


def _volunteer(url: str) -> tuple[str, int]:
    with session_scope(url) as session:
        nurse = make_professional(session, postal_code="44300", available_from=None,
                                  availability_confirmed_at=utcnow() - timedelta(days=1))
        return make_user(session, "professionnel", professional_id=nurse.id).email, nurse.id


def _status(url: str, professional_id: int) -> str:
    with session_scope(url, read_only=True) as session:
        return session.get(m.Professional, professional_id).status


def test_a_pause_cut_off_by_the_server_shows_the_french_message_and_the_next_click_works(pg_url, app_env) -> None:
    email, nurse_id = _volunteer(pg_url)
    app_env(pg_url)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, email, "professionnel").run()
    assert not app.exception, app.exception[0].stack_trace
    open_page(app, "mon-profil")

    with backend_terminated(pg_url, "INSERT INTO event") as trigger:  # after the status UPDATE, before COMMIT
        button(app, "Me rendre indisponible").click()
        app.run()
    assert trigger.killed
    assert not app.exception
    assert [e.value for e in app.error] == [UNAVAILABLE]
    assert not app.success
    assert _status(pg_url, nurse_id) == "disponible"  # the status UPDATE went with the transaction

    button(app, "Me rendre indisponible").click()
    app.run()
    assert [s.value for s in app.success] == ["Vous êtes indisponible : aucun établissement ne vous verra."]
    assert _status(pg_url, nurse_id) == "indisponible"


def test_a_page_whose_reads_find_the_server_gone_says_so_instead_of_crashing(pg_url, app_env) -> None:
    """The signed-in user is read back on every run, before any page: the server cuts that very read."""
    email, _ = _volunteer(pg_url)
    app_env(pg_url)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, email, "professionnel").run()

    with backend_terminated(pg_url, "SELECT users") as trigger:
        open_page(app, "mon-profil")
    assert trigger.killed
    assert not app.exception
    assert [e.value for e in app.error] == [UNAVAILABLE]

    app.run()  # the user tries again: the navigation is back (that run had no user to build it for)
    open_page(app, "mon-profil")
    assert not app.error and any(md.value.startswith("**Statut : Disponible**") for md in app.markdown)


def test_signing_in_while_the_server_cuts_the_connection_says_so_and_the_next_try_signs_in(pg_url, app_env) -> None:
    email, _ = _volunteer(pg_url)
    app_env(pg_url)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.run()
    open_page(app, "connexion")
    app.text_input(key="login_email").input(email)
    app.text_input(key="login_password").input(PASSWORD)
    with backend_terminated(pg_url, "UPDATE users") as trigger:  # the successful sign-in records its date
        button(app, "Se connecter").click()
        app.run()
    assert trigger.killed and not app.exception
    assert [e.value for e in app.error] == [UNAVAILABLE]
    assert not app.session_state["authentication_status"]

    app.text_input(key="login_password").input(PASSWORD)
    button(app, "Se connecter").click()
    app.run()
    assert not app.error and any(b.label == "Se déconnecter" for b in app.button)
