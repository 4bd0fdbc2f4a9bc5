"""Who is signed in: streamlit-authenticator's signed cookie, our own checks in core.access.accounts.

The library keeps what it does well: the signed (JWT) session cookie, its reading and deletion.
Sign-in goes through core.access.accounts.authenticate (lockout, account status, our French messages) and
only the signed-in account is ever handed to the library, never the whole user table.

Sessions: the library's token holds only the user and an expiry; ours also carries when the session was
opened and whether it is kept open (`_stamp_tokens`). Core refuses a session opened before the user's
`sessions_valid_after` (set by a sign-out or a new password): a cookie captured before a sign-out opens
nothing. A session not kept open ends after RENFORT_SESSION_IDLE_MINUTES without a run, in this browser
tab and in its cookie (valid that long, renewed while the user works); « Garder la session ouverte »
keeps it LONG_COOKIE_DAYS.
"""

from __future__ import annotations

import time

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from core.access.accounts import authenticate, end_sessions, load_session_user
from core.shared.actor import SessionUser
from core.shared.config import get_settings
from core.shared.errors import ServiceUnavailable
from db.session import session_scope
from ui.actions import run_action
from ui.state import flash

COOKIE_NAME = "renfort_rh_session"
LONG_COOKIE_DAYS = 30.0  # "Garder la session ouverte"
_COOKIE_ACTION = "_renfort_cookie_action"
_SIGNED_OUT = "_renfort_signed_out"
_SIGNED_IN = "_renfort_signed_in"
SESSION_STARTED = "_renfort_session_started"  # Unix time the session was opened (sign-in, or its cookie's)
KEEP = "_renfort_keep_session"
LAST_SEEN = "_renfort_last_seen"  # Unix time of this browser session's last run
COOKIE_RENEWED = "_renfort_cookie_renewed"
SESSION_KEYS = ("name", "username", "authentication_status", "email", "roles")


def idle_seconds() -> float:
    return get_settings().session_idle_minutes * 60.0


def short_cookie_days() -> float:
    """A session not kept open: its cookie lasts the idle time, renewed while the user works."""
    return idle_seconds() / 86400


def _credentials(user: SessionUser | None) -> dict:
    if user is None:
        return {"usernames": {}}
    entry = {"name": user.display_name, "email": user.email, "password": "", "roles": [user.role]}
    return {"usernames": {user.email: entry}}


def _authenticator(user: SessionUser | None, cookie_days: float) -> stauth.Authenticate:
    authenticator = stauth.Authenticate(
        _credentials(user),
        COOKIE_NAME,
        get_settings().cookie_key,
        cookie_days,
        auto_hash=False,
        login_sleep_time=0,
    )
    _stamp_tokens(authenticator.cookie_controller.cookie_model)
    return authenticator


def _stamp_tokens(model) -> None:  # noqa: ANN001 - streamlit_authenticator's CookieModel
    """The cookie's token also says when the session was opened and whether it is kept open.

    The library encodes {username, exp_date} in CookieModel._token_encode (checked against 0.4.2 by
    tests/unit/test_session_cookie.py, which fails if an upgrade changes it); its reading is untouched.
    """
    def encode() -> str:
        return jwt.encode({"username": st.session_state["username"], "exp_date": model.exp_date,
                           "opened_at": st.session_state.get(SESSION_STARTED),
                           "keep": bool(st.session_state.get(KEEP))}, model.cookie_key, algorithm="HS256")

    model._token_encode = encode


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
    for key in (SESSION_STARTED, KEEP, LAST_SEEN, COOKIE_RENEWED):
        st.session_state.pop(key, None)
    # The library then ignores the cookie for the rest of this browser session.
    st.session_state["logout"] = True
    st.session_state.pop("current_establishment", None)


def sign_in_callback() -> None:
    """on_click of the sign-in form: runs before the script, so the navigation sees the new user."""
    email = st.session_state.get("login_email", "")
    password = st.session_state.get("login_password", "")
    keep = bool(st.session_state.get("login_keep", False))
    st.session_state["login_password"] = ""
    try:
        with session_scope() as session:
            outcome = authenticate(session, email=email, password=password)
    except ServiceUnavailable as error:
        st.session_state["login_error"] = error.message
        return
    if outcome.user is None:
        st.session_state["login_error"] = outcome.error
        return
    st.session_state.pop("login_error", None)
    _set_signed_in(outcome.user)
    now = time.time()
    st.session_state.update({SESSION_STARTED: now, KEEP: keep, LAST_SEEN: now, COOKIE_RENEWED: now})
    st.session_state[_COOKIE_ACTION] = ("set", LONG_COOKIE_DAYS if keep else short_cookie_days())
    st.session_state[_SIGNED_IN] = True


def sign_out_callback() -> None:
    """Sign-out ends every session of the user, in every browser (core refuses their older cookies)."""
    if st.session_state.get("authentication_status"):
        run_action(end_sessions)
    _clear_session()
    st.session_state[_COOKIE_ACTION] = ("delete", short_cookie_days())
    st.session_state[_SIGNED_OUT] = True


def renew_session() -> None:
    """After the user's own password change: this session goes on, opened anew; every other one ended."""
    if not st.session_state.get("authentication_status"):
        return
    now = time.time()
    st.session_state.update({SESSION_STARTED: now, COOKIE_RENEWED: now})
    keep = st.session_state.get(KEEP)
    st.session_state[_COOKIE_ACTION] = ("set", LONG_COOKIE_DAYS if keep else short_cookie_days())


def just_signed_out() -> bool:
    """True once, on the run right after a sign-out."""
    return bool(st.session_state.pop(_SIGNED_OUT, False))


def just_signed_in() -> bool:
    """True once, on the run right after a sign-in: the run that writes the session cookie."""
    return bool(st.session_state.pop(_SIGNED_IN, False))


def _token(authenticator: stauth.Authenticate) -> dict | None:
    token = authenticator.cookie_controller.get_cookie()
    return token or None


def _load(email: str, opened_at: float | None) -> SessionUser | None:
    with session_scope(read_only=True) as session:
        return load_session_user(session, email=email, issued_at=opened_at)


def _restore(token: dict) -> SessionUser | None:
    """A new browser session (a reload, a new tab) signed in by its cookie, if core still accepts it."""
    user = _load(token.get("username", ""), token.get("opened_at"))
    if user is not None:
        _set_signed_in(user)
        st.session_state.update({SESSION_STARTED: token.get("opened_at"), KEEP: bool(token.get("keep")),
                                 COOKIE_RENEWED: time.time()})
    return user


def _idle_too_long(now: float) -> bool:
    last_seen = st.session_state.get(LAST_SEEN)
    return not st.session_state.get(KEEP) and last_seen is not None and now - last_seen > idle_seconds()


def _end_idle_session() -> None:
    _clear_session()
    flash("error", f"Votre session a pris fin après {get_settings().session_idle_minutes} minutes d'inactivité : "
                   "reconnectez-vous (cochez « Garder la session ouverte » sur un poste personnel).")


def _renew_cookie(authenticator: stauth.Authenticate, now: float) -> None:
    """The cookie of a session not kept open lasts the idle time: renewed once half of it has gone."""
    if not st.session_state.get(KEEP) and now - st.session_state.get(COOKIE_RENEWED, now) > idle_seconds() / 2:
        authenticator.cookie_controller.set_cookie()
        st.session_state[COOKIE_RENEWED] = now


def current_user() -> SessionUser | None:
    """The signed-in user, re-read from the database on every run (a disabled account, a session ended by a
    sign-out elsewhere or a new password, an idle session: out at once)."""
    now = time.time()
    action, days = st.session_state.pop(_COOKIE_ACTION, (None, short_cookie_days()))
    email = st.session_state.get("username") if st.session_state.get("authentication_status") else None
    if email is not None and _idle_too_long(now):
        _end_idle_session()
        email, action = None, "delete"
    user = _load(email, st.session_state.get(SESSION_STARTED)) if email else None
    if st.session_state.get(KEEP):
        days = LONG_COOKIE_DAYS
    authenticator = _authenticator(user, days)  # renders the cookie component: once per run
    if action == "set" and user is not None:
        authenticator.cookie_controller.set_cookie()
        return user
    stale_cookie = action == "delete"
    if email is None and not stale_cookie:
        token = _token(authenticator)
        user = _restore(token) if token else None
        stale_cookie = token is not None and user is None
    elif email is not None and user is None:
        _clear_session()  # disabled, signed out elsewhere, or a new password since the last run
        stale_cookie = True
    if stale_cookie:
        authenticator.cookie_controller.delete_cookie()
    if user is not None:
        st.session_state[LAST_SEEN] = now
        _renew_cookie(authenticator, now)
    return user
