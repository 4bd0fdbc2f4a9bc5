"""The database server cuts a connection in the middle of a transaction (issue 12, « Faults »), on PostgreSQL.

A transition is all or nothing: the server rolls back what the dead session had written, the service's caller
gets ServiceUnavailable (« Service momentanément indisponible, réessayez… », the message the pages show), and the
same action, tried again, works on a new connection. The worker, cut off in the middle of its batch, reports it
in its log line, goes on with its other jobs, and does the whole batch once on its next pass.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import ServiceUnavailable
from core.staffing.workflow import contact, validate
from db import models as m
from db.session import session_scope
from ops.worker import run_once
from tests.factories import END, NOW, START, make_establishment, make_mission, make_professional, make_user
from tests.faults import backend_terminated, terminate_backend

UNAVAILABLE = "Service momentanément indisponible, réessayez"


def _contacted(session: so.Session) -> tuple[SessionUser, int, int]:
    """A Nantes mission and a nurse its establishment contacted the day before: (its HR, mission, nurse)."""
    establishment = make_establishment(session, postal_code="44000")
    hr = make_user(session, establishment=establishment)
    mission = make_mission(session, establishment, hr, start_date=START, end_date=END)
    nurse = make_professional(session, postal_code="44300", available_from=None,
                              availability_confirmed_at=NOW - timedelta(days=1))
    actor = to_session_user(session, user=hr)
    contact(session, actor=actor, mission_id=mission.id, professional_id=nurse.id, now=NOW - timedelta(days=1))
    return actor, mission.id, nurse.id


def _state(url: str) -> tuple:
    """Everything a transition may touch, read on a fresh connection."""
    with session_scope(url, read_only=True) as session:
        return (session.execute(sa.select(m.Proposal.id, m.Proposal.state).order_by(m.Proposal.id)).all(),
                session.execute(sa.select(m.Mission.id, m.Mission.status).order_by(m.Mission.id)).all(),
                session.execute(sa.select(m.Professional.id, m.Professional.status).order_by(m.Professional.id)).all(),
                session.scalar(sa.select(sa.func.count()).select_from(m.Event)),
                session.scalar(sa.select(sa.func.count()).select_from(m.Outbox)))


@pytest.mark.parametrize("statement", ["UPDATE proposal", "INSERT INTO event", "INSERT INTO outbox", "COMMIT"])
def test_a_validation_cut_off_by_the_server_writes_nothing_and_succeeds_when_tried_again(pg_url: str,
                                                                                          statement: str) -> None:
    with session_scope(pg_url) as session:
        actor, mission_id, nurse_id = _contacted(session)
    before = _state(pg_url)

    with (backend_terminated(pg_url, statement) as trigger, pytest.raises(ServiceUnavailable) as refused,
          session_scope(pg_url) as session):
        validate(session, actor=actor, mission_id=mission_id, professional_ids=[nurse_id], now=NOW)
    assert trigger.killed, f"aucune instruction « {statement} » dans la validation"
    assert refused.value.message.startswith(UNAVAILABLE)
    assert _state(pg_url) == before  # nothing half-written: no assignment, no status, no event, no e-mail

    with session_scope(pg_url) as session:
        assert validate(session, actor=actor, mission_id=mission_id, professional_ids=[nurse_id], now=NOW) == 1
    proposals, missions, professionals, events, mails = _state(pg_url)
    assert [state for _, state in proposals] == ["affecte"]
    assert missions == [(mission_id, "filled")] and professionals == [(nurse_id, "affecte")]
    assert events > before[3] and mails > before[4]


def test_a_connection_the_server_dropped_while_idle_is_replaced_before_the_next_page(pg_url: str) -> None:
    """A server restart between two clicks: the pool's connection is dead; the next read gets a live one."""
    with session_scope(pg_url, read_only=True) as session:
        pid = session.scalar(sa.text("SELECT pg_backend_pid()"))
    assert terminate_backend(pg_url, pid)
    with session_scope(pg_url, read_only=True) as session:
        assert session.scalar(sa.text("SELECT pg_backend_pid()")) != pid
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Ars)) > 0


def _reservations(url: str, count: int) -> None:
    """`count` reservations made 8 days before NOW and never answered: the worker releases them (7 days)."""
    with session_scope(url) as session:
        for _ in range(count):
            establishment = make_establishment(session, postal_code="44000")
            hr = to_session_user(session, user=make_user(session, establishment=establishment))
            mission = make_mission(session, establishment, session.get(m.User, hr.id), start_date=START,
                                   end_date=END)
            nurse = make_professional(session, postal_code="44300", available_from=None,
                                      availability_confirmed_at=NOW - timedelta(days=1))
            contact(session, actor=hr, mission_id=mission.id, professional_id=nurse.id, now=NOW - timedelta(days=8))


def test_the_worker_cut_off_in_the_middle_of_its_batch_releases_every_reservation_once_on_its_next_pass(
        pg_url: str) -> None:
    _reservations(pg_url, 3)
    before = _state(pg_url)

    with backend_terminated(pg_url, "INSERT INTO event", skip=1) as trigger:  # the second release's event
        lines = run_once(pg_url, now=NOW)
    assert trigger.killed
    assert lines[0].startswith(f"Tâches : {UNAVAILABLE}") and "prochain passage" in lines[0]
    assert lines[1] == "Demandes « Toujours disponible ? » envoyées : 0."  # the other jobs still ran
    assert _state(pg_url) == before  # not one of the three released: the batch is one transaction

    lines = run_once(pg_url, now=NOW)
    assert "réservations levées : 3" in lines[0]
    proposals, _, professionals, _, _ = _state(pg_url)
    assert [state for _, state in proposals] == ["libere"] * 3
    assert [status for _, status in professionals] == ["disponible"] * 3
    with session_scope(pg_url, read_only=True) as session:
        keys = session.scalars(sa.select(m.Outbox.dedup_key).where(m.Outbox.created_at >= NOW)).all()
    assert len(keys) == len(set(keys)) == 6  # the establishment and the volunteer told once each
    assert "réservations levées : 0" in run_once(pg_url, now=NOW)[0]
