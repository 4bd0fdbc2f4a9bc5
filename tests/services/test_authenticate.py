"""Sign-in: bcrypt check, account status, lockout after 5 failures for 15 minutes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core.access.accounts import BAD_CREDENTIALS, authenticate, load_session_user
from db import models as m
from tests.factories import PASSWORD, make_establishment, make_user

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)


def test_the_right_password_signs_in_whatever_the_email_case(uow) -> None:
    with uow() as session:
        establishment = make_establishment(session)
        make_user(session, email="claire@example.org", establishment=establishment)
    with uow() as session:
        outcome = authenticate(session, email=" Claire@Example.org ", password=PASSWORD, now=NOW)
    assert outcome.error is None
    assert outcome.user.email == "claire@example.org"
    assert outcome.user.establishment_ids == (establishment.id,)


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(uow) -> None:
    with uow() as session:
        make_user(session, email="claire@example.org")
    with uow() as session:
        wrong = authenticate(session, email="claire@example.org", password="Mauvais-2026!", now=NOW)
        unknown = authenticate(session, email="personne@example.org", password=PASSWORD, now=NOW)
    assert wrong.error == unknown.error == BAD_CREDENTIALS


def _fail(uow, times: int, now: datetime) -> str:
    error = ""
    for _ in range(times):
        with uow() as session:
            error = authenticate(session, email="claire@example.org", password="Mauvais-2026!", now=now).error
    return error


def test_five_failures_lock_the_account_for_fifteen_minutes_and_say_until_when(uow) -> None:
    with uow() as session:
        make_user(session, email="claire@example.org")
    assert _fail(uow, 4, NOW) == BAD_CREDENTIALS
    message = _fail(uow, 1, NOW)
    assert "verrouillé" in message and "15:15" in message  # 14:00 UTC + 15 min = 15:15 in Paris (winter)
    with uow() as session:
        locked = authenticate(session, email="claire@example.org", password=PASSWORD, now=NOW + timedelta(minutes=14))
        assert locked.user is None and "verrouillé" in locked.error
    with uow() as session:
        assert authenticate(session, email="claire@example.org", password=PASSWORD,
                            now=NOW + timedelta(minutes=16)).user is not None
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Event).where(m.Event.action == "locked")) == 1


def test_a_successful_sign_in_resets_the_failure_counter(uow) -> None:
    with uow() as session:
        make_user(session, email="claire@example.org")
    _fail(uow, 4, NOW)
    with uow() as session:
        assert authenticate(session, email="claire@example.org", password=PASSWORD, now=NOW).user
    assert _fail(uow, 4, NOW) == BAD_CREDENTIALS


def test_pending_disabled_and_never_activated_accounts_cannot_sign_in(uow) -> None:
    with uow() as session:
        make_user(session, email="attente@example.org", status="pending", password=None)
        make_user(session, email="desactive@example.org", status="disabled")
        make_user(session, email="inactif@example.org", password=None)
    with uow() as session:
        pending = authenticate(session, email="attente@example.org", password=PASSWORD, now=NOW).error
        assert "en attente de validation" in pending
        assert "désactivé" in authenticate(session, email="desactive@example.org", password=PASSWORD, now=NOW).error
        never = authenticate(session, email="inactif@example.org", password=PASSWORD, now=NOW).error
        assert "pas encore activé" in never and "lien reçu" in never and "Mot de passe oublié ?" in never


def test_an_account_without_password_gets_its_status_whatever_is_typed_and_no_failure_counts(uow) -> None:
    with uow() as session:
        pending_id = make_user(session, email="attente@example.org", status="pending", password=None).id
        never_id = make_user(session, email="inactif@example.org", password=None).id
    for _ in range(7):  # more than the lockout threshold
        with uow() as session:
            assert "en attente de validation" in authenticate(
                session, email="Attente@example.org", password="n'importe-quoi", now=NOW).error
            assert "pas encore activé" in authenticate(
                session, email="inactif@example.org", password="", now=NOW).error
    with uow() as session:
        for user_id in (pending_id, never_id):
            user = session.get(m.User, user_id)
            assert user.failed_logins == 0 and user.locked_until is None
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Event).where(m.Event.action == "locked")) == 0


def test_nothing_is_revealed_for_an_unknown_email_or_a_wrong_password(uow) -> None:
    with uow() as session:
        make_user(session, email="claire@example.org")
        make_user(session, email="desactive@example.org", status="disabled")
    with uow() as session:
        answers = {
            authenticate(session, email="personne@example.org", password=PASSWORD, now=NOW).error,
            authenticate(session, email="claire@example.org", password="Mauvais-2026!", now=NOW).error,
            authenticate(session, email="desactive@example.org", password="Mauvais-2026!", now=NOW).error,
        }
    assert answers == {BAD_CREDENTIALS}
    with uow() as session:
        user = session.scalar(sa.select(m.User).where(m.User.email == "claire@example.org"))
        assert user.failed_logins == 1  # a wrong password on an active account still counts


def test_a_disabled_account_is_no_longer_a_session_user(uow) -> None:
    with uow() as session:
        user_id = make_user(session, email="claire@example.org").id
    with uow() as session:
        assert load_session_user(session, email="claire@example.org") is not None
        session.get(m.User, user_id).status = "disabled"
    with uow() as session:
        assert load_session_user(session, email="claire@example.org") is None
