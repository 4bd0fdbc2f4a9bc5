"""Who is signed in: a signed session cookie read and written by us, our own checks in core.access.accounts.

Sign-in goes through core.access.accounts.authenticate (lockout, account status, our French messages).

The session cookie holds a JWT (HS256, RENFORT_COOKIE_KEY): the user, its expiry, when the session was opened
and whether it is kept open. It is read from the request that opened the browser session (`st.context.cookies`)
and written or deleted by a few lines of JavaScript (`st.html`). streamlit-authenticator did this through a
component whose answers rerun the whole script: two extra runs after each sign-in and one at each page load
(measured in Chromium, docs/performance.md), the « Vue nationale » built and drawn again each time.

Core refuses a session opened before the user's `sessions_valid_after` (set by a sign-out or a new password): a
cookie captured before a sign-out opens nothing. A session not kept open ends after
RENFORT_SESSION_IDLE_MINUTES without a run, in this browser tab and in its cookie (valid that long, renewed
while the user works); « Garder la session ouverte » keeps it LONG_COOKIE_DAYS.
"""

from __future__ import annotations

import time

import jwt
import streamlit as st

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
_SIGNED_OUT_HERE = "_renfort_signed_out_here"  # the session cookie read at the opening no longer counts
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


def encode_token(username: str, *, expires_at: float, opened_at: float | None, keep: bool) -> str:
    return jwt.encode({"username": username, "exp_date": expires_at, "opened_at": opened_at, "keep": keep},
                      get_settings().cookie_key, algorithm="HS256")


def decode_token(raw: str | None, now: float) -> dict | None:
    """The token's content if it is ours (signature), unexpired and names a user; None otherwise."""
    if not raw:
        return None
    try:
        token = jwt.decode(raw, get_settings().cookie_key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    if not isinstance(token.get("username"), str) or not isinstance(token.get("exp_date"), int | float):
        return None
    return token if token["exp_date"] > now else None


def _write_cookie(days: float, now: float) -> None:
    """Sets the session cookie in the browser, lasting `days` (no answer comes back: no rerun)."""
    seconds = max(1, round(days * 86400))
    value = encode_token(st.session_state["username"], expires_at=now + seconds,
                         opened_at=st.session_state.get(SESSION_STARTED), keep=bool(st.session_state.get(KEEP)))
    _run_script(f"document.cookie = '{COOKIE_NAME}={value}; path=/; max-age={seconds}; SameSite=Strict';")


def _delete_cookie() -> None:
    _run_script(f"document.cookie = '{COOKIE_NAME}=; path=/; max-age=0; SameSite=Strict';")


def _run_script(script: str) -> None:
    # The token is base64url and dots, the name ours: nothing in the script comes from what a user typed.
    st.html(f'<span class="renfort-session-cookie"></span><script>{script}</script>', unsafe_allow_javascript=True)


def _cookie_token(now: float) -> dict | None:
    """The cookie the browser sent when this browser session opened; none once the user signed out here (the
    browser may still hold the old one until the deletion script has run)."""
    if st.session_state.get(_SIGNED_OUT_HERE):
        return None
    return decode_token(st.context.cookies.get(COOKIE_NAME), now)


def _set_signed_in(user: SessionUser) -> None:
    st.session_state.update(
        name=user.display_name,
        username=user.email,
        email=user.email,
        roles=[user.role],
        authentication_status=True,
    )
    st.session_state.pop(_SIGNED_OUT_HERE, None)


def _clear_session() -> None:
    for key in SESSION_KEYS:
        st.session_state[key] = None
    for key in (SESSION_STARTED, KEEP, LAST_SEEN, COOKIE_RENEWED, _SIGNED_IN):
        st.session_state.pop(key, None)
    st.session_state[_SIGNED_OUT_HERE] = True
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


def signed_in_here() -> bool:
    """True for the rest of a browser session opened by the sign-in form (not by a cookie, after a reload)."""
    return bool(st.session_state.get(_SIGNED_IN, False))


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


def _renew_cookie(now: float, days: float) -> None:
    """The cookie of a session not kept open lasts the idle time: renewed once half of it has gone."""
    if not st.session_state.get(KEEP) and now - st.session_state.get(COOKIE_RENEWED, now) > idle_seconds() / 2:
        _write_cookie(days, now)
        st.session_state[COOKIE_RENEWED] = now


def current_user() -> SessionUser | None:
    """The signed-in user, re-read from the database on every run (a disabled account, a session ended by a
    sign-out elsewhere or a new password, an idle session: out at once)."""
    now = time.time()
    for key in SESSION_KEYS:  # a browser session starts signed out, every key there (read with [] by tests)
        st.session_state.setdefault(key, None)
    action, days = st.session_state.pop(_COOKIE_ACTION, (None, short_cookie_days()))
    email = st.session_state.get("username") if st.session_state.get("authentication_status") else None
    if email is not None and _idle_too_long(now):
        _end_idle_session()
        email, action = None, "delete"
    user = _load(email, st.session_state.get(SESSION_STARTED)) if email else None
    if st.session_state.get(KEEP):
        days = LONG_COOKIE_DAYS
    if action == "set" and user is not None:
        _write_cookie(days, now)
        return user
    stale_cookie = action == "delete"
    if email is None and not stale_cookie:
        token = _cookie_token(now)
        user = _restore(token) if token else None
        stale_cookie = token is not None and user is None
    elif email is not None and user is None:
        _clear_session()  # disabled, signed out elsewhere, or a new password since the last run
        stale_cookie = True
    if stale_cookie:
        _delete_cookie()
    if user is not None:
        st.session_state[LAST_SEEN] = now
        _renew_cookie(now, days)
    return user
