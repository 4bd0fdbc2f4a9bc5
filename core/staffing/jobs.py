"""Periodic jobs run by the worker; each is idempotent and takes the clock as an argument."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.mail import emails
from core.mail.outbox import queue_email
from core.places import reference
from core.shared.audit import record_event
from core.shared.clock import paris_today, utcnow
from core.shared.config import get_settings
from core.staffing.transitions import WAITING
from core.staffing.workflow import move_proposal, release_live, set_status
from db.models import (
    Establishment,
    Mission,
    MissionStatus,
    Professional,
    ProfessionalStatus,
    Proposal,
    ProposalState,
    User,
)


@dataclass(frozen=True)
class JobReport:
    reminders: int
    released: int
    missions_closed: int
    assignments_ended: int

    def __str__(self) -> str:
        return (f"Rappels envoyés : {self.reminders}, réservations levées : {self.released}, "
                f"missions terminées : {self.missions_closed}, affectations terminées : {self.assignments_ended}.")


def _waiting_since(session: so.Session, before: datetime) -> list[Proposal]:
    # A push that the establishment then contacts starts a new wait: the reservation counts from the
    # contact (decided_at), not from the push (created_at).
    waiting_from = sa.func.coalesce(Proposal.decided_at, Proposal.created_at)
    return list(session.scalars(
        sa.select(Proposal).where(Proposal.state.in_(WAITING), waiting_from <= before).order_by(Proposal.id)
    ))


def _waited(proposal: Proposal) -> datetime:
    return proposal.decided_at or proposal.created_at


def _requester(session: so.Session, proposal: Proposal) -> tuple[Mission, User, Professional]:
    mission = session.get(Mission, proposal.mission_id)
    return mission, session.get(User, mission.created_by), session.get(Professional, proposal.professional_id)


def send_reminders(session: so.Session, *, now: datetime) -> int:
    """A reservation (or push) waiting for RESERVATION_REMINDER_DAYS: one reminder to the establishment."""
    settings = get_settings()
    sent = 0
    for proposal in _waiting_since(session, now - timedelta(days=settings.reservation_reminder_days)):
        mission, requester, professional = _requester(session, proposal)
        days = (now - _waited(proposal)).days
        content = emails.reservation_reminder(requester.first_name, f"{professional.first_name} {professional.last_name}",
                                              reference.profession_labels()[mission.profession_code], days,
                                              settings.reservation_expiry_days)
        # The dedup key makes the reminder a one-off per wait (push, then reservation), however often the
        # worker runs.
        if queue_email(session, dedup_key=f"reminder:{proposal.id}:{proposal.state}", to=requester.email, content=content, now=now):
            sent += 1
    return sent


def release_expired(session: so.Session, *, now: datetime) -> int:
    """Beyond RESERVATION_EXPIRY_DAYS the volunteer is released, and both sides are told."""
    days = get_settings().reservation_expiry_days
    expired = _waiting_since(session, now - timedelta(days=days))
    for proposal in expired:
        mission, requester, professional = _requester(session, proposal)
        establishment = session.get(Establishment, mission.establishment_id)
        set_status(session, professional_id=proposal.professional_id, expected=WAITING,
                   target=ProfessionalStatus.DISPONIBLE.value, now=now)
        move_proposal(session, proposal=proposal, target=ProposalState.LIBERE.value, actor_id=None, now=now,
                      reason="réservation expirée", action="expired")
        name = f"{professional.first_name} {professional.last_name}"
        profession = reference.profession_labels()[mission.profession_code]
        queue_email(session, dedup_key=f"expired:{proposal.id}", to=requester.email, now=now,
                    content=emails.reservation_released(requester.first_name, name, profession, days))
        queue_email(session, dedup_key=f"expired-volunteer:{proposal.id}", to=professional.email, now=now,
                    content=emails.volunteer_released(professional.first_name, establishment.name))
    return len(expired)


def end_finished_missions(session: so.Session, *, now: datetime) -> tuple[int, int]:
    """The day after its end a mission closes and its volunteers are disponible again."""
    today = paris_today(now)
    missions = session.scalars(
        sa.select(Mission).where(Mission.end_date < today,
                                 Mission.status.in_([MissionStatus.OPEN.value, MissionStatus.FILLED.value]))
    ).all()
    for mission in missions:
        release_live(session, mission=mission, actor_id=None, now=now, reason="mission terminée")
        record_event(session, actor_id=None, entity="mission", entity_id=mission.id, action="ended",
                     before=mission.status, after=MissionStatus.CLOSED.value, at=now)
        mission.status = MissionStatus.CLOSED.value
        mission.closed_at = now
    ended = session.scalars(
        sa.select(Proposal).join(Mission, Mission.id == Proposal.mission_id)
        .where(Proposal.state == ProposalState.AFFECTE.value, Mission.end_date < today)
    ).all()
    for proposal in ended:
        set_status(session, professional_id=proposal.professional_id, expected=[ProfessionalStatus.AFFECTE.value],
                   target=ProfessionalStatus.DISPONIBLE.value, now=now)
        # decided_at stays the day of the assignment: time-to-fill and assignment series read it.
        move_proposal(session, proposal=proposal, target=ProposalState.TERMINE.value, actor_id=None, now=now,
                      action="assignment_ended",
                      keep_decision_time=True)
    return len(missions), len(ended)


def run_jobs(session: so.Session, *, now: datetime | None = None) -> JobReport:
    """Expiries, then reminders, then finished missions — each safe to run again. Expiries come first so
    that a reservation first seen after the expiry delay is released without a contradictory reminder."""
    now = now or utcnow()
    released = release_expired(session, now=now)
    reminders = send_reminders(session, now=now)
    closed, ended = end_finished_missions(session, now=now)
    return JobReport(reminders, released, closed, ended)



