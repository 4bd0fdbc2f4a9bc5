"""The session cookie's token: streamlit-authenticator 0.4.2 encodes {username, exp_date}; ui.auth adds when
the session was opened and whether it is kept open. Fails loudly if a library upgrade changes the encoding
that ui.auth._stamp_tokens replaces."""

from __future__ import annotations

import inspect

import jwt
from streamlit_authenticator.models.cookie_model import CookieModel

from ui import auth


def test_the_library_still_encodes_only_the_user_and_an_expiry() -> None:
    source = inspect.getsource(CookieModel._token_encode)
    assert "'username': st.session_state['username']" in source and "'exp_date': self.exp_date" in source
    assert "algorithm='HS256'" in source
    assert "jwt.decode(self.token, self.cookie_key, algorithms=['HS256'])" in inspect.getsource(CookieModel._token_decode)


class _Model:
    cookie_key = "clé-de-test"
    exp_date = 1_900_000_000.0


def test_our_token_carries_the_opening_time_and_the_keep_choice(monkeypatch) -> None:
    state = {"username": "ars@example.org", auth.SESSION_STARTED: 1_800_000_000.5, auth.KEEP: True}
    monkeypatch.setattr(auth.st, "session_state", state)
    model = _Model()
    auth._stamp_tokens(model)
    token = jwt.decode(model._token_encode(), "clé-de-test", algorithms=["HS256"])
    assert token == {"username": "ars@example.org", "exp_date": 1_900_000_000.0, "opened_at": 1_800_000_000.5,
                     "keep": True}
