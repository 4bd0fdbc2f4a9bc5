"""Periodic jobs with a fake clock (DESIGN §3, §7): reservation reminders and expiry, end of missions."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser, to_session_user
from core.staffing.jobs import JobReport, run_jobs
from core.staffing.workflow import contact, validate
from db import models as m
from tests.factories import make_establishment, make_mission, make_professional, make_user
from tests.readers import outbox

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Paris
START = date(2026, 11, 25)
END = date(2026, 12, 20)
NOTHING = JobReport(reminders=0, released=0, missions_closed=0, assignments_ended=0)


def mission(session: so.Session, email: str | None = "rh@chu-test.fr", **overrides: Any) -> tuple[m.Mission, SessionUser]:
    establishment = make_establishment(session, postal_code="44000", name="CHU de Nantes")
    user = make_user(session, establishment=establishment, first_name="Hélène", **({"email": email} if email else {}))
    row = make_mission(session, establishment, user, **{"start_date": START, "end_date": END, **overrides})
    return row, to_session_user(session, user=user)


def nurse(session: so.Session, **overrides: Any) -> m.Professional:
    values = {"available_from": None, "availability_confirmed_at": NOW - timedelta(days=30),
              "first_name": "Inès", "last_name": "Garnier", **overrides}
    return make_professional(session, postal_code="44300", **values)


def reserved(session: so.Session, days_ago: float, **overrides: Any) -> tuple[m.Mission, m.Professional, m.Proposal]:
    """A volunteer contacted `days_ago` days before NOW and still waiting for an answer."""
    row, hr = mission(session, **overrides)
    professional = nurse(session)
    proposal = contact(session, actor=hr, mission_id=row.id, professional_id=professional.id, now=NOW - timedelta(days=days_ago))
    return row, professional, proposal


def jobs(uow, now: datetime = NOW) -> JobReport:
    with uow() as session:
        return run_jobs(session, now=now)


def mails(session: so.Session) -> list[tuple[str, str]]:
    """The worker's e-mails (the contact's notice to the volunteer came before it)."""
    return [(row.to, row.subject) for row in outbox(session, contacts=False)]


def body(session: so.Session, subject: str) -> str:
    return session.scalars(sa.select(m.Outbox.body_text).where(m.Outbox.subject == subject)).one()


REMINDER = "Renfort RH — un professionnel attend votre réponse"
RELEASED = "Renfort RH — réservation levée faute de réponse"
FREE_AGAIN = "Renfort RH — vous êtes de nouveau disponible"


# ---------------------------------------------------------------- reminders


def test_a_reservation_waiting_for_three_days_gets_one_reminder_however_often_the_worker_runs(uow) -> None:
    with uow() as session:
        _, professional, proposal = reserved(session, days_ago=3)
    assert jobs(uow) == JobReport(reminders=1, released=0, missions_closed=0, assignments_ended=0)
    assert jobs(uow) == NOTHING
    assert jobs(uow, NOW + timedelta(hours=6)) == NOTHING
    with uow() as session:
        assert mails(session) == [("rh@chu-test.fr", REMINDER)]
        text = body(session, REMINDER)
        assert session.get(m.Proposal, proposal.id).state == "contacte"
        assert session.get(m.Professional, professional.id).status == "contacte"
    assert "Bonjour Hélène," in text
    assert ("Vous avez réservé Inès Garnier pour la mission « Infirmier diplômé d'État » il y a 3 jours."
            in text)
    assert "Sans réponse, la réservation sera levée après 7 jours." in text


def test_a_reservation_younger_than_three_days_gets_no_reminder(uow) -> None:
    with uow() as session:
        reserved(session, days_ago=2.9)
    assert jobs(uow) == NOTHING
    with uow() as session:
        assert mails(session) == []


# ---------------------------------------------------------------- expiry


def test_a_reservation_waiting_for_seven_days_is_released_and_both_sides_are_told(uow) -> None:
    with uow() as session:
        _, professional, proposal = reserved(session, days_ago=3)
    jobs(uow)  # the reminder, on day 3
    assert jobs(uow, NOW + timedelta(days=4)) == JobReport(reminders=0, released=1, missions_closed=0,
                                                           assignments_ended=0)
    assert jobs(uow, NOW + timedelta(days=4, hours=1)) == NOTHING
    with uow() as session:
        row = session.get(m.Proposal, proposal.id)
        assert (row.state, row.reason, row.decided_at) == ("libere", "réservation expirée", NOW + timedelta(days=4))
        assert session.get(m.Professional, professional.id).status == "disponible"
        assert mails(session) == [("rh@chu-test.fr", REMINDER), ("rh@chu-test.fr", RELEASED),
                                  (professional.email, FREE_AGAIN)]
        released, freed = body(session, RELEASED), body(session, FREE_AGAIN)
        [event] = session.scalars(sa.select(m.Event).where(m.Event.action == "expired")).all()
    assert (event.before, event.after, event.actor_user_id) == ("contacte", "libere", None)
    assert ("Sans réponse de votre part depuis 7 jours, la réservation de Inès Garnier pour la mission "
            "« Infirmier diplômé d'État » a été levée" in released)
    assert "L'établissement « CHU de Nantes » n'a pas donné suite à sa demande" in freed


def test_a_reservation_first_seen_after_seven_days_is_released_without_a_late_reminder(uow) -> None:
    with uow() as session:
        _, professional, _ = reserved(session, days_ago=7)
    assert jobs(uow).released == 1
    with uow() as session:
        assert mails(session) == [("rh@chu-test.fr", RELEASED), (professional.email, FREE_AGAIN)]


def test_an_unanswered_push_expires_too(uow) -> None:
    with uow() as session:
        row, _ = mission(session)
        professional = nurse(session, status="en_cours")
        session.add(m.Proposal(mission_id=row.id, professional_id=professional.id, origin="push", state="en_cours",
                               created_at=NOW - timedelta(days=8)))
    assert jobs(uow).released == 1
    with uow() as session:
        assert session.get(m.Professional, professional.id).status == "disponible"
        assert session.scalars(sa.select(m.Proposal.state)).all() == ["libere"]


def test_a_push_then_contacted_waits_afresh_from_the_contact(uow) -> None:
    """Pushed six days ago, contacted yesterday: the reservation's reminder and expiry count from the contact."""
    with uow() as session:
        row, hr = mission(session)
        professional = nurse(session, status="en_cours")
        push = m.Proposal(mission_id=row.id, professional_id=professional.id, origin="push", state="en_cours",
                          created_at=NOW - timedelta(days=6))
        session.add(push)
        session.flush()
    assert jobs(uow, NOW - timedelta(days=2)).reminders == 1  # the push waited 4 days: one reminder
    with uow() as session:
        contact(session, actor=hr, mission_id=row.id, professional_id=professional.id, now=NOW - timedelta(days=1))
    assert jobs(uow) == NOTHING
    assert jobs(uow, NOW + timedelta(days=2)).reminders == 1  # 3 days after the contact: its own reminder
    assert jobs(uow, NOW + timedelta(days=5, hours=23)).released == 0
    assert jobs(uow, NOW + timedelta(days=6)).released == 1  # 7 days after the contact
    with uow() as session:
        assert [s for _, s in mails(session)].count(REMINDER) == 2


def test_assignments_never_expire(uow) -> None:
    with uow() as session:
        row, hr = mission(session)
        professional = nurse(session)
        contact(session, actor=hr, mission_id=row.id, professional_id=professional.id, now=NOW - timedelta(days=10))
        validate(session, actor=hr, mission_id=row.id, professional_ids=[professional.id], now=NOW - timedelta(days=9))
    assert jobs(uow) == NOTHING
    with uow() as session:
        assert session.get(m.Professional, professional.id).status == "affecte"


# ---------------------------------------------------------------- end of missions


def _ending(session: so.Session, end_date: date) -> tuple[m.Mission, m.Professional, m.Professional]:
    """A mission ending on `end_date` with one volunteer assigned and one still contacted."""
    row, hr = mission(session, email=None, start_date=end_date - timedelta(days=5), end_date=end_date, count=2)
    assigned, contacted = nurse(session), nurse(session)
    before = NOW - timedelta(days=6)
    contact(session, actor=hr, mission_id=row.id, professional_id=assigned.id, now=before)
    validate(session, actor=hr, mission_id=row.id, professional_ids=[assigned.id], now=before)
    # The contact was made while the mission was running: put it there without the jobs' expiry.
    contact(session, actor=hr, mission_id=row.id, professional_id=contacted.id, now=NOW - timedelta(days=1))
    return row, assigned, contacted


def test_the_day_after_its_end_in_paris_a_mission_closes_and_its_volunteers_are_free(uow) -> None:
    last_day = date(2026, 11, 23)
    late_evening_in_paris = datetime(2026, 11, 23, 22, 30, tzinfo=timezone.utc)  # 23:30 in Paris
    just_after_midnight_in_paris = datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc)  # 24/11 00:30 in Paris
    with uow() as session:
        row, assigned, contacted = _ending(session, last_day)
    assert jobs(uow, late_evening_in_paris) == NOTHING
    assert jobs(uow, just_after_midnight_in_paris) == JobReport(reminders=0, released=0, missions_closed=1,
                                                                assignments_ended=1)
    assert jobs(uow, just_after_midnight_in_paris + timedelta(hours=1)) == NOTHING
    with uow() as session:
        closed = session.get(m.Mission, row.id)
        assert (closed.status, closed.closed_at) == ("closed", just_after_midnight_in_paris)
        states = {p.professional_id: (p.state, p.reason) for p in session.scalars(sa.select(m.Proposal))}
        assert states == {assigned.id: ("termine", None), contacted.id: ("libere", "mission terminée")}
        assert [session.get(m.Professional, p.id).status for p in (assigned, contacted)] == ["disponible"] * 2
        assert [e.action for e in session.scalars(sa.select(m.Event).where(m.Event.actor_user_id.is_(None))
                                                  .order_by(m.Event.id))] == ["released", "ended", "assignment_ended"]


def test_a_filled_mission_ends_too_and_a_mission_ending_today_goes_on(uow) -> None:
    with uow() as session:
        yesterday, assigned, _ = _ending(session, date(2026, 11, 22))
        session.get(m.Mission, yesterday.id).count = 1
        session.get(m.Mission, yesterday.id).status = "filled"
        today, still_assigned, _ = _ending(session, date(2026, 11, 23))
    report = jobs(uow)
    assert (report.missions_closed, report.assignments_ended) == (1, 1)
    with uow() as session:
        assert (session.get(m.Mission, yesterday.id).status, session.get(m.Mission, today.id).status) == (
            "closed", "open")
        assert session.get(m.Professional, assigned.id).status == "disponible"
        assert session.get(m.Professional, still_assigned.id).status == "affecte"


def test_an_assignment_to_a_mission_closed_by_hand_ends_the_day_after_its_end(uow) -> None:
    with uow() as session:
        row, assigned, _ = _ending(session, date(2026, 11, 22))
        session.get(m.Mission, row.id).status = "closed"
    assert jobs(uow) == JobReport(reminders=0, released=0, missions_closed=0, assignments_ended=1)
    with uow() as session:
        assert session.get(m.Professional, assigned.id).status == "disponible"
