"""Lockout under a burst: wrong passwords sent at the same instant each count (DESIGN §5: 5 failures → 15 min).

Each thread opens its own unit of work, waits on a barrier, then signs in with a wrong password. A counter
read in Python and written back lets the concurrent failures overwrite each other on PostgreSQL (ten
failures left `failed_logins = 1` and no lock); the increment is one UPDATE … RETURNING, so it cannot.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.access.accounts import BAD_CREDENTIALS, LOCK_DURATION, MAX_FAILED_LOGINS, authenticate
from db import models as m
from tests.factories import NOW, PASSWORD, make_user
from tests.services.test_concurrency import race

EMAIL = "claire@example.org"
WRONG = "Mauvais-2026!"


def _locked_events(session) -> int:  # noqa: ANN001
    return session.scalar(sa.select(sa.func.count()).select_from(m.Event).where(m.Event.action == "locked"))


@pytest.mark.parametrize("threads", [10, 20])
def test_simultaneous_wrong_passwords_all_count_and_lock_the_account(uow, db_url: str, threads: int) -> None:
    with uow() as session:
        user_id = make_user(session, email=EMAIL).id

    outcomes = race(db_url, {
        f"essai{i:02d}": lambda session: authenticate(session, email=EMAIL, password=WRONG, now=NOW)
        for i in range(threads)
    })

    errors = [outcome.error for outcome in outcomes.values() if not outcome.ok]
    assert errors == [], f"a sign-in raised instead of answering: {errors[:3]}"
    answers = [outcome.value for outcome in outcomes.values()]
    assert all(answer.user is None for answer in answers)
    refused = sorted(answer.error for answer in answers)
    # The first four failures get the plain refusal; the fifth and every later one say the account is locked.
    assert refused.count(BAD_CREDENTIALS) == MAX_FAILED_LOGINS - 1
    assert sum("verrouillé" in text for text in refused) == threads - (MAX_FAILED_LOGINS - 1)
    with uow() as session:
        user = session.get(m.User, user_id)
        # Every failure checked before the lock counts (on SQLite the sign-ins queue, so those after the
        # fifth find the account locked and are refused without counting).
        assert MAX_FAILED_LOGINS <= user.failed_logins <= threads
        assert user.locked_until == NOW + LOCK_DURATION
        assert _locked_events(session) == 1  # one lock, recorded once
    with uow() as session:
        right = authenticate(session, email=EMAIL, password=PASSWORD, now=NOW + timedelta(minutes=1))
    assert right.user is None and "verrouillé" in right.error and "Mot de passe oublié" in right.error


def test_after_the_lock_expires_the_count_starts_again_and_success_resets_it(uow) -> None:
    with uow() as session:
        user_id = make_user(session, email=EMAIL).id
    for _ in range(MAX_FAILED_LOGINS + 2):  # two more while locked: refused without counting
        with uow() as session:
            authenticate(session, email=EMAIL, password=WRONG, now=NOW)
    later = NOW + LOCK_DURATION + timedelta(minutes=1)
    with uow() as session:
        assert authenticate(session, email=EMAIL, password=WRONG, now=later).error == BAD_CREDENTIALS
    with uow() as session:
        user = session.get(m.User, user_id)
        assert (user.failed_logins, user.locked_until) == (1, None)  # a new window, not relocked at once
    with uow() as session:
        assert authenticate(session, email=EMAIL, password=PASSWORD, now=later).user is not None
    with uow() as session:
        user = session.get(m.User, user_id)
        assert (user.failed_logins, user.locked_until) == (0, None)
        assert _locked_events(session) == 1
