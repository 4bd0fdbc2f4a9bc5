"""The simulated people, each acting through the core services with its own account, as its screen would:
volunteers answer from « Mes missions », establishments work their missions from « Choisir », the ARS take
over in crisis mode and push candidates, the CCS opens the national pools on alerts. Every action is one
transaction; an action refused by a service (someone was faster, the mission filled meanwhile) is rolled back
and counted, as a user would read the French message and move on."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.tension_history import tension_history
from core.shared.actor import SessionUser, to_session_user
from core.shared.distance import distance_km
from core.shared.errors import DomainError
from core.staffing import regulation, workflow
from core.staffing.crisis import crisis_active
from core.staffing.matching import find_candidates
from core.staffing.transitions import WAITING
from core.volunteers.freshness import AVAILABILITY_LINK_LIFETIME, answer_availability_check
from db.models import (
    DeclineReason,
    Establishment,
    Mission,
    MissionStatus,
    Outbox,
    Professional,
    Proposal,
    ProposalState,
    User,
)
from ops.simulation.behaviour import Behaviour, Dice, Rules, acceptance

AVAILABILITY_CHECK = "availability-check:"  # the dedup key of the worker's « Toujours disponible ? » e-mails
LINK_TOKEN = re.compile(r"jeton=([A-Za-z0-9_.~%-]+)")
ALERT_MESSAGE = "Aucun candidat disponible dans la région pour cette mission."
QUEUE_READ = 500  # rows of the region's list an ARS reads in filing order (2020 rules: no priority queue)


@dataclass
class World:
    """What the agents share: the database, the rules, the dice, the accounts, and what happened."""

    sessions: so.sessionmaker[so.Session]
    rules: Rules
    behaviour: Behaviour
    dice: Dice
    start: datetime
    regions: list[str]
    accounts: dict[int, SessionUser] = field(default_factory=dict)
    regulators: dict[str, SessionUser] = field(default_factory=dict)
    ccs: SessionUser | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    crisis_since: dict[str, int] = field(default_factory=dict)  # region → half-day of its (last) switch
    checks_answered: set[int] = field(default_factory=set)  # « Toujours disponible ? » e-mails dealt with
    present: set[int] = field(default_factory=set)  # establishments that filed a need this half-day
    mail_read: int = 0  # the last outbox row the establishments have seen (their e-mails arrive after it)

    def act(self, what: str, action: Callable[[so.Session], Any]) -> Any:
        """One user action in its own transaction: committed, or rolled back and counted when a service refuses."""
        with self.sessions() as session:
            try:
                result = action(session)
                session.commit()
            except DomainError:
                session.rollback()
                self.outcomes[f"{what}_refused"] += 1
                return None
        self.outcomes[what] += 1
        return result

    def account(self, session: so.Session, user_id: int) -> SessionUser:
        if user_id not in self.accounts:
            self.accounts[user_id] = to_session_user(session, user=session.get(User, user_id))
        return self.accounts[user_id]


# ---------------------------------------------------------------- volunteers


def volunteer_account(session: so.Session, professional_id: int) -> int:
    """The volunteer's account; one is opened (active, no password) for a volunteer of a data set that has none."""
    user_id = session.scalar(sa.select(User.id).where(User.professional_id == professional_id))
    if user_id is None:
        professional = session.get(Professional, professional_id)
        user = User(email=professional.email, first_name=professional.first_name, last_name=professional.last_name,
                    role="professionnel", professional_id=professional_id, status="active", password_hash=None)
        session.add(user)
        session.flush()
        user_id = user.id
    return user_id


@dataclass(frozen=True)
class Request:
    proposal_id: int
    professional_id: int
    mission_id: int
    distance_km: float
    received_before: int  # requests of the wave this volunteer received before this one

    @property
    def who_and_what(self) -> tuple[int, int]:
        """The keys of this volunteer's draws on this request: the volunteer and the mission, the same under both
        rule sets (wave missions get the same ids), not the proposal, whose id depends on all that came before."""
        return self.professional_id, self.mission_id


def waiting_requests(session: so.Session, world: World, now: datetime) -> list[Request]:
    """Requests still unanswered by their volunteer (« Mes missions »), made before this half-day."""
    earlier = sa.orm.aliased(Proposal)
    received = (sa.select(sa.func.count()).select_from(earlier)
                .where(earlier.professional_id == Proposal.professional_id, earlier.id < Proposal.id,
                       earlier.created_at >= world.start).correlate(Proposal).scalar_subquery())
    rows = session.execute(
        sa.select(Proposal.id, Proposal.professional_id, Proposal.mission_id, Professional.lat, Professional.lon,
                  Establishment.lat, Establishment.lon, received)
        .join(Professional, Professional.id == Proposal.professional_id)
        .join(Mission, Mission.id == Proposal.mission_id)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .where(Proposal.state.in_(WAITING), Proposal.interested_at.is_(None), Proposal.created_at < now)
        .order_by(Proposal.id)
    ).all()
    return [Request(row[0], row[1], row[2], _km(row[3], row[4], row[5], row[6]), int(row[7])) for row in rows]


def _km(lat1: float | None, lon1: float | None, lat2: float | None, lon2: float | None) -> float:
    if None in (lat1, lon1, lat2, lon2):
        return 0.0
    return distance_km(lat1, lon1, lat2, lon2)


def volunteers_answer(world: World, half_day: int, now: datetime) -> None:
    behaviour, dice = world.behaviour, world.dice
    with world.sessions() as session:
        requests = waiting_requests(session, world, now)
    for request in requests:
        if dice.chance(behaviour.inactive_share, "inactive", request.professional_id):
            continue  # never reads the platform's e-mails
        if not dice.chance(behaviour.answer_rate, "answer", *request.who_and_what, half_day):
            continue
        if dice.uniform("accept", *request.who_and_what) < acceptance(behaviour, request.distance_km,
                                                                    request.received_before):
            world.act("interested", lambda s, r=request: workflow.express_interest(
                s, actor=_volunteer(s, world, r.professional_id), proposal_id=r.proposal_id, now=now))
        else:
            world.act("declined", lambda s, r=request: workflow.withdraw(
                s, actor=_volunteer(s, world, r.professional_id), proposal_id=r.proposal_id,
                pause=r.received_before >= behaviour.pause_after, reason_code=_reason(world, r), now=now))


@dataclass(frozen=True)
class AvailabilityCheck:
    outbox_id: int
    professional_id: int
    token: str


def availability_checks(session: so.Session, world: World, now: datetime) -> list[AvailabilityCheck]:
    """« Toujours disponible ? » e-mails received before this half-day, whose link is still valid and which the
    volunteer has not dealt with yet; the token is read from the e-mail's link, as a click would."""
    rows = session.execute(
        sa.select(Outbox.id, User.professional_id, Outbox.body_text)
        .join(User, User.email == Outbox.to)
        .where(Outbox.dedup_key.like(f"{AVAILABILITY_CHECK}%"), Outbox.created_at < now,
               Outbox.created_at >= now - AVAILABILITY_LINK_LIFETIME, User.professional_id.is_not(None))
        .order_by(Outbox.id)).all()
    checks = []
    for outbox_id, professional_id, body in rows:
        found = LINK_TOKEN.search(body)
        if found and outbox_id not in world.checks_answered:
            checks.append(AvailabilityCheck(outbox_id, professional_id, unquote(found.group(1))))
    return checks


def volunteers_confirm(world: World, half_day: int, now: datetime) -> None:
    """Active volunteers click « Toujours disponible » in the e-mail (answering as often as to a request);
    inactive ones never read it, and their profile goes stale."""
    behaviour, dice = world.behaviour, world.dice
    with world.sessions() as session:
        checks = availability_checks(session, world, now)
    for check in checks:
        if dice.chance(behaviour.inactive_share, "inactive", check.professional_id):
            continue
        if not dice.chance(behaviour.answer_rate, "confirm", check.outbox_id, half_day):
            continue
        world.act("availability_confirmed", lambda s, c=check: answer_availability_check(
            s, actor=None, token=c.token, available=True, now=now))
        world.checks_answered.add(check.outbox_id)


def _volunteer(session: so.Session, world: World, professional_id: int) -> SessionUser:
    return world.account(session, volunteer_account(session, professional_id))


def _reason(world: World, request: Request) -> str:
    if request.distance_km > world.behaviour.distance_scale_km:
        return DeclineReason.TROP_LOIN.value
    if request.received_before >= 2:
        return DeclineReason.DEJA_ENGAGE.value
    return world.dice.pick({DeclineReason.DATES.value: 1, DeclineReason.AUTRE.value: 1}, "reason",
                           *request.who_and_what)


# ---------------------------------------------------------------- establishments


@dataclass(frozen=True)
class MissionState:
    id: int
    account_id: int
    establishment_id: int
    ars_code: str
    profession_code: str
    count: int
    assigned: int
    waiting: list[dict[str, Any]]  # this mission's live requests: proposal, volunteer, state, since, interest


def open_missions(session: so.Session, world: World) -> list[MissionState]:
    missions = session.execute(
        sa.select(Mission.id, Mission.created_by, Mission.establishment_id, Establishment.ars_code,
                  Mission.profession_code, Mission.count)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .where(Mission.status == MissionStatus.OPEN.value, Mission.created_at >= world.start).order_by(Mission.id)
    ).all()
    live: dict[int, list[dict[str, Any]]] = {row[0]: [] for row in missions}
    assigned: Counter[int] = Counter()
    for row in session.execute(
        sa.select(Proposal.id, Proposal.mission_id, Proposal.professional_id, Proposal.state, Proposal.origin,
                  sa.func.coalesce(Proposal.decided_at, Proposal.created_at), Proposal.interested_at)
        .join(Mission, Mission.id == Proposal.mission_id)
        .where(Mission.status == MissionStatus.OPEN.value, Mission.created_at >= world.start,
               Proposal.state.in_([*WAITING, ProposalState.AFFECTE.value])).order_by(Proposal.id)
    ).all():
        if row[3] == ProposalState.AFFECTE.value:
            assigned[row[1]] += 1
        else:
            live[row[1]].append({"id": row[0], "professional_id": row[2], "state": row[3], "origin": row[4],
                                 "since": row[5], "interested_at": row[6]})
    return [MissionState(*row, assigned=assigned[row[0]], waiting=live[row[0]]) for row in missions]


def establishments_act(world: World, half_day: int, now: datetime) -> None:
    with world.sessions() as session:
        missions = open_missions(session, world)
        called = _called_by_e_mail(session, world)
    for mission in missions:
        if _on_the_platform(world, mission, half_day, called):
            work_mission(world, mission, now)
    world.present.clear()


def _on_the_platform(world: World, mission: MissionState, half_day: int, called: set[int]) -> bool:
    """Staff who just filed a need are on the platform (« Nouveau besoin » sends them on to choose); an e-mail
    that asks them to act gives them a second chance, at the same rate, to open it within the half-day."""
    establishment, rate = mission.establishment_id, world.behaviour.act_rate
    if establishment in world.present or world.dice.chance(rate, "act", establishment, half_day):
        return True
    return mission.account_id in called and world.dice.chance(rate, "act-mail", establishment, half_day)


def _called_by_e_mail(session: so.Session, world: World) -> set[int]:
    """Accounts that received, since the establishments' last pass, an e-mail asking them to act: the ARS proposes
    someone (both rule sets: the 2020 tool sent it too), a volunteer is interested (our rules only)."""
    kinds = [regulation.PUSHED_TO_ESTABLISHMENT_MAIL, *([workflow.INTERESTED_MAIL] if world.rules.interest_emails else [])]
    called = set(session.scalars(
        sa.select(User.id).join(Outbox, Outbox.to == User.email)
        .where(Outbox.id > world.mail_read, sa.or_(*(Outbox.dedup_key.like(f"{kind}%") for kind in kinds)))))
    world.mail_read = session.scalar(sa.select(sa.func.max(Outbox.id))) or 0
    return called


def work_mission(world: World, mission: MissionState, now: datetime) -> None:
    """One establishment on one of its open missions: take the ARS's proposals, validate who said yes, let go of
    who never answered, then look for more candidates if posts are still uncovered."""
    with world.sessions() as session:
        actor = world.account(session, mission.account_id)
    pushed = [r["professional_id"] for r in mission.waiting if r["state"] == ProposalState.EN_COURS.value]
    reserved = {r["professional_id"] for r in mission.waiting if r["state"] == ProposalState.CONTACTE.value}
    if pushed and world.act("contacted_push", lambda s: workflow.contact_many(
            s, actor=actor, mission_id=mission.id, professional_ids=pushed, now=now)) is not None:
        reserved |= set(pushed)  # a pushed volunteer the list shows « intéressé(e) » is contacted and validated at once
    interested = sorted((r for r in mission.waiting if r["professional_id"] in reserved and r["interested_at"]),
                        key=lambda r: (r["interested_at"], r["id"]))[: mission.count - mission.assigned]
    if interested:
        world.act("validated", lambda s: workflow.validate(
            s, actor=actor, mission_id=mission.id, professional_ids=[r["professional_id"] for r in interested], now=now))
    let_go = _unanswered_to_refuse(world, mission, now)
    if let_go:
        world.act("refused", lambda s: workflow.refuse(s, actor=actor, mission_id=mission.id, professional_ids=let_go,
                                                       now=now))
    _look_for_candidates(world, actor, mission, len(interested), len(let_go), now)


def _unanswered_to_refuse(world: World, mission: MissionState, now: datetime) -> list[int]:
    behaviour = world.behaviour
    forgetful = world.dice.chance(behaviour.forgetful_share, "forgetful", mission.establishment_id)
    patience = now - timedelta(days=behaviour.patience_days)
    late = [r for r in mission.waiting
            if r["state"] == ProposalState.CONTACTE.value and not r["interested_at"] and r["since"] <= patience]
    if not forgetful:
        return [r["professional_id"] for r in late]
    if not late:
        return []
    with world.sessions() as session:
        reminded = _reminded(session, [r["id"] for r in late])
    return [r["professional_id"] for r in late
            if r["id"] in reminded
            and world.dice.chance(behaviour.reminder_effect, "reminder", r["professional_id"], mission.id)]


def _reminded(session: so.Session, proposal_ids: list[int]) -> set[int]:
    """Proposals whose reminder e-mail the establishment received (the worker's outbox records it)."""
    keys = {f"reminder:{pid}:{ProposalState.CONTACTE.value}": pid for pid in proposal_ids}
    found = session.scalars(sa.select(Outbox.dedup_key).where(Outbox.dedup_key.in_(list(keys))))
    return {keys[key] for key in found}


def _look_for_candidates(world: World, actor: SessionUser, mission: MissionState, validated: int, released: int,
                         now: datetime) -> None:
    still_waiting = len(mission.waiting) - validated - released
    wanted = math.ceil((mission.count - mission.assigned - validated) * world.behaviour.over_contact) - still_waiting
    if wanted <= 0:
        return
    with world.sessions() as session:
        if crisis_active(session, ars_code=mission.ars_code, profession_code=mission.profession_code, now=now):
            return  # the ARS proposes: the establishment waits for its pushes
        page = find_candidates(session, actor=actor, mission_id=mission.id, now=now)
    ids = ordered_candidates(world.rules, page.map_points)[:wanted]
    if ids:
        world.act("contacted", lambda s: workflow.contact_many(s, actor=actor, mission_id=mission.id,
                                                               professional_ids=ids, now=now))


def ordered_candidates(rules: Rules, points: list[dict[str, Any]]) -> list[int]:
    """The volunteers a user takes from the list, in the list's order: the platform's ranking, or — 2020 rules —
    the order of registration."""
    free = [point for point in points if point["proposal_state"] is None]
    if not rules.ranked:
        free = sorted(free, key=lambda point: point["id"])
    return [point["id"] for point in free]


# ---------------------------------------------------------------- regulators


def regulators_act(world: World, half_day: int, now: datetime) -> None:
    if half_day % 2 == 0:  # each morning, with the day's tension snapshot
        for ars_code in world.regions:
            switch_crisis_mode(world, ars_code, half_day, now)
    for ars_code in world.regions:
        if ars_code in world.crisis_since:
            push_for_region(world, ars_code, now)
    if world.rules.national_pools:
        open_pools_on_alerts(world, now)


def switch_crisis_mode(world: World, ars_code: str, half_day: int, now: datetime) -> None:
    actor = world.regulators[ars_code]
    with world.sessions() as session:
        latest = tension_history(session, actor=actor, ars_code=ars_code, days=1, now=now).latest
    level = latest.tension if latest is not None else None
    threshold = world.behaviour.crisis_threshold
    active = ars_code in world.crisis_since
    # Hysteresis: on at the threshold, off only below half of it, so that a region does not flicker.
    if not active and level is not None and level >= threshold:
        enable = True
    elif active and (level is None or level < threshold / 2):
        enable = False
    else:
        return
    switched = world.act("crisis_on" if enable else "crisis_off", lambda s: regulation.set_crisis_mode(
        s, actor=actor, ars_code=ars_code, enabled=enable, now=now))
    if switched is not None:
        if enable:
            world.crisis_since[ars_code] = half_day
        else:
            del world.crisis_since[ars_code]


def push_for_region(world: World, ars_code: str, now: datetime) -> None:
    actor = world.regulators[ars_code]
    filters = regulation.MissionFilters(unfilled_only=True)
    budget = int(world.behaviour.ars_missions_per_half_day)
    with world.sessions() as session:
        rows = regulation.region_missions(session, actor=actor, ars_code=ars_code, filters=filters, limit=QUEUE_READ,
                                          now=now).rows
    if not world.rules.priority_queue:
        rows = sorted(rows, key=lambda row: row["id"])  # filing order
    for row in rows:
        missing = row["count"] - row["assigned"] - row["waiting"]
        if budget <= 0:
            break
        if missing <= 0:
            continue  # enough volunteers already asked: the list shows them as waiting
        budget -= 1
        with world.sessions() as session:
            page = find_candidates(session, actor=actor, mission_id=row["id"], now=now)
        ids = ordered_candidates(world.rules, page.map_points)[:missing]
        if ids:
            world.act("pushed", lambda s, m=row["id"], ids=ids: regulation.push(
                s, actor=actor, mission_id=m, professional_ids=ids, now=now))
        elif world.rules.national_pools and row["ccs_alert_at"] is None:
            world.act("alerted", lambda s, m=row["id"]: regulation.alert_ccs(
                s, actor=actor, mission_id=m, message=ALERT_MESSAGE, now=now))


def open_pools_on_alerts(world: World, now: datetime) -> None:
    with world.sessions() as session:
        alerts = regulation.ccs_alerts(session, actor=world.ccs)
    for alert in alerts:
        world.act("pools_opened", lambda s, m=alert["id"]: regulation.open_national_pools(
            s, actor=world.ccs, mission_id=m, now=now))
