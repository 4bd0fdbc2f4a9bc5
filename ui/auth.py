"""Who is signed in: streamlit-authenticator's signed cookie, our own checks in core.access.accounts.

The library keeps what it does well: the signed (JWT) session cookie, its reading and deletion.
Sign-in goes through core.access.accounts.authenticate (lockout, account status, our French messages) and
only the signed-in account is ever handed to the library, never the whole user table.
"""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth

from core.access.accounts import authenticate, load_session_user
from core.shared.actor import SessionUser
from core.shared.config import get_settings
from db.session import session_scope

COOKIE_NAME = "renfort_rh_session"
LONG_COOKIE_DAYS = 30.0  # "Garder la session ouverte"
SHORT_COOKIE_DAYS = 0.5  # otherwise: the working day
_COOKIE_ACTION = "_renfort_cookie_action"
_SIGNED_OUT = "_renfort_signed_out"
_SIGNED_IN = "_renfort_signed_in"
SESSION_KEYS = ("name", "username", "authentication_status", "email", "roles")


def _credentials(user: SessionUser | None) -> dict:
    if user is None:
        return {"usernames": {}}
    entry = {"name": user.display_name, "email": user.email, "password": "", "roles": [user.role]}
    return {"usernames": {user.email: entry}}


def _authenticator(user: SessionUser | None, cookie_days: float) -> stauth.Authenticate:
    return stauth.Authenticate(
        _credentials(user),
        COOKIE_NAME,
        get_settings().cookie_key,
        cookie_days,
        auto_hash=False,
        login_sleep_time=0,
    )


def _set_signed_in(user: SessionUser) -> None:
    st.session_state.update(
        name=user.display_name,
        username=user.email,
        email=user.email,
        roles=[user.role],
        authentication_status=True,
        logout=None,
    )


def _clear_session() -> None:
    for key in SESSION_KEYS:
        st.session_state[key] = None
    # The library then ignores the cookie for the rest of this browser session.
    st.session_state["logout"] = True
    st.session_state.pop("current_establishment", None)


def sign_in_callback() -> None:
    """on_click of the sign-in form: runs before the script, so the navigation sees the new user."""
    email = st.session_state.get("login_email", "")
    password = st.session_state.get("login_password", "")
    keep = bool(st.session_state.get("login_keep", False))
    st.session_state["login_password"] = ""
    with session_scope() as session:
        outcome = authenticate(session, email=email, password=password)
    if outcome.user is None:
        st.session_state["login_error"] = outcome.error
        return
    st.session_state.pop("login_error", None)
    _set_signed_in(outcome.user)
    st.session_state[_COOKIE_ACTION] = ("set", LONG_COOKIE_DAYS if keep else SHORT_COOKIE_DAYS)
    st.session_state[_SIGNED_IN] = True


def sign_out_callback() -> None:
    _clear_session()
    st.session_state[_COOKIE_ACTION] = ("delete", SHORT_COOKIE_DAYS)
    st.session_state[_SIGNED_OUT] = True


def just_signed_out() -> bool:
    """True once, on the run right after a sign-out."""
    return bool(st.session_state.pop(_SIGNED_OUT, False))


def just_signed_in() -> bool:
    """True once, on the run right after a sign-in: the run that writes the session cookie."""
    return bool(st.session_state.pop(_SIGNED_IN, False))


def _email_from_cookie(authenticator: stauth.Authenticate) -> str | None:
    token = authenticator.cookie_controller.get_cookie()
    return token.get("username") if token else None


def _load(email: str) -> SessionUser | None:
    with session_scope(read_only=True) as session:
        return load_session_user(session, email=email)


def current_user() -> SessionUser | None:
    """The signed-in user, re-read from the database on every run (a disabled account is out at once)."""
    action, days = st.session_state.pop(_COOKIE_ACTION, (None, SHORT_COOKIE_DAYS))
    email = st.session_state.get("username") if st.session_state.get("authentication_status") else None
    user = _load(email) if email else None
    authenticator = _authenticator(user, days)  # renders the cookie component: once per run
    if action == "set" and user is not None:
        authenticator.cookie_controller.set_cookie()
        return user
    stale_cookie = action == "delete"
    if email is None and not stale_cookie:
        cookie_email = _email_from_cookie(authenticator)
        user = _load(cookie_email) if cookie_email else None
        if user is not None:
            _set_signed_in(user)
        stale_cookie = cookie_email is not None and user is None
    elif email is not None and user is None:
        _clear_session()  # disabled or deleted since the last run
        stale_cookie = True
    if stale_cookie:
        authenticator.cookie_controller.delete_cookie()
    return user
