"""Database constraints hold on both engines, whatever the code above them does."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from db import models as m
from db.session import get_engine
from tests.factories import make_establishment, make_mission, make_professional, make_proposal, make_user


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


def test_a_volunteer_has_at_most_one_live_proposal(uow) -> None:
    with uow() as session:
        establishment = make_establishment(session)
        creator = make_user(session, establishment=establishment)
        first, second = make_mission(session, establishment, creator), make_mission(session, establishment, creator)
        professional = make_professional(session)
        make_proposal(session, first, professional, "refuse")
        make_proposal(session, first, professional, "libere")
        make_proposal(session, second, professional, "contacte")  # history rows never block a new one
        ids = (first.id, professional.id)
    for state in ("en_cours", "contacte", "affecte"):
        with pytest.raises(IntegrityError), uow() as session:
            make_proposal(session, session.get(m.Mission, ids[0]), session.get(m.Professional, ids[1]), state)


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


OUTBOX_TIME = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)


def _outbox(session, **overrides) -> None:
    now = OUTBOX_TIME
    values = {"dedup_key": "schema-test", "to": "claire@example.org", "subject": "Objet", "body_text": "texte",
              "body_html": "<p>texte</p>", "created_at": now, "next_attempt_at": now, **overrides}
    session.add(m.Outbox(**values))
    session.flush()


def test_a_new_outbox_row_is_pending(uow) -> None:
    with uow() as session:
        _outbox(session)
    with uow() as session:
        row = session.scalars(sa.select(m.Outbox)).one()
    assert (row.status, row.claimed_at, row.sent_at) == ("pending", None, None)


@pytest.mark.parametrize("overrides", [
    {"status": "perdu"},
    {"status": "sent"},  # sent without a date
    {"status": "pending", "sent_at": OUTBOX_TIME},  # a date but not sent
    {"status": "sending"},  # claimed by nobody
])
def test_outbox_status_constraints(uow, overrides: dict) -> None:
    with pytest.raises(IntegrityError), uow() as session:
        _outbox(session, **overrides)


def _leading_columns(inspector: sa.Inspector, table: str) -> list[list[str]]:
    """The column lists an index (or the primary key) can serve from their start."""
    keys = [index["column_names"] for index in inspector.get_indexes(table)]
    keys += [constraint["column_names"] for constraint in inspector.get_unique_constraints(table)]
    keys.append(inspector.get_pk_constraint(table)["constrained_columns"])
    return [key for key in keys if key and None not in key]


def test_every_foreign_key_is_indexed(db_url) -> None:
    with get_engine(db_url).connect() as connection:
        inspector = sa.inspect(connection)
        unindexed = [
            (table, fk["constrained_columns"])
            for table in inspector.get_table_names() if table != "alembic_version"
            for fk in inspector.get_foreign_keys(table)
            if not any(key[:len(fk["constrained_columns"])] == fk["constrained_columns"]
                       for key in _leading_columns(inspector, table))
        ]
    assert unindexed == []
    assert any(index["name"] == "ix_professional_possible_duplicate_of"
               for index in sa.inspect(get_engine(db_url)).get_indexes("professional"))
