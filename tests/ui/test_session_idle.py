"""A session not kept open ends after RENFORT_SESSION_IDLE_MINUTES without a run; a kept one does not
(AppTest on app.py; the cookie side is in tests/e2e/test_sessions_e2e.py)."""

from __future__ import annotations

import time

from tests.ui.conftest import signed_in
from ui import auth

ARS_USER = "ars.paysdelaloire@example.org"


def _idle(app, minutes: float):  # noqa: ANN001, ANN202
    app.session_state[auth.LAST_SEEN] = time.time() - minutes * 60
    return app.run()


def test_an_idle_session_ends_with_a_french_message(app) -> None:
    signed_in(app, ARS_USER, "ars")
    assert app.title[0].value == "Missions de la région"
    _idle(app, 29)
    assert app.title[0].value == "Missions de la région"  # under the limit: still signed in
    _idle(app, 31)
    assert not app.exception
    assert [e.value for e in app.error] == [
        "Votre session a pris fin après 30 minutes d'inactivité : reconnectez-vous (cochez « Garder la session "
        "ouverte » sur un poste personnel)."]
    assert not app.session_state["authentication_status"]


def test_a_session_kept_open_survives_the_idle_time(app) -> None:
    signed_in(app, ARS_USER, "ars")
    app.session_state[auth.KEEP] = True
    _idle(app, 600)
    assert app.title[0].value == "Missions de la région" and not app.error
