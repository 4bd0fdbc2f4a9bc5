"""« Toujours disponible ? » (issue 12, fresh data): the worker asks each available volunteer unconfirmed for
RENFORT_AVAILABILITY_CONFIRM_DAYS, once per period; the single-use link confirms or pauses, no sign-in."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from core.access.tokens import InvalidLink
from core.shared.errors import Conflict
from core.volunteers.freshness import (
    AVAILABILITY_LINK_LIFETIME,
    answer_availability_check,
    availability_question,
    send_availability_checks,
)
from tests.factories import NOW, make_available_nurse, make_user
from tests.readers import events, outbox

DAYS = 14  # the default of RENFORT_AVAILABILITY_CONFIRM_DAYS


def _volunteer(session, confirmed_days_ago: int, **overrides):  # noqa: ANN001, ANN003, ANN202
    nurse = make_available_nurse(session, availability_confirmed_at=NOW - timedelta(days=confirmed_days_ago),
                                 **overrides)
    make_user(session, "professionnel", professional_id=nurse.id, email=nurse.email)
    return nurse


def _link_of(session, email: str) -> str:  # noqa: ANN001
    [mail] = [mail for mail in outbox(session) if mail.to == email]
    assert mail.subject == "Renfort RH — êtes-vous toujours disponible ?"
    link = next(word for word in mail.body_text.split() if "/toujours-disponible?jeton=" in word)
    return parse_qs(urlsplit(link).query)["jeton"][0]


def _asked(session):  # noqa: ANN001, ANN202
    """A volunteer unconfirmed for 20 days, asked by the worker at NOW: the volunteer and the link's token."""
    nurse = _volunteer(session, 20)
    send_availability_checks(session, now=NOW)
    return nurse, _link_of(session, nurse.email)


def test_the_worker_asks_available_volunteers_unconfirmed_for_fourteen_days_once(uow) -> None:
    with uow() as session:
        due = _volunteer(session, DAYS + 1)
        fresh = _volunteer(session, DAYS - 1)
        paused = _volunteer(session, 60, status="indisponible")
        assert send_availability_checks(session, now=NOW) == 1
        assert [mail.to for mail in outbox(session)] == [due.email]
        assert send_availability_checks(session, now=NOW + timedelta(days=1)) == 0  # asked lately
        # A period later: asked again, and the other one's confirmation is now old enough too; never the paused.
        assert send_availability_checks(session, now=NOW + timedelta(days=DAYS + 1)) == 2
        assert sorted(mail.to for mail in outbox(session)) == sorted([due.email, due.email, fresh.email])
        assert paused.email not in {mail.to for mail in outbox(session)}


def test_the_link_confirms_the_availability_once_without_signing_in(uow) -> None:
    with uow() as session:
        nurse, token = _asked(session)
        question = availability_question(session, actor=None, token=token, now=NOW + timedelta(hours=1))
        assert (question.first_name, question.status) == (nurse.first_name, "disponible")

        later = NOW + timedelta(days=2)
        assert answer_availability_check(session, actor=None, token=token, available=True, now=later) == "disponible"
        assert nurse.availability_confirmed_at == later
        assert [(e.entity_id, e.details) for e in events(session, "availability_confirmed")] == \
            [(str(nurse.id), {"par": "lien"})]
        with pytest.raises(InvalidLink, match="déjà été utilisé : votre réponse est enregistrée"):
            answer_availability_check(session, actor=None, token=token, available=False, now=later)


def test_the_link_pauses_the_profile_through_the_profile_rule(uow) -> None:
    with uow() as session:
        nurse, token = _asked(session)
        assert answer_availability_check(session, actor=None, token=token, available=False, now=NOW) == "indisponible"
        assert nurse.status == "indisponible"
        assert [(e.before, e.after) for e in events(session, "availability_changed")] == [("disponible", "indisponible")]


def test_a_volunteer_reserved_meanwhile_cannot_pause_and_the_link_stays_usable(uow) -> None:
    with uow() as session:
        nurse, token = _asked(session)
        nurse.status = "contacte"
        session.flush()
        with pytest.raises(Conflict, match="un établissement vous a réservé"):
            answer_availability_check(session, actor=None, token=token, available=False, now=NOW)


@pytest.mark.parametrize("status", ["contacte", "affecte"])
def test_a_volunteer_reserved_or_assigned_meanwhile_still_confirms(uow, status: str) -> None:
    with uow() as session:
        nurse, token = _asked(session)
        nurse.status = status
        session.flush()
        later = NOW + timedelta(days=1)
        assert answer_availability_check(session, actor=None, token=token, available=True, now=later) == status
        assert (nurse.status, nurse.availability_confirmed_at) == (status, later)
        assert [e.details for e in events(session, "availability_confirmed")] == [{"par": "lien"}]
        with pytest.raises(InvalidLink, match="déjà été utilisé"):
            answer_availability_check(session, actor=None, token=token, available=True, now=later)


def test_an_expired_or_unknown_link_says_why(uow) -> None:
    with uow() as session:
        nurse, token = _asked(session)
        expired = NOW + AVAILABILITY_LINK_LIFETIME + timedelta(minutes=1)
        with pytest.raises(InvalidLink, match="expiré"):
            availability_question(session, actor=None, token=token, now=expired)
        with pytest.raises(InvalidLink, match="pas valable"):
            availability_question(session, actor=None, token="n'importe-quoi", now=NOW)
