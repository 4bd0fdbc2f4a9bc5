"""Database constraints hold on both engines, whatever the code above them does."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from db import models as m
from tests.factories import make_establishment, make_mission, make_professional, make_user


def test_user_emails_are_unique_whatever_the_case(uow) -> None:
    with uow() as session:
        make_user(session, email="claire@example.org")
    with pytest.raises(IntegrityError), uow() as session:
        make_user(session, email="CLAIRE@Example.org")


def test_a_rejected_account_frees_its_email(uow) -> None:
    with uow() as session:
        make_user(session, email="claire@example.org", status="rejected")
        make_user(session, email="claire@example.org")
    with uow() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.User)) == 2


def test_finess_is_unique_among_live_establishments_and_freed_by_rejection(uow) -> None:
    with uow() as session:
        make_establishment(session, finess="750100125", status="rejected")
        make_establishment(session, finess="750100125")
    with pytest.raises(IntegrityError), uow() as session:
        make_establishment(session, finess="750100125", status="pending")


@pytest.mark.parametrize("overrides", [
    {"count": -1},
    {"start_date": date(2026, 12, 10), "end_date": date(2026, 12, 9)},
    {"status": "supprimee"},
])
def test_mission_constraints(uow, overrides: dict) -> None:
    with uow() as session:
        establishment = make_establishment(session)
        creator = make_user(session, establishment=establishment)
        ids = (establishment.id, creator.id)
    with pytest.raises(IntegrityError), uow() as session:
        establishment, creator = session.get(m.Establishment, ids[0]), session.get(m.User, ids[1])
        make_mission(session, establishment, creator, **overrides)


def test_unknown_statuses_and_roles_are_refused(uow) -> None:
    with pytest.raises(IntegrityError), uow() as session:
        make_user(session, role="superadmin")
    with pytest.raises(IntegrityError), uow() as session:
        make_professional(session, status="en_vacances")


def test_an_ars_account_needs_its_region(uow) -> None:
    with pytest.raises(IntegrityError), uow() as session:
        make_user(session, role="ars", ars_code=None)


def _proposal(session, mission: m.Mission, professional: m.Professional, state: str) -> None:
    session.add(m.Proposal(mission_id=mission.id, professional_id=professional.id, state=state))
    session.flush()


def test_a_volunteer_has_at_most_one_live_proposal(uow) -> None:
    with uow() as session:
        establishment = make_establishment(session)
        creator = make_user(session, establishment=establishment)
        first, second = make_mission(session, establishment, creator), make_mission(session, establishment, creator)
        professional = make_professional(session)
        _proposal(session, first, professional, "refuse")
        _proposal(session, first, professional, "libere")
        _proposal(session, second, professional, "contacte")  # history rows never block a new one
        ids = (first.id, professional.id)
    for state in ("en_cours", "contacte", "affecte"):
        with pytest.raises(IntegrityError), uow() as session:
            _proposal(session, session.get(m.Mission, ids[0]), session.get(m.Professional, ids[1]), state)


def test_volunteer_availability_cannot_end_before_it_starts(uow) -> None:
    with pytest.raises(IntegrityError), uow() as session:
        make_professional(session, available_from=date.today(), available_to=date.today() - timedelta(days=1))


def test_timestamps_come_back_as_utc_aware(uow) -> None:
    with uow() as session:
        user_id = make_user(session).id
    with uow() as session:
        created = session.get(m.User, user_id).created_at
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)


def test_a_naive_timestamp_is_refused_before_reaching_the_database(uow) -> None:
    from datetime import datetime

    with pytest.raises(Exception, match="naive datetime"), uow() as session:
        make_user(session, created_at=datetime(2026, 1, 1))
