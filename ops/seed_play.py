"""The demo's history, played through the real services (contacts, validations, refusals, an
expired reservation, a cancelled assignment), so that every state of DESIGN §3 is on screen."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import DomainError
from core.staffing.jobs import run_jobs
from core.staffing.matching import find_candidates
from core.staffing.regulation import push
from core.staffing.workflow import cancel_assignment, close_mission, contact, refuse, validate
from db.models import Establishment, Mission, MissionStatus, Professional, User


@dataclass
class PlayReport:
    contacts: int = 0
    validations: int = 0
    refusals: int = 0
    cancellations: int = 0
    expired: int = 0
    pushes: int = 0
    closures: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def transitions(self) -> int:
        return (self.contacts + self.validations + self.refusals + self.cancellations + self.expired + self.pushes
                + self.closures)


class Player:
    def __init__(self, session: so.Session, rng: random.Random, now: datetime):
        self.session, self.rng, self.now = session, rng, now
        self.report = PlayReport()
        self._actors: dict[int, SessionUser] = {}
        self.untouched: set[int] = set()  # the demo volunteer: only the reservation made for them

    def actor(self, user_id: int) -> SessionUser:
        if user_id not in self._actors:
            self._actors[user_id] = to_session_user(self.session, user=self.session.get(User, user_id))
        return self._actors[user_id]

    def _free_candidates(self, actor: SessionUser, mission_id: int, at: datetime, howmany: int) -> list[int]:
        page = find_candidates(self.session, actor=actor, mission_id=mission_id, limit=howmany * 2, now=at)
        return [row["id"] for row in page.rows
                if row["proposal_state"] is None and row["id"] not in self.untouched][:howmany]

    def contact_some(self, mission: Mission, at: datetime, howmany: int) -> list[int]:
        actor = self.actor(mission.created_by)
        contacted = []
        for professional_id in self._free_candidates(actor, mission.id, at, howmany):
            try:
                contact(self.session, actor=actor, mission_id=mission.id, professional_id=professional_id, now=at)
            except DomainError as error:  # e.g. reserved a moment ago by another demo establishment
                self.report.failures.append(error.message)
                continue
            contacted.append(professional_id)
            self.report.contacts += 1
        return contacted

    def decide(self, mission: Mission, contacted: list[int], at: datetime) -> None:
        """Validate up to the free posts, refuse some others, leave the rest waiting (reserved)."""
        actor = self.actor(mission.created_by)
        keep = contacted[: self.rng.randint(0, min(len(contacted), mission.count))]
        if keep:
            validate(self.session, actor=actor, mission_id=mission.id, professional_ids=keep, now=at)
            self.report.validations += len(keep)
        if len(keep) >= mission.count:
            return  # the mission is filled: validate() already released the others
        others = [p for p in contacted if p not in keep]
        drop = [p for p in others if self.rng.random() < 0.5]
        if drop:
            refuse(self.session, actor=actor, mission_id=mission.id, professional_ids=drop, now=at)
            self.report.refusals += len(drop)

    def play_mission(self, mission: Mission) -> None:
        start = max(mission.created_at + timedelta(hours=1), self.now - timedelta(days=6))
        at = start + (self.now - start) * self.rng.uniform(0, 0.8)
        contacted = self.contact_some(mission, at, self.rng.randint(1, 4))
        if contacted:
            self.decide(mission, contacted, at + timedelta(hours=self.rng.randint(1, 20)))

    def expired_reservation(self, mission: Mission) -> bool:
        """A reservation left unanswered for 8 days: the worker's job releases it (with its e-mails)."""
        at = max(mission.created_at + timedelta(hours=1), self.now - timedelta(days=8))
        return bool(self.contact_some(mission, at, 1))

    def cancelled_assignment(self, mission: Mission) -> bool:
        at = max(mission.created_at + timedelta(hours=1), self.now - timedelta(days=2))
        contacted = self.contact_some(mission, at, 1)
        if not contacted:
            return False
        actor = self.actor(mission.created_by)
        validate(self.session, actor=actor, mission_id=mission.id, professional_ids=contacted,
                 now=at + timedelta(hours=2))
        cancel_assignment(self.session, actor=actor, mission_id=mission.id, professional_id=contacted[0],
                          reason="Le professionnel ne s'est pas présenté (démonstration).", now=at + timedelta(days=1))
        self.report.validations += 1
        self.report.cancellations += 1
        return True

    def pushed(self, mission: Mission) -> bool:
        """The region's ARS proposes a volunteer, who stays EN COURS until the establishment answers."""
        ars_id = self.session.scalar(
            sa.select(User.id).join(Establishment, Establishment.ars_code == User.ars_code)
            .where(Establishment.id == mission.establishment_id, User.role == "ars", User.status == "active")
            .order_by(User.id))
        if ars_id is None:
            return False
        at = self.now - timedelta(days=1)
        chosen = self._free_candidates(self.actor(ars_id), mission.id, at, 1)
        if not chosen:
            return False
        push(self.session, actor=self.actor(ars_id), mission_id=mission.id, professional_ids=chosen, now=at)
        self.report.pushes += 1
        return True

    def closed(self, mission: Mission) -> bool:
        """A need the establishment no longer has: closed by hand, its reservations released."""
        if not self.contact_some(mission, self.now - timedelta(days=3), 1):
            return False
        close_mission(self.session, actor=self.actor(mission.created_by), mission_id=mission.id,
                      now=self.now - timedelta(days=2))
        self.report.closures += 1
        return True


def _open_missions(session: so.Session) -> list[Mission]:
    return list(session.scalars(
        sa.select(Mission).where(Mission.status == MissionStatus.OPEN.value, Mission.count > 0)
        .order_by(Mission.created_at, Mission.id)
    ))


def play_demo_history(session: so.Session, rng: random.Random, now: datetime, *, share: float = 0.4,
                      demo_volunteer_email: str | None = None, demo_establishment_id: int | None = None) -> PlayReport:
    """Solicit volunteers for a share of the open missions, oldest first, then run the worker's jobs."""
    session.flush()
    player = Player(session, rng, now)
    missions = _open_missions(session)
    old = iter(m for m in missions if m.created_at < now - timedelta(days=9))
    # The first old missions that have a free candidate show an expiry and a cancellation.
    any(player.expired_reservation(mission) for mission in old)
    any(player.cancelled_assignment(mission) for mission in old)
    any(player.closed(mission) for mission in old if mission.establishment_id != demo_establishment_id)
    others = [m for m in missions if m.establishment_id != demo_establishment_id and m.status == "open"]
    for mission in others[-40:]:  # recent needs; only the regions with a demo ARS account push
        player.pushed(mission)
    if demo_volunteer_email and demo_establishment_id:
        _reserve_demo_volunteer(session, player, demo_volunteer_email, demo_establishment_id)
    for mission in missions:
        if mission.establishment_id == demo_establishment_id or rng.random() < share:
            player.play_mission(mission)
    jobs = run_jobs(session, now=now)
    player.report.expired += jobs.released
    return player.report


def _reserve_demo_volunteer(session: so.Session, player: Player, email: str, establishment_id: int) -> None:
    """The demo volunteer has a reservation waiting in "Mes missions", which they can decline."""
    professional = session.scalar(sa.select(Professional).where(Professional.email == email))
    player.untouched.add(professional.id)
    mission = session.scalar(
        sa.select(Mission).where(Mission.establishment_id == establishment_id, Mission.status == MissionStatus.OPEN.value,
                                 Mission.profession_code == professional.profession_code).order_by(Mission.id))
    if mission is None or professional.status != "disponible":
        return
    try:
        contact(session, actor=player.actor(mission.created_by), mission_id=mission.id,
                professional_id=professional.id, now=player.now - timedelta(hours=3))
        player.report.contacts += 1
    except DomainError as error:
        player.report.failures.append(error.message)
