"""Two workers at once on one PostgreSQL database (a deployment with two, a restart overlapping the old process):
every due transition is made once, audited by one Event, and every e-mail reaches a real SMTP server once.

Each periodic job runs under its advisory lock (db.locks): the worker holding it does the job, the other one says
in its log line that it skipped it. The e-mails are claimed row by row (core.mail.outbox).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import to_session_user
from core.staffing.workflow import CONTACTED_MAIL, contact
from db import locks
from db import models as m
from db.session import session_scope
from ops import worker
from tests.factories import (
    END,
    NOW,
    START,
    TODAY,
    make_campaign,
    make_dossier,
    make_establishment,
    make_mission,
    make_professional,
    make_proposal,
    make_user,
)

# Each job holds its transaction open this long before working: the window in which a second worker arrives.
# Real jobs on a national data set take that long or longer; here the data is small.
HOLD_SECONDS = 0.5


def _reservations(session: so.Session, days_ago: int, count: int) -> None:
    """`count` volunteers contacted `days_ago` days before NOW, each by its own establishment's mission."""
    for _ in range(count):
        establishment = make_establishment(session, postal_code="44000")
        hr = make_user(session, establishment=establishment)
        mission = make_mission(session, establishment, hr, start_date=START, end_date=END)
        nurse = make_professional(session, postal_code="44300", available_from=None,
                                  availability_confirmed_at=NOW - timedelta(days=1))
        contact(session, actor=to_session_user(session, user=hr), mission_id=mission.id, professional_id=nurse.id,
                now=NOW - timedelta(days=days_ago))


def _finished_missions(session: so.Session, count: int) -> None:
    """Missions that ended two days ago, each with its assigned volunteer."""
    for _ in range(count):
        establishment = make_establishment(session, postal_code="44000")
        hr = make_user(session, establishment=establishment)
        mission = make_mission(session, establishment, hr, start_date=TODAY - timedelta(days=20),
                               end_date=TODAY - timedelta(days=2), status="filled")
        nurse = make_professional(session, postal_code="44300", status="affecte", available_from=None,
                                  availability_confirmed_at=NOW - timedelta(days=1))
        make_proposal(session, mission, nurse, state="affecte", decided_at=NOW - timedelta(days=20))


def _unconfirmed_volunteers(session: so.Session, count: int) -> None:
    """Available volunteers with an account, unconfirmed for 20 days: « Toujours disponible ? » is due."""
    for _ in range(count):
        nurse = make_professional(session, postal_code="44300", available_from=None,
                                  availability_confirmed_at=NOW - timedelta(days=20))
        make_user(session, "professionnel", professional_id=nurse.id, email=nurse.email)


def _due_everywhere(url: str) -> None:
    with session_scope(url) as session:
        _reservations(session, days_ago=8, count=3)  # released, both sides e-mailed
        _reservations(session, days_ago=4, count=2)  # one reminder each
        _finished_missions(session, count=2)  # mission ended, assignment ended
        _unconfirmed_volunteers(session, count=3)
        campaign = make_campaign(session, opens_at=NOW - timedelta(days=30), closes_at=NOW - timedelta(days=1))
        hospital = make_establishment(session, postal_code="75013")
        make_dossier(session, campaign, hospital)
        make_dossier(session, campaign, hospital, complete=False)  # both « non recevable » at the closing


def _held(job: Callable[..., Any]) -> Callable[..., Any]:
    def run(session: so.Session, *, now: Any) -> Any:
        time.sleep(HOLD_SECONDS)  # the lock (if any) is taken: a second worker arrives meanwhile
        return job(session, now=now)

    return run


def _two_workers_at_once(url: str) -> list[list[str]]:
    start = threading.Barrier(2)

    def one_worker() -> list[str]:
        start.wait(timeout=30)
        return worker.run_once(url, now=NOW)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(one_worker) for _ in range(2)]
        return [run.result(timeout=120) for run in runs]  # a worker's exception fails the test here


def _repeated_events(session: so.Session) -> list[tuple]:
    return session.execute(sa.select(m.Event.entity, m.Event.entity_id, m.Event.action, sa.func.count())
                           .group_by(m.Event.entity, m.Event.entity_id, m.Event.action)
                           .having(sa.func.count() > 1)).all()


def _event_counts(session: so.Session) -> dict[str, int]:
    return dict(session.execute(sa.select(m.Event.action, sa.func.count()).where(m.Event.at == NOW)
                                .group_by(m.Event.action)).all())


def test_two_workers_at_once_make_each_transition_once_and_send_each_email_once(pg_url, smtp_server,
                                                                                 monkeypatch) -> None:
    _due_everywhere(pg_url)
    for name in ("run_jobs", "send_availability_checks", "snapshot_tension", "refresh_figures", "run_campaign_jobs"):
        monkeypatch.setattr(worker, name, _held(getattr(worker, name)))

    first, second = _two_workers_at_once(pg_url)

    # Both started together: one did the reservations' job, the other said it skipped it.
    jobs_lines = sorted([first[0], second[0]])
    assert jobs_lines == sorted([f"Tâches : {worker.SKIPPED}",
                                 "Rappels envoyés : 2, réservations levées : 3, missions terminées : 2, "
                                 "affectations terminées : 2."]), jobs_lines
    with session_scope(pg_url, read_only=True) as session:
        assert _repeated_events(session) == []
        assert _event_counts(session) == {"expired": 3, "ended": 2, "assignment_ended": 2, "non_recevable": 2}
        assert session.scalar(sa.select(sa.func.count()).select_from(m.TensionDay)) >= 1
        tokens = session.scalars(sa.select(m.Token.user_id).where(m.Token.purpose == "availability")).all()
        assert len(tokens) == len(set(tokens)) == 3  # one « Toujours disponible ? » link per volunteer
        outbox = session.execute(sa.select(m.Outbox.status, m.Outbox.to, m.Outbox.subject, m.Outbox.dedup_key)).all()

    # 2 reminders, 3 releases told to both sides, 3 availability checks: each received once — as are the notices of
    # the contacts made before the workers ran.
    jobs_mails = [row for row in outbox if not row.dedup_key.startswith(CONTACTED_MAIL)]
    assert len(jobs_mails) == 2 + 3 * 2 + 3 and {row.status for row in outbox} == {"sent"}
    received = sorted((str(message["To"]), str(message["Subject"])) for message in smtp_server.messages)
    assert received == sorted((row.to, row.subject) for row in outbox)
    assert len(set(smtp_server.message_ids())) == len(smtp_server.messages)


def test_a_job_lock_is_held_by_one_transaction_at_a_time_and_released_with_it(pg_url) -> None:
    with session_scope(pg_url) as holder:
        assert locks.try_job_lock(holder, "Tâches")
        with session_scope(pg_url) as other:
            assert not locks.try_job_lock(other, "Tâches")  # the other worker skips it…
            assert locks.try_job_lock(other, "Tension")  # …but not another job
    with session_scope(pg_url) as later:
        assert locks.try_job_lock(later, "Tâches")  # released at the holder's commit


def test_sqlite_needs_no_job_lock(sqlite_url) -> None:
    """BEGIN IMMEDIATE already lets one writer in at a time: two scopes both 'take' it (the second would wait for
    the first's commit before working)."""
    with session_scope(sqlite_url) as session:
        assert locks.try_job_lock(session, "Tâches")


def test_a_job_key_is_the_same_in_every_process() -> None:
    """Two worker processes must compute the same key (Python's hash() of a string differs between processes)."""
    assert locks.job_key("Tâches") == -7458616838225387229
    assert locks.job_key("Tension") != locks.job_key("Tâches")
