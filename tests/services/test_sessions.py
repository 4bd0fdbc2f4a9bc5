"""Sessions (issue 12): a sign-out or a new password ends every session of the user — a session opened
before it is refused, whatever cookie it shows; a sign-in records the user's last activity."""

from __future__ import annotations

from datetime import timedelta

from core.access.accounts import (
    activate,
    authenticate,
    end_sessions,
    load_session_user,
    request_password_reset,
)
from db import models as m
from tests.factories import NOW, PASSWORD, make_user
from tests.readers import events, outbox


def _opened(moment) -> float:  # noqa: ANN001
    return moment.timestamp()


def test_a_sign_out_ends_every_session_opened_before_it(uow) -> None:
    with uow() as session:
        user = make_user(session, "ars", ars_code="52")
        before = load_session_user(session, email=user.email, issued_at=_opened(NOW - timedelta(hours=1)))
        assert before is not None
        end_sessions(session, actor=before, now=NOW)
        assert load_session_user(session, email=user.email, issued_at=_opened(NOW - timedelta(minutes=1))) is None
        assert load_session_user(session, email=user.email, issued_at=None) is None  # a cookie of the old format
        assert load_session_user(session, email=user.email, issued_at=_opened(NOW + timedelta(seconds=1))) is not None
        assert [e.entity_id for e in events(session, "signed_out")] == [str(user.id)]


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(uow) -> None:
    with uow() as session:
        user = make_user(session, "ccs")
        request_password_reset(session, actor=None, email=user.email, now=NOW)
        token = next(word for word in outbox(session)[-1].body_text.split() if "jeton=" in word).split("jeton=")[1]
        activate(session, actor=None, token=token, password="Nouveau-Mot-2026!", now=NOW + timedelta(minutes=5))
        assert load_session_user(session, email=user.email, issued_at=_opened(NOW)) is None
        assert load_session_user(session, email=user.email, issued_at=_opened(NOW + timedelta(minutes=6))) is not None


def test_a_sign_in_records_the_last_activity(uow) -> None:
    with uow() as session:
        user = make_user(session, "professionnel")
        assert authenticate(session, email=user.email, password=PASSWORD, now=NOW).user is not None
        assert session.get(m.User, user.id).last_login_at == NOW
        authenticate(session, email=user.email, password="faux", now=NOW + timedelta(days=1))
        assert session.get(m.User, user.id).last_login_at == NOW  # a failure is no activity
