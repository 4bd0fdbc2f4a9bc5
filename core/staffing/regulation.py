"""Regulation by the ARS and the CCS (DESIGN §3, §6): crisis mode, the region's missions as a
priority queue, pushes of candidates, alerts to the CCS, opening of the national pools, the region's
volunteers (verification, unavailability, assignment on behalf of an establishment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.mail import emails
from core.mail.outbox import queue_email
from core.places import reference
from core.shared.actions import NONE, Action, Actions
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import paris_today, utcnow
from core.shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.shared.permissions import (
    NATIONAL_ROLES,
    pauses_volunteers,
    reads_names,
    regulates,
    require_actor,
    require_names_reader,
    require_region,
    require_role,
    sees_region,
)
from core.shared.sqlfunc import as_int, days_between, greatest, least, paris_date
from core.shared.validation import search_text, validate_text
from core.staffing import transitions
from core.staffing.matching import LIVE, candidate_query, load_mission_context, refuse_if_turned_down
from core.staffing.workflow import after_assignment, assigned_count, locked_mission, move_proposal, set_status
from db.models import (
    CrisisMode,
    Establishment,
    Mission,
    MissionStatus,
    Professional,
    ProfessionalStatus,
    Proposal,
    ProposalOrigin,
    ProposalState,
    Role,
    User,
)

READERS = ("ars", "ccs", "ministere", "admin")  # who may look at a region's tables
CLOSED_STATUSES = (MissionStatus.FILLED.value, MissionStatus.CLOSED.value, MissionStatus.ARCHIVED.value)
ALERTERS = ("ars",)  # « Alerter le CCS » belongs to the region's own ARS
POOL_OPENERS = ("ccs",)
PUSHED_TO_ESTABLISHMENT_MAIL = "pushed-establishment:"  # the dedup key's prefix of the push's e-mail to the establishment
PRIORITY_MIN, PRIORITY_MAX = 1, 9  # manual priority: 1 is the most urgent
ALERT_MESSAGE_MAX = 1000
UNAVAILABLE_REFUSAL = ("Seul un professionnel disponible peut être rendu indisponible (il est sollicité ou déjà "
                       "indisponible).")
REASON_MAX = 500


def require_reader(actor: SessionUser | None, ars_code: str) -> SessionUser:
    """The ARS of the region, the CCS, the ministry (read-only) and admins."""
    actor = require_role(actor, *READERS)
    if not sees_region(actor, ars_code):
        raise PermissionDenied("Ces informations concernent une autre région.")
    return actor


def _known_region(ars_code: str) -> str:
    if ars_code not in reference.ars_names():
        raise NotFound("Cette région n'existe pas.")
    return ars_code


# ---------------------------------------------------------------- crisis mode


@dataclass(frozen=True)
class CrisisState:
    all_professions: bool
    professions: tuple[str, ...]
    # SWITCH_CRISIS for the region's ARS and the CCS: what the reader may do, not part of the state itself.
    actions: Actions = field(default=NONE, compare=False)

    @property
    def active(self) -> bool:
        return self.all_professions or bool(self.professions)


def _active_rows(session: so.Session, ars_code: str) -> list[CrisisMode]:
    return list(session.scalars(
        sa.select(CrisisMode).where(CrisisMode.ars_code == ars_code, CrisisMode.disabled_at.is_(None))
        .order_by(CrisisMode.id)
    ))


def crisis_state(session: so.Session, *, actor: SessionUser | None, ars_code: str) -> CrisisState:
    require_reader(actor, _known_region(ars_code))
    return _state_of(session, actor, ars_code)


def _state_of(session: so.Session, actor: SessionUser, ars_code: str) -> CrisisState:
    rows = _active_rows(session, ars_code)
    return CrisisState(any(r.profession_code is None for r in rows),
                       tuple(sorted(r.profession_code for r in rows if r.profession_code)),
                       frozenset({Action.SWITCH_CRISIS}) if regulates(actor, ars_code) else NONE)


def set_crisis_mode(session: so.Session, *, actor: SessionUser | None, ars_code: str, enabled: bool,
                    professions: list[str] | None = None, now: datetime | None = None) -> CrisisState:
    """Switch the region to crisis management (all professions when `professions` is None) or back."""
    now = now or utcnow()
    actor = require_region(actor, _known_region(ars_code))
    unknown = [p for p in professions or [] if p not in reference.profession_labels()]
    if unknown or professions == []:
        raise ValidationError("professions", "Choisissez au moins une profession, ou « toutes les professions ».")
    active = _active_rows(session, ars_code)
    targets: list[str | None] = [None] if professions is None else list(dict.fromkeys(professions))
    if enabled:
        already = {row.profession_code for row in active}
        for profession in targets:
            if profession not in already:
                row = CrisisMode(ars_code=ars_code, profession_code=profession, enabled_at=now, enabled_by=actor.id)
                session.add(row)
                session.flush()
                record_event(session, actor_id=actor.id, entity="crisis_mode", entity_id=row.id, action="enabled",
                             after="on", details={"ars_code": ars_code, "profession": profession}, at=now)
    else:
        if professions is not None and any(row.profession_code is None for row in active):
            raise ValidationError("professions", "Le mode gestion de crise est actif pour toutes les professions : "
                                                 "désactivez-le entièrement, puis réactivez les professions voulues.")
        for row in active:
            if professions is None or row.profession_code in targets:
                row.disabled_at, row.disabled_by = now, actor.id
                record_event(session, actor_id=actor.id, entity="crisis_mode", entity_id=row.id, action="disabled",
                             before="on", after="off", details={"ars_code": ars_code, "profession": row.profession_code},
                             at=now)
    session.flush()
    return _state_of(session, actor, ars_code)


def crisis_history(session: so.Session, *, actor: SessionUser | None, ars_code: str) -> list[dict[str, Any]]:
    """Every switch of the region, newest first, with who switched it."""
    require_reader(actor, _known_region(ars_code))
    enabler, disabler = so.aliased(User), so.aliased(User)
    rows = session.execute(
        sa.select(CrisisMode.id, CrisisMode.profession_code, CrisisMode.enabled_at, CrisisMode.disabled_at,
                  (enabler.first_name + " " + enabler.last_name).label("enabled_by"),
                  (disabler.first_name + " " + disabler.last_name).label("disabled_by"))
        .join(enabler, enabler.id == CrisisMode.enabled_by)
        .outerjoin(disabler, disabler.id == CrisisMode.disabled_by)
        .where(CrisisMode.ars_code == ars_code).order_by(CrisisMode.enabled_at.desc(), CrisisMode.id.desc())
    ).mappings()
    return [dict(row) for row in rows]


# ---------------------------------------------------------------- the region's missions: a priority queue

# Urgency points (documented on the page): the higher, the sooner the ARS should act.
U_STARTS_WITHIN_3_DAYS = 30  # or already started
U_STARTS_WITHIN_7_DAYS = 20
U_STARTS_WITHIN_14_DAYS = 10
U_PER_UNFILLED_POST = 5  # up to U_MAX_UNFILLED
U_MAX_UNFILLED = 25
U_REANIMATION = 15
U_EHPAD = 10
U_PER_DAY_UNFILLED = 2  # days since the mission was created, up to U_MAX_WAITING
U_MAX_WAITING = 20
U_CCS_ALERT = 25


def urgency_explanation() -> str:
    """The urgency score in words, for the regulators who sort by it."""
    return (
        f"Score d'urgence : début dans 3 jours ou moins (ou déjà commencée) +{U_STARTS_WITHIN_3_DAYS}, dans 7 jours "
        f"+{U_STARTS_WITHIN_7_DAYS}, dans 14 jours +{U_STARTS_WITHIN_14_DAYS} ; +{U_PER_UNFILLED_POST} par poste non "
        f"pourvu (max {U_MAX_UNFILLED}) ; réanimation +{U_REANIMATION} ; EHPAD +{U_EHPAD} ; +{U_PER_DAY_UNFILLED} "
        f"par jour depuis la création (max {U_MAX_WAITING}) ; alerte CCS +{U_CCS_ALERT}. Une priorité manuelle "
        f"({PRIORITY_MIN} = la plus urgente) passe avant le score."
    )


@dataclass(frozen=True)
class MissionFilters:
    department_code: str | None = None
    profession_code: str | None = None
    statuses: tuple[str, ...] = (MissionStatus.OPEN.value,)
    period_start: date | None = None
    period_end: date | None = None
    unfilled_only: bool = False
    mission_id: int | None = None  # one mission only (see region_mission)


@dataclass
class MissionQueue:
    rows: list[dict[str, Any]]
    total: int
    offset: int


def profession_and_period(profession_code: str | None, start: date | None,
                          end: date | None) -> list[sa.ColumnElement[bool]]:
    """The missions of a profession that overlap a period (each bound optional): the region's list and the national
    one filter alike."""
    conditions: list[sa.ColumnElement[bool]] = []
    if profession_code:
        conditions.append(Mission.profession_code == profession_code)
    if start:
        conditions.append(Mission.end_date >= start)
    if end:
        conditions.append(Mission.start_date <= end)
    return conditions


def urgency_score(today: date, assigned: Any) -> sa.ColumnElement[int]:
    to_start = days_between(sa.literal(today, sa.Date), Mission.start_date)
    unfilled = greatest(Mission.count - assigned, 0)
    # Paris calendar days (DESIGN §2); a CAST to DATE gave the UTC date on PostgreSQL and the number 2026
    # (the year) on SQLite, where DATE has numeric affinity, so every mission got the maximum.
    waiting = days_between(paris_date(Mission.created_at), sa.literal(today, sa.Date))
    return (
        sa.case((to_start <= 3, U_STARTS_WITHIN_3_DAYS), (to_start <= 7, U_STARTS_WITHIN_7_DAYS),
                (to_start <= 14, U_STARTS_WITHIN_14_DAYS), else_=0)
        + least(unfilled * U_PER_UNFILLED_POST, U_MAX_UNFILLED)
        + U_REANIMATION * as_int(Mission.exp_reanimation.is_(True))
        + U_EHPAD * as_int(Mission.exp_ehpad.is_(True))
        + least(greatest(waiting, 0) * U_PER_DAY_UNFILLED, U_MAX_WAITING)
        + U_CCS_ALERT * as_int(Mission.ccs_alert_at.is_not(None))
    )


def region_missions(session: so.Session, *, actor: SessionUser | None, ars_code: str,
                    filters: MissionFilters | None = None, offset: int = 0, limit: int = 50,
                    now: datetime | None = None) -> MissionQueue:
    """The region's missions ordered by manual priority, then urgency score: filtered, counted and
    paged in SQL."""
    now = now or utcnow()
    require_reader(actor, _known_region(ars_code))
    queue = mission_queue(session, scope=[Establishment.ars_code == ars_code], filters=filters or MissionFilters(),
                          today=paris_today(now), offset=offset, limit=limit)
    for row in queue.rows:
        row["actions"] = _mission_actions(actor, ars_code, row)
    return queue


def mission_queue(session: so.Session, *, scope: list[sa.ColumnElement[bool]], filters: MissionFilters, today: date,
                  offset: int = 0, limit: int = 50) -> MissionQueue:
    """The missions within `scope` (conditions on Mission and Establishment: a region, a pool's member
    establishments) with their assigned and waiting volunteers and their urgency score, ordered by manual
    priority then urgency: filtered, counted and paged in SQL. The rows carry no actions: each reader's service
    adds those its reader may take. No permission check: the callers' (region_missions, a pool's queue)."""
    counts = (
        sa.select(Proposal.mission_id,
                  sa.func.sum(as_int(Proposal.state == ProposalState.AFFECTE.value)).label("assigned"),
                  sa.func.sum(as_int(Proposal.state.in_([ProposalState.CONTACTE.value,
                                                         ProposalState.EN_COURS.value]))).label("waiting"))
        .join(Mission, Mission.id == Proposal.mission_id)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .where(*scope, Proposal.state.in_(LIVE))
        .group_by(Proposal.mission_id).subquery()
    )
    assigned = sa.func.coalesce(counts.c.assigned, 0)
    urgency = urgency_score(today, assigned).label("urgency")
    conditions = [*scope, Mission.count > 0]
    if filters.statuses:
        conditions.append(Mission.status.in_(filters.statuses))
    if filters.department_code:
        conditions.append(Establishment.department_code == filters.department_code)
    conditions += profession_and_period(filters.profession_code, filters.period_start, filters.period_end)
    if filters.unfilled_only:
        conditions.append(assigned < Mission.count)
    if filters.mission_id is not None:
        conditions.append(Mission.id == filters.mission_id)
    base = (
        sa.select(Mission.id, Mission.profession_code, Mission.specialty, Mission.count, Mission.start_date,
                  Mission.end_date, Mission.needs_vehicle, Mission.needs_weekend, Mission.exp_ehpad,
                  Mission.exp_reanimation, Mission.vaccination, Mission.status, Mission.manual_priority,
                  Mission.ccs_alert_at, Mission.ccs_alert_message, Mission.pools_opened_at, Mission.created_at,
                  Establishment.id.label("establishment_id"), Establishment.name.label("establishment"),
                  Establishment.postal_code, Establishment.city, Establishment.department_code,
                  assigned.label("assigned"), sa.func.coalesce(counts.c.waiting, 0).label("waiting"), urgency)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .outerjoin(counts, counts.c.mission_id == Mission.id)
        .where(*conditions)
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    ordered = base.order_by(Mission.manual_priority.is_(None), Mission.manual_priority, urgency.desc(),
                            Mission.start_date, Mission.id)
    labels = reference.profession_labels()
    rows = [{**row, "profession": labels.get(row["profession_code"], row["profession_code"])}
            for row in session.execute(ordered.offset(offset).limit(limit)).mappings()]
    return MissionQueue(rows=rows, total=total, offset=offset)


def _mission_actions(actor: SessionUser, ars_code: str, row: dict[str, Any]) -> Actions:
    """A row of the region's queue: what its ARS (or the CCS) may do; the ministry only reads."""
    if not regulates(actor, ars_code):
        return NONE
    actions = {Action.PRIORITISE}
    if accepts_candidates(row):
        actions.add(Action.PROPOSE)
    if actor.role in ALERTERS and row["status"] == MissionStatus.OPEN.value:
        actions.add(Action.ALERT)
    return frozenset(actions)


def accepts_candidates(row: dict[str, Any]) -> bool:
    """A row of `region_missions` to which candidates can still be proposed (what the priority queue lists)."""
    return row["status"] == MissionStatus.OPEN.value and row["assigned"] < row["count"]


def closed_message(row: dict[str, Any]) -> str:
    """Why a mission chosen earlier can no longer receive candidates: only what is true of it."""
    if row["status"] in CLOSED_STATUSES or row["assigned"] >= row["count"]:
        return "La mission choisie précédemment est maintenant pourvue ou clôturée"
    return "La mission choisie précédemment n'est pas ouverte"


def region_mission(session: so.Session, *, actor: SessionUser | None, ars_code: str, mission_id: int,
                   now: datetime | None = None) -> dict[str, Any] | None:
    """One mission of the region read by id, whatever its status, as a row of `region_missions` (same
    permission check); None when the region has no such mission. For a mission chosen on another page,
    which may lie beyond the rows a page loads."""
    rows = region_missions(session, actor=actor, ars_code=ars_code,
                           filters=MissionFilters(statuses=(), mission_id=mission_id),
                           limit=1, now=now).rows
    return rows[0] if rows else None


def _regional_mission(session: so.Session, actor: SessionUser | None,
                      mission_id: int) -> tuple[SessionUser, Mission, Establishment]:
    mission = locked_mission(session, mission_id=mission_id)
    establishment = session.get(Establishment, mission.establishment_id)
    return require_region(actor, establishment.ars_code), mission, establishment


def set_manual_priority(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                        priority: int | None, now: datetime | None = None) -> None:
    """Override the urgency order: 1 comes first; None gives the mission back to the score."""
    now = now or utcnow()
    actor, mission, _ = _regional_mission(session, actor, mission_id)
    if priority is not None and not PRIORITY_MIN <= int(priority) <= PRIORITY_MAX:
        raise ValidationError("priority", f"La priorité manuelle va de {PRIORITY_MIN} (la plus urgente) à "
                                          f"{PRIORITY_MAX}.")
    record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id, action="priority_set",
                 before=str(mission.manual_priority), after=str(priority), at=now)
    mission.manual_priority = None if priority is None else int(priority)


# ---------------------------------------------------------------- pushes, alerts, national pools


def push(session: so.Session, *, actor: SessionUser | None, mission_id: int, professional_ids: list[int],
         now: datetime | None = None) -> int:
    """"Proposer": disponible → en cours (origin push) for this mission; the mission's requester and
    each volunteer get an e-mail. Only the target establishment may then contact them."""
    now = now or utcnow()
    actor, mission, establishment = _regional_mission(session, actor, mission_id)
    return push_candidates(session, actor=actor, mission=mission, establishment=establishment,
                           professional_ids=professional_ids, viewer="regulator", origin=ProposalOrigin.PUSH.value,
                           now=now)


PUSH_EVENTS = {ProposalOrigin.PUSH.value: "pushed", ProposalOrigin.POOL.value: "pool_pushed"}


def push_candidates(session: so.Session, *, actor: SessionUser, mission: Mission, establishment: Establishment,
                    professional_ids: list[int], viewer: str, origin: str, sender: str = emails.ARS_SENDER,
                    now: datetime) -> int:
    """The push itself, once the caller has checked who pushes to this (locked) mission — its region's ARS or the
    CCS (`push`), its pool's coordinator (core.pools): disponible → en cours for this mission, each volunteer
    among the candidates `viewer` sees (matching's own query, turned-down volunteers excluded); an Event per
    proposal; e-mails to the mission's requester and to each volunteer, naming `sender`."""
    if not transitions.accepts_people(mission.status, mission.count):
        raise Conflict("Cette mission n'est pas ouverte : aucun professionnel ne peut lui être proposé.")
    ids = list(dict.fromkeys(professional_ids))
    if not ids:
        raise ValidationError("professionals", "Sélectionnez au moins un professionnel à proposer.")
    context = load_mission_context(session, mission_id=mission.id)
    query = candidate_query(context, viewer, False, now)
    eligible = {row["id"]: row for row in session.execute(query.base.where(Professional.id.in_(ids))).mappings()}
    requester = session.get(User, mission.created_by)
    profession = reference.profession_labels()[mission.profession_code]
    for professional_id in ids:
        row = eligible.get(professional_id)
        name = _name(session, professional_id)
        if row is None or row["proposal_state"] not in transitions.PUSH_FROM:
            refuse_if_turned_down(session, mission_id=mission.id, professional_id=professional_id)
            raise Conflict(f"{name} ne peut pas être proposé(e) : déjà sollicité(e), indisponible ou hors critères.")
        if not set_status(session, professional_id=professional_id, expected=[transitions.PUSH_FROM[None]],
                          target=ProfessionalStatus.EN_COURS.value, now=now):
            raise Conflict(f"{name} vient d'être réservé(e) par un autre établissement.")
        proposal = Proposal(mission_id=mission.id, professional_id=professional_id, origin=origin,
                            state=ProposalState.EN_COURS.value, by_user_id=actor.id, created_at=now)
        session.add(proposal)
        session.flush()
        record_event(session, actor_id=actor.id, entity="proposal", entity_id=proposal.id, action=PUSH_EVENTS[origin],
                     before=ProfessionalStatus.DISPONIBLE.value, after=ProposalState.EN_COURS.value,
                     details={"mission_id": mission.id, "professional_id": professional_id}, at=now)
        professional = session.get(Professional, professional_id)
        queue_email(session, dedup_key=f"pushed-volunteer:{proposal.id}", to=professional.email, now=now,
                    content=emails.pushed_to_volunteer(professional.first_name, establishment.name, profession,
                                                       mission.start_date, mission.end_date, sender=sender))
        queue_email(session, dedup_key=f"{PUSHED_TO_ESTABLISHMENT_MAIL}{proposal.id}", to=requester.email, now=now,
                    content=emails.pushed_to_establishment(requester.first_name, f"{professional.first_name} "
                                                           f"{professional.last_name}", profession,
                                                           mission.start_date, mission.end_date, sender=sender))
    return len(ids)


def _name(session: so.Session, professional_id: int) -> str:
    professional = session.get(Professional, professional_id)
    return f"{professional.first_name} {professional.last_name}" if professional else "Ce professionnel"


def alert_ccs(session: so.Session, *, actor: SessionUser | None, mission_id: int, message: str,
              now: datetime | None = None) -> None:
    """"Alerter le CCS": the mission is flagged (message required) and the CCS accounts are e-mailed."""
    now = now or utcnow()
    actor, mission, establishment = _regional_mission(session, actor, mission_id)
    if actor.role not in ALERTERS:
        raise PermissionDenied("L'alerte au CCS est lancée par l'ARS de la région.")
    message = validate_text(message, "message", "Message au CCS", max_length=ALERT_MESSAGE_MAX, multiline=True)
    if mission.status != MissionStatus.OPEN.value:
        raise Conflict("Seule une mission ouverte peut faire l'objet d'une alerte.")
    mission.ccs_alert_at, mission.ccs_alert_message = now, message
    # A new alert after the CCS closed the previous one: it is open again (the Events keep the old one).
    mission.alert_closed_at = mission.alert_closed_by = mission.alert_close_note = None
    record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id, action="ccs_alerted", at=now)
    region = reference.ars_names()[establishment.ars_code]
    for ccs in session.scalars(sa.select(User).where(User.role == Role.CCS.value, User.status == "active")):
        queue_email(session, dedup_key=f"alert:{mission.id}:{int(now.timestamp())}:{ccs.id}", to=ccs.email, now=now,
                    content=emails.ccs_alert(ccs.first_name, region, establishment.name,
                                             reference.profession_labels()[mission.profession_code], message))


def ccs_alerts(session: so.Session, *, actor: SessionUser | None) -> list[dict[str, Any]]:
    """Open alerts: the mission is still open and its pools are not opened yet; oldest first."""
    actor = require_role(actor, *NATIONAL_ROLES)
    rows = session.execute(
        sa.select(Mission.id, Mission.profession_code, Mission.count, Mission.start_date, Mission.end_date,
                  Mission.ccs_alert_at, Mission.ccs_alert_message, Mission.pools_opened_at,
                  Establishment.name.label("establishment"), Establishment.ars_code, Establishment.postal_code,
                  Establishment.city)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .where(Mission.ccs_alert_at.is_not(None), Mission.pools_opened_at.is_(None),
               Mission.alert_closed_at.is_(None), Mission.status == MissionStatus.OPEN.value)
        .order_by(Mission.ccs_alert_at, Mission.id)
    ).mappings()
    labels, regions = reference.profession_labels(), reference.ars_names()
    actions = (frozenset({Action.OPEN_POOLS, Action.PROPOSE, Action.CLOSE_ALERT}) if actor.role in POOL_OPENERS
               else NONE)
    return [{**row, "profession": labels[row["profession_code"]], "region": regions[row["ars_code"]],
             "assigned": assigned_count(session, mission_id=row["id"]), "actions": actions} for row in rows]


def open_national_pools(session: so.Session, *, actor: SessionUser | None, mission_id: int,
                        now: datetime | None = None) -> None:
    """"Ouvrir les viviers nationaux": volunteers of other regions with national mobility become
    candidates for this mission (DESIGN §4 rule 4); the region's ARS accounts are told."""
    now = now or utcnow()
    actor = require_role(actor, *POOL_OPENERS)
    mission = locked_mission(session, mission_id=mission_id)
    if mission.pools_opened_at is not None:
        raise Conflict("Les viviers nationaux sont déjà ouverts pour cette mission.")
    if mission.status != MissionStatus.OPEN.value:
        raise Conflict("Cette mission n'est plus ouverte : inutile d'ouvrir les viviers nationaux.")
    mission.pools_opened_at = now
    record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id, action="pools_opened", at=now)
    establishment = session.get(Establishment, mission.establishment_id)
    profession = reference.profession_labels()[mission.profession_code]
    for ars in session.scalars(sa.select(User).where(User.role == Role.ARS.value, User.status == "active",
                                                     User.ars_code == establishment.ars_code)):
        queue_email(session, dedup_key=f"pools:{mission.id}:{ars.id}", to=ars.email, now=now,
                    content=emails.pools_opened(ars.first_name, establishment.name, profession))


def close_alert(session: so.Session, *, actor: SessionUser | None, mission_id: int, note: str,
                now: datetime | None = None) -> None:
    """The CCS closes an alert with a note, whether or not it opened the national pools; the ARS is told."""
    now = now or utcnow()
    actor = require_role(actor, *POOL_OPENERS)
    note = validate_text(note, "note", "Note de clôture", max_length=ALERT_MESSAGE_MAX, multiline=True)
    mission = locked_mission(session, mission_id=mission_id)
    if mission.ccs_alert_at is None:
        raise Conflict("Cette mission n'a pas fait l'objet d'une alerte.")
    if mission.alert_closed_at is not None:
        raise Conflict("Cette alerte est déjà close.")
    mission.alert_closed_at, mission.alert_closed_by, mission.alert_close_note = now, actor.id, note
    record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id, action="alert_closed",
                 details={"pools_opened": mission.pools_opened_at is not None}, at=now)
    establishment = session.get(Establishment, mission.establishment_id)
    profession = reference.profession_labels()[mission.profession_code]
    for ars in session.scalars(sa.select(User).where(User.role == Role.ARS.value, User.status == "active",
                                                     User.ars_code == establishment.ars_code)):
        queue_email(session, dedup_key=f"alert-closed:{mission.id}:{int(now.timestamp())}:{ars.id}", to=ars.email,
                    now=now, content=emails.alert_closed(ars.first_name, establishment.name, profession, note))


ALERT_STATES = {"waiting": "En attente du CCS", "pools": "Viviers nationaux ouverts", "closed": "Close par le CCS",
                "ended": "Mission pourvue ou clôturée"}
ALERT_HISTORY_LIMIT = 500


def alert_state() -> sa.ColumnElement[str]:
    """Where an alert stands (a key of ALERT_STATES): closed by the CCS, over with its mission, pools
    opened, or waiting. One SQL expression, for the history and for the « alertes » export."""
    return sa.case((Mission.alert_closed_at.is_not(None), "closed"),
                   (Mission.status != MissionStatus.OPEN.value, "ended"),
                   (Mission.pools_opened_at.is_not(None), "pools"), else_="waiting")


def alert_history(session: so.Session, *, actor: SessionUser | None, ars_code: str | None = None,
                  limit: int = ALERT_HISTORY_LIMIT) -> list[dict[str, Any]]:
    """Every alert of a region (an ARS: its own) or of the country, the latest first: raised → pools
    opened → closed, with their times and what the CCS wrote."""
    actor = require_role(actor, *READERS)
    if actor.role == Role.ARS.value:
        if ars_code not in (None, actor.ars_code):
            raise PermissionDenied("Les alertes d'une autre région relèvent de son ARS.")
        ars_code = actor.ars_code
    closer = so.aliased(User)
    query = (
        sa.select(Mission.id, Mission.profession_code, Mission.count, alert_state().label("state"), Mission.ccs_alert_at,
                  Mission.ccs_alert_message, Mission.pools_opened_at, Mission.alert_closed_at,
                  Mission.alert_close_note, Mission.filled_at, Mission.closed_at,
                  Establishment.name.label("establishment"), Establishment.ars_code,
                  (closer.first_name + " " + closer.last_name).label("closed_by"))
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .outerjoin(closer, closer.id == Mission.alert_closed_by)
        .where(Mission.ccs_alert_at.is_not(None))
        .order_by(Mission.ccs_alert_at.desc(), Mission.id.desc()).limit(limit)
    )
    if ars_code:
        query = query.where(Establishment.ars_code == ars_code)
    labels, regions = reference.profession_labels(), reference.ars_names()
    closes = frozenset({Action.CLOSE_ALERT}) if actor.role in POOL_OPENERS else NONE
    rows = []
    for row in session.execute(query).mappings():
        state = row["state"]
        rows.append({**row, "profession": labels[row["profession_code"]], "region": regions[row["ars_code"]],
                     "state_label": ALERT_STATES[state],
                     "assigned": assigned_count(session, mission_id=row["id"]),
                     "actions": closes if state in ("waiting", "pools") else NONE})
    return rows


# ---------------------------------------------------------------- the region's volunteers


LISTED_STATUSES = tuple(s.value for s in ProfessionalStatus if s != ProfessionalStatus.SUPPRIME)  # deleted: never
NATIONAL_SEARCH_MIN = 2  # every region at once: a targeted search, never the whole country's list


@dataclass(frozen=True)
class ProfessionalFilters:
    text: str = ""
    profession_code: str | None = None
    statuses: tuple[str, ...] = ()
    verified: bool | None = None
    duplicates_only: bool = False


def region_professionals(session: so.Session, *, actor: SessionUser | None, ars_code: str | None,
                         filters: ProfessionalFilters | None = None, offset: int = 0,
                         limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """The region's volunteers (deleted ones excluded), searched and paged in SQL; `ars_code=None` searches
    every region, for the national roles that read names (the CCS, an admin's « Volontaires »). Names are
    personal data: the ministry is refused (its exports are pseudonymised)."""
    actor = require_names_reader(actor, ars_code if ars_code is None else _known_region(ars_code))
    filters = filters or ProfessionalFilters()
    text = search_text(filters.text).lower()
    if ars_code is None and len(text) < NATIONAL_SEARCH_MIN:
        raise ValidationError("text", f"Saisissez au moins {NATIONAL_SEARCH_MIN} caractères du nom, du prénom ou de "
                                      "l'adresse électronique du volontaire.")
    conditions = [Professional.status != ProfessionalStatus.SUPPRIME.value]
    if ars_code is not None:
        conditions.append(Professional.ars_code == ars_code)
    if text:
        pattern = f"%{text}%"
        conditions.append(sa.or_(sa.func.lower(Professional.last_name).like(pattern),
                                 sa.func.lower(Professional.first_name).like(pattern),
                                 sa.func.lower(Professional.email).like(pattern),
                                 sa.func.lower(Professional.city).like(pattern), Professional.postal_code.like(pattern)))
    if filters.profession_code:
        conditions.append(Professional.profession_code == filters.profession_code)
    if filters.statuses:
        conditions.append(Professional.status.in_(filters.statuses))
    if filters.verified is not None:
        conditions.append(Professional.verified.is_(filters.verified))
    if filters.duplicates_only:
        conditions.append(Professional.possible_duplicate_of.is_not(None))
    query = sa.select(Professional.id, Professional.last_name, Professional.first_name, Professional.email,
                      Professional.postal_code, Professional.city, Professional.department_code,
                      Professional.ars_code, Professional.profession_code, Professional.status,
                      Professional.verified, Professional.possible_duplicate_of,
                      Professional.availability_confirmed_at).where(*conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    labels = reference.profession_labels()
    rows = [{**row, "profession": labels[row["profession_code"]]}
            for row in session.execute(query.order_by(Professional.last_name, Professional.first_name, Professional.id)
                                       .offset(offset).limit(limit)).mappings()]
    for row in rows:
        row["actions"], row["why_not"] = _volunteer_actions(actor, row["ars_code"], row["status"])
    return rows, total


def _volunteer_actions(actor: SessionUser, ars_code: str, status: str) -> tuple[Actions, dict[Action, str]]:
    """A volunteer of the list: the sheet for whoever reads names (what it shows is professional_sheet's
    business), unavailability for the region's regulators and admins, the rest for the regulators; and why
    an action of theirs is not possible for this volunteer now."""
    actions = {Action.SHEET} if reads_names(actor, ars_code) else set()
    why_not: dict[Action, str] = {}
    if pauses_volunteers(actor, ars_code):
        if status in transitions.UNAVAILABLE_FROM:
            actions.add(Action.SET_UNAVAILABLE)
        else:
            why_not[Action.SET_UNAVAILABLE] = UNAVAILABLE_REFUSAL
    if regulates(actor, ars_code):
        actions.add(Action.VERIFY)
        if actor.role in transitions.ON_BEHALF_ROLES:
            if status in transitions.ASSIGNABLE_STATUSES:
                actions.add(Action.ASSIGN)
            else:
                why_not[Action.ASSIGN] = "Ce professionnel est déjà affecté ou indisponible."
    return frozenset(actions), why_not


def _listed_professional(session: so.Session, professional_id: int) -> Professional:
    """A volunteer still registered, locked for the action."""
    professional = session.get(Professional, professional_id, with_for_update=True, populate_existing=True)
    if professional is None or professional.status == ProfessionalStatus.SUPPRIME.value:
        raise NotFound("Ce professionnel n'est plus inscrit.")
    return professional


def _regional_professional(session: so.Session, actor: SessionUser | None,
                           professional_id: int) -> tuple[SessionUser, Professional]:
    professional = _listed_professional(session, professional_id)
    return require_region(actor, professional.ars_code), professional


def set_verified(session: so.Session, *, actor: SessionUser | None, professional_id: int, verified: bool,
                 now: datetime | None = None) -> None:
    """Documents checked by the ARS: the "VÉRIFIÉ" badge (and a better rank)."""
    now = now or utcnow()
    actor, professional = _regional_professional(session, actor, professional_id)
    if professional.verified != verified:
        record_event(session, actor_id=actor.id, entity="professional", entity_id=professional.id,
                     action="verified" if verified else "unverified", at=now)
        professional.verified = verified


def set_unavailable_by_ars(session: so.Session, *, actor: SessionUser | None, professional_id: int,
                           reason: str, now: datetime | None = None) -> None:
    """The ARS of the volunteer's region, the CCS or an admin (DESIGN §3) takes a volunteer out of the pool:
    never proposed again until they resume. The reason is asked, not kept (the audit holds no free text)."""
    now = now or utcnow()
    reason = validate_text(reason, "reason", "Motif", max_length=REASON_MAX, multiline=True)
    professional = _listed_professional(session, professional_id)
    if not pauses_volunteers(actor, professional.ars_code):
        require_region(actor, professional.ars_code)  # refuses, in the words that fit this actor
    actor = require_actor(actor)
    if professional.status not in transitions.UNAVAILABLE_FROM:
        raise Conflict(UNAVAILABLE_REFUSAL)
    set_status(session, professional_id=professional_id, expected=[ProfessionalStatus.DISPONIBLE.value],
               target=ProfessionalStatus.INDISPONIBLE.value,
               now=now)
    record_event(session, actor_id=actor.id, entity="professional", entity_id=professional_id,
                 action="made_unavailable", before="disponible", after="indisponible", details={"by": actor.role},
                 at=now)


def assign_on_behalf(session: so.Session, *, actor: SessionUser | None, mission_id: int, professional_id: int,
                     now: datetime | None = None) -> None:
    """The ARS records an assignment for an establishment (a volunteer found by phone, for instance)."""
    now = now or utcnow()
    actor, mission, establishment = _regional_mission(session, actor, mission_id)
    if actor.role not in transitions.ON_BEHALF_ROLES:
        raise PermissionDenied("L'affectation pour le compte d'un établissement est réservée à son ARS.")
    if not transitions.accepts_people(mission.status, mission.count):
        raise Conflict("Cette mission n'est pas ouverte.")
    if assigned_count(session, mission_id=mission_id) >= mission.count:
        raise Conflict("Cette mission est déjà pourvue.")
    professional = session.get(Professional, professional_id)
    if professional is None or professional.profession_code != mission.profession_code:
        raise Conflict("Ce professionnel n'exerce pas la profession demandée par la mission.")
    refuse_if_turned_down(session, mission_id=mission_id, professional_id=professional_id)
    linked = session.scalar(sa.select(Proposal).where(
        Proposal.mission_id == mission_id, Proposal.professional_id == professional_id,
        Proposal.state.in_([s for s in transitions.ASSIGN_ON_BEHALF_FROM if s])).with_for_update())
    if linked is not None:
        set_status(session, professional_id=professional_id, expected=[transitions.ASSIGN_ON_BEHALF_FROM[linked.state]],
                   target=ProfessionalStatus.AFFECTE.value, now=now)
        move_proposal(session, proposal=linked, target=ProposalState.AFFECTE.value, actor_id=actor.id, now=now,
                      action="assigned_on_behalf")
    else:
        if not set_status(session, professional_id=professional_id, expected=[transitions.ASSIGN_ON_BEHALF_FROM[None]],
                          target=ProfessionalStatus.AFFECTE.value, now=now):
            raise Conflict(f"{_name(session, professional_id)} est déjà sollicité(e) ou indisponible.")
        proposal = Proposal(mission_id=mission_id, professional_id=professional_id, origin=ProposalOrigin.PUSH.value,
                            state=ProposalState.AFFECTE.value, by_user_id=actor.id, created_at=now, decided_at=now)
        session.add(proposal)
        session.flush()
        record_event(session, actor_id=actor.id, entity="proposal", entity_id=proposal.id,
                     action="assigned_on_behalf", before="disponible", after="affecte",
                     details={"mission_id": mission_id, "professional_id": professional_id}, at=now)
    after_assignment(session, mission=mission, actor_id=actor.id, now=now)
    validator = session.get(User, actor.id)
    queue_email(session, dedup_key=f"assigned-by-ars:{mission_id}:{professional_id}:{int(now.timestamp())}",
                to=professional.email, now=now,
                content=emails.assignment_confirmed(
                    professional.first_name, establishment.name,
                    f"{establishment.address}, {establishment.postal_code} {establishment.city}",
                    reference.profession_labels()[mission.profession_code], mission.start_date, mission.end_date,
                    validator.email, " — ".join(x for x in (mission.contact_name, mission.contact_phone) if x) or None))

