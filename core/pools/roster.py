"""The roster (« vivier ») of a territorial pool, by consent only (issue 14).

A volunteer enters a pool's roster in one of two ways, never by someone else's decision alone:
- invited by the pool's coordinator among the volunteers of its region (an e-mail points to « Mon profil »), then
  accepted by the volunteer there — a declined invitation is final: the coordinator cannot invite again;
- registered directly with the pool's code on « Proposer mon aide »: a member at once, *pool-only* — seen by the
  pool's member establishments and the regulators of its region only (core.staffing.matching) — until the
  coordinator releases them to the national pool.

The volunteer leaves whenever they like; the coordinator removes a member or withdraws an invitation. A pool-only
member who leaves or is removed without having been released never agreed to the national pool: their profile is
paused (« indisponible ») if free, and they resume from « Mon profil » if they want to join the national pool.

core.volunteers does not know pools: the registration with a code wraps its service (`register_with_pool_code`),
in the same unit of work, so that an unknown code leaves nothing saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from core.mail import emails
from core.mail.outbox import queue_email
from core.places import reference
from core.pools.scope import COORDINATOR_ROLE, require_coordinator
from core.shared.actions import NONE, Action
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import paris_datetime, utcnow
from core.shared.errors import Conflict, FormErrors, NotFound, PermissionDenied, ValidationError
from core.shared.permissions import require_role
from core.shared.validation import search_text
from core.staffing.workflow import set_status
from core.volunteers.professionals import Registration, RegistrationInput, register_professional
from db.models import (
    AccountStatus,
    Professional,
    ProfessionalStatus,
    Role,
    RosterOrigin,
    RosterState,
    TerritorialPool,
    User,
)
from db.models import PoolRosterEntry as Entry

LIVE = (RosterState.INVITE.value, RosterState.MEMBRE.value)
SEARCH_LIMIT = 50
CODE_FIELD = "pool_code"
UNKNOWN_CODE = ("Aucune plateforme territoriale ne porte ce code : vérifiez-le auprès de son coordinateur, ou "
                "laissez ce champ vide pour rejoindre le vivier national.")
ENTITY = "pool_roster"
STATE_LABELS = {"invite": "Invitation en attente", "membre": "Membre", "decline": "Invitation déclinée",
                "retire": "Retiré(e)"}


def _name(professional: Professional | Any) -> str:
    return f"{professional.first_name} {professional.last_name}"


def _pool_only_elsewhere(pool_id: int) -> sa.Exists:
    """The volunteer registered with another pool's code and was not released: invisible outside that pool."""
    return (sa.select(Entry.id)
            .where(Entry.professional_id == Professional.id, Entry.pool_id != pool_id,
                   Entry.state == RosterState.MEMBRE.value, Entry.pool_only.is_(True), Entry.released_at.is_(None))
            .correlate(Professional).exists())


def _record(session: so.Session, actor_id: int | None, pool: TerritorialPool, entry: Entry, action: str,
            before: str | None, now: datetime, **details: Any) -> None:
    record_event(session, actor_id=actor_id, entity=ENTITY, entity_id=entry.id, action=action, before=before,
                 after=entry.state, ars_code=pool.ars_code, at=now,
                 details={"pool_id": pool.id, "professional_id": entry.professional_id, **details})


def _pause_if_pool_only(session: so.Session, entry: Entry, now: datetime) -> bool:
    """A pool-only member leaving the roster unreleased never agreed to the national pool: paused if free."""
    if not entry.pool_only or entry.released_at is not None:
        return False
    return set_status(session, professional_id=entry.professional_id, expected=[ProfessionalStatus.DISPONIBLE.value],
                      target=ProfessionalStatus.INDISPONIBLE.value, now=now)


# ---------------------------------------------------------------- the coordinator: search, invite, keep the roster


@dataclass(frozen=True)
class VolunteerSearch:
    text: str = ""  # part of the name, the town or the postal code
    profession_code: str | None = None
    department_code: str | None = None


def search_volunteers(session: so.Session, *, actor: SessionUser | None, search: VolunteerSearch | None = None,
                      limit: int = SEARCH_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """Volunteers of the pool's region to invite (never deleted ones, nor another pool's pool-only members), with
    where each stands with this pool and whether « Inviter » is possible; sorted by name, the first `limit`."""
    pool = require_coordinator(session, actor)
    search = search or VolunteerSearch()
    live = sa.select(Entry.state).where(Entry.pool_id == pool.id, Entry.professional_id == Professional.id,
                                        Entry.state.in_(LIVE)).correlate(Professional).limit(1).scalar_subquery()
    declined = (sa.select(sa.func.max(Entry.answered_at))
                .where(Entry.pool_id == pool.id, Entry.professional_id == Professional.id,
                       Entry.state == RosterState.DECLINE.value).correlate(Professional).scalar_subquery())
    conditions = [Professional.ars_code == pool.ars_code, Professional.status != ProfessionalStatus.SUPPRIME.value,
                  ~_pool_only_elsewhere(pool.id)]
    text = search_text(search.text).lower()
    if text:
        pattern = f"%{text}%"
        conditions.append(sa.or_(sa.func.lower(Professional.last_name).like(pattern),
                                 sa.func.lower(Professional.first_name).like(pattern),
                                 sa.func.lower(Professional.city).like(pattern), Professional.postal_code.like(pattern)))
    if search.profession_code:
        conditions.append(Professional.profession_code == search.profession_code)
    if search.department_code:
        conditions.append(Professional.department_code == search.department_code)
    query = sa.select(Professional.id, Professional.last_name, Professional.first_name, Professional.postal_code,
                      Professional.city, Professional.department_code, Professional.profession_code,
                      Professional.mobility, Professional.status, Professional.verified,
                      live.label("roster_state"), declined.label("declined_at")).where(*conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    labels = reference.profession_labels()
    rows = []
    for row in session.execute(query.order_by(Professional.last_name, Professional.first_name, Professional.id)
                               .limit(limit)).mappings():
        why_not = _why_not_invite(row["roster_state"], row["declined_at"])
        rows.append({**row, "profession": labels[row["profession_code"]], "why_not": why_not,
                     "actions": NONE if why_not else frozenset({Action.INVITE})})
    return rows, total


def _why_not_invite(state: str | None, declined_at: datetime | None) -> str | None:
    if state == RosterState.MEMBRE.value:
        return "Déjà membre du vivier."
    if state == RosterState.INVITE.value:
        return "Invitation en attente de réponse."
    if declined_at is not None:
        return f"A décliné votre invitation le {paris_datetime(declined_at)} : elle ne peut pas être renouvelée."
    return None


def invite(session: so.Session, *, actor: SessionUser | None, professional_id: int,
           now: datetime | None = None) -> Entry:
    """Invite a volunteer of the region to the roster: an invitation they accept or decline from « Mon profil »,
    announced by e-mail."""
    now = now or utcnow()
    pool = require_coordinator(session, actor)
    professional = session.get(Professional, professional_id)
    if professional is None or professional.status == ProfessionalStatus.SUPPRIME.value:
        raise NotFound("Ce professionnel n'est plus inscrit.")
    if professional.ars_code != pool.ars_code:
        raise PermissionDenied("Ce volontaire relève d'une autre région : la plateforme invite les volontaires de sa "
                               "région.")
    if session.scalar(sa.select(_pool_only_elsewhere(pool.id)).select_from(Professional)
                      .where(Professional.id == professional_id)):
        raise NotFound("Ce professionnel n'est pas dans le vivier de votre région.")
    entries = session.execute(sa.select(Entry.state, Entry.answered_at).where(
        Entry.pool_id == pool.id, Entry.professional_id == professional_id)).all()
    live = next((state for state, _ in entries if state in LIVE), None)
    declined = max((at for state, at in entries if state == RosterState.DECLINE.value and at), default=None)
    if (why := _why_not_invite(live, declined)) is not None:
        raise Conflict(f"{_name(professional)} : {why[0].lower()}{why[1:]}")
    entry = Entry(pool_id=pool.id, professional_id=professional_id, state=RosterState.INVITE.value,
                  origin=RosterOrigin.INVITATION.value, pool_only=False, invited_by=actor.id, created_at=now)
    session.add(entry)
    try:
        session.flush()
    except IntegrityError as error:  # the same invitation sent from another tab at the same instant
        raise Conflict(f"{_name(professional)} : invitation déjà envoyée.") from error
    _record(session, actor.id, pool, entry, "roster_invited", None, now)
    coordinator = session.get(User, actor.id)
    department = reference.departements()[pool.department_code]
    queue_email(session, dedup_key=f"pool-invitation:{entry.id}", to=professional.email, now=now,
                content=emails.pool_invitation(professional.first_name, pool.name,
                                               f"{department.name} ({department.code})",
                                               f"{coordinator.first_name} {coordinator.last_name}"))
    return entry


def roster(session: so.Session, *, actor: SessionUser | None) -> list[dict[str, Any]]:
    """The pool's roster as its coordinator keeps it: members first, then invitations waiting for an answer; the
    pool-only members marked (`restricted`), `member` telling a member from an invitation, with the members'
    contact details (they agreed to the pool) and what the coordinator may do to each."""
    pool = require_coordinator(session, actor)
    rows = session.execute(
        sa.select(Entry.id, Entry.professional_id, Entry.state, Entry.origin, Entry.pool_only, Entry.released_at,
                  Entry.created_at, Entry.answered_at, Professional.last_name, Professional.first_name,
                  Professional.email, Professional.phone, Professional.postal_code, Professional.city,
                  Professional.profession_code, Professional.status, Professional.verified)
        .join(Professional, Professional.id == Entry.professional_id)
        .where(Entry.pool_id == pool.id, Entry.state.in_(LIVE))
        .order_by(sa.case((Entry.state == RosterState.MEMBRE.value, 0), else_=1), Professional.last_name,
                  Professional.first_name, Entry.id)
    ).mappings()
    labels = reference.profession_labels()
    result = []
    for row in rows:
        member = row["state"] == RosterState.MEMBRE.value
        restricted = member and row["pool_only"] and row["released_at"] is None
        actions = {Action.REMOVE} | ({Action.RELEASE} if restricted else set())
        result.append({**row, "email": row["email"] if member else None, "phone": row["phone"] if member else None,
                       "profession": labels[row["profession_code"]], "state_label": STATE_LABELS[row["state"]],
                       "member": member, "restricted": restricted, "actions": frozenset(actions)})
    return result


def _coordinated_entry(session: so.Session, actor: SessionUser | None, entry_id: int) -> tuple[TerritorialPool,
                                                                                                Entry]:
    """A live entry of the coordinator's own pool, locked for the action."""
    pool = require_coordinator(session, actor)
    entry = session.get(Entry, entry_id, with_for_update=True, populate_existing=True)
    if entry is None or entry.pool_id != pool.id:
        raise NotFound("Ce volontaire n'est pas dans le vivier de votre plateforme.")
    if entry.state not in LIVE:
        raise Conflict("Ce volontaire a déjà quitté le vivier ou décliné l'invitation.")
    return pool, entry


def release_member(session: so.Session, *, actor: SessionUser | None, entry_id: int,
                   now: datetime | None = None) -> None:
    """Open a pool-only member to the national pool: every establishment of their mobility area may then ask for
    them; they stay on the roster, and are told by e-mail."""
    now = now or utcnow()
    pool, entry = _coordinated_entry(session, actor, entry_id)
    if entry.state != RosterState.MEMBRE.value or not entry.pool_only:
        raise Conflict("Seul un membre inscrit avec le code de la plateforme peut être ouvert au vivier national.")
    if entry.released_at is not None:
        raise Conflict("Ce membre est déjà ouvert au vivier national.")
    entry.released_at = now
    _record(session, actor.id, pool, entry, "roster_released", entry.state, now)
    professional = session.get(Professional, entry.professional_id)
    queue_email(session, dedup_key=f"pool-released:{entry.id}", to=professional.email, now=now,
                content=emails.pool_member_released(professional.first_name, pool.name))


def remove_member(session: so.Session, *, actor: SessionUser | None, entry_id: int,
                  now: datetime | None = None) -> bool:
    """Take a member off the roster, or withdraw an invitation not answered yet. A removed member is told by
    e-mail; returns True when a pool-only member was paused (see the module docstring)."""
    now = now or utcnow()
    pool, entry = _coordinated_entry(session, actor, entry_id)
    before = entry.state
    entry.state = RosterState.RETIRE.value
    paused = before == RosterState.MEMBRE.value and _pause_if_pool_only(session, entry, now)
    _record(session, actor.id, pool, entry, "roster_removed", before, now, paused=paused)
    if before == RosterState.MEMBRE.value:
        professional = session.get(Professional, entry.professional_id)
        queue_email(session, dedup_key=f"pool-removed:{entry.id}", to=professional.email, now=now,
                    content=emails.pool_member_removed(professional.first_name, pool.name, paused))
    return paused


# ---------------------------------------------------------------- the volunteer: « Mon profil »


@dataclass(frozen=True)
class MyPools:
    invitations: list[dict[str, Any]] = field(default_factory=list)  # waiting for an answer
    memberships: list[dict[str, Any]] = field(default_factory=list)


def _volunteer(actor: SessionUser | None) -> SessionUser:
    actor = require_role(actor, Role.PROFESSIONNEL.value)
    if actor.professional_id is None:
        raise PermissionDenied("Cette page est réservée aux professionnels volontaires.")
    return actor


def visibility_sentence(pool_only: bool, released: bool) -> str:
    """What a member's place on the roster changes to who sees them, in the volunteer's words."""
    if pool_only and not released:
        return ("Inscrit(e) avec le code de la plateforme : seuls ses établissements membres et votre ARS vous "
                "voient, tant que la plateforme ne vous ouvre pas au vivier national.")
    return ("Vous restez dans le vivier national ; les établissements membres de la plateforme vous voient en tête "
            "de leurs candidats.")


def my_pools(session: so.Session, *, actor: SessionUser | None) -> MyPools:
    """The volunteer's invitations waiting for an answer and the pools they belong to, with the coordinators' names
    and the answers they may give."""
    actor = _volunteer(actor)
    coordinators = (sa.select(sa.func.min(User.first_name + " " + User.last_name))
                    .where(User.role == COORDINATOR_ROLE, User.pool_id == TerritorialPool.id,
                           User.status == AccountStatus.ACTIVE.value)
                    .correlate(TerritorialPool).scalar_subquery())
    rows = session.execute(
        sa.select(Entry.id, Entry.state, Entry.origin, Entry.pool_only, Entry.released_at, Entry.created_at,
                  Entry.answered_at, TerritorialPool.name.label("pool"), TerritorialPool.department_code,
                  coordinators.label("coordinator"))
        .join(TerritorialPool, TerritorialPool.id == Entry.pool_id)
        .where(Entry.professional_id == actor.professional_id, Entry.state.in_(LIVE),
               TerritorialPool.closed_at.is_(None))
        .order_by(Entry.created_at, Entry.id)
    ).mappings()
    departments = reference.departements()
    result = MyPools()
    for row in rows:
        department = departments[row["department_code"]]
        values = {**row, "department": f"{department.name} ({department.code})"}
        if row["state"] == RosterState.INVITE.value:
            result.invitations.append({**values, "actions": frozenset({Action.ACCEPT_INVITATION,
                                                                       Action.DECLINE_INVITATION})})
        else:
            result.memberships.append({**values, "actions": frozenset({Action.LEAVE_POOL}),
                                       "visibility": visibility_sentence(row["pool_only"],
                                                                         row["released_at"] is not None)})
    return result


def _own_entry(session: so.Session, actor: SessionUser | None, entry_id: int,
               state: str) -> tuple[SessionUser, TerritorialPool, Entry]:
    """The volunteer's own roster entry in this state, locked; its pool still open."""
    actor = _volunteer(actor)
    entry = session.get(Entry, entry_id, with_for_update=True, populate_existing=True)
    if entry is None or entry.professional_id != actor.professional_id:
        raise NotFound("Cette invitation n'existe pas.")
    pool = session.get(TerritorialPool, entry.pool_id)
    if pool.closed_at is not None:
        raise Conflict("Cette plateforme territoriale est fermée.")
    if entry.state != state:
        raise Conflict("Cette invitation n'est plus en attente." if state == RosterState.INVITE.value
                       else "Vous n'êtes plus membre de cette plateforme.")
    return actor, pool, entry


def answer_invitation(session: so.Session, *, actor: SessionUser | None, entry_id: int, accept: bool,
                      now: datetime | None = None) -> str:
    """The volunteer accepts (member of the roster) or declines (for good: no new invitation from this pool) an
    invitation; returns the pool's name."""
    now = now or utcnow()
    actor, pool, entry = _own_entry(session, actor, entry_id, RosterState.INVITE.value)
    entry.state = RosterState.MEMBRE.value if accept else RosterState.DECLINE.value
    entry.answered_at = now
    _record(session, actor.id, pool, entry, "roster_accepted" if accept else "roster_declined",
            RosterState.INVITE.value, now)
    return pool.name


def leave_pool(session: so.Session, *, actor: SessionUser | None, entry_id: int,
               now: datetime | None = None) -> bool:
    """The volunteer leaves a pool's roster; True when their profile was paused (a pool-only member: see the
    module docstring)."""
    now = now or utcnow()
    actor, pool, entry = _own_entry(session, actor, entry_id, RosterState.MEMBRE.value)
    entry.state = RosterState.RETIRE.value
    paused = _pause_if_pool_only(session, entry, now)
    _record(session, actor.id, pool, entry, "roster_left", RosterState.MEMBRE.value, now, paused=paused)
    return paused


# ---------------------------------------------------------------- « Proposer mon aide » with a pool's code


@dataclass(frozen=True)
class PoolRegistration(Registration):
    pool_name: str | None = None  # the pool whose roster the volunteer joined, if a code was given


def _pool_for_code(session: so.Session, code: str) -> TerritorialPool:
    pool = session.scalar(sa.select(TerritorialPool).where(sa.func.upper(TerritorialPool.code) == code))
    if pool is None:
        raise ValidationError(CODE_FIELD, UNKNOWN_CODE)
    if pool.closed_at is not None:
        raise ValidationError(CODE_FIELD, f"La plateforme territoriale « {pool.name} » est fermée : laissez ce champ "
                                          "vide pour rejoindre le vivier national.")
    return pool


def register_with_pool_code(session: so.Session, *, actor: SessionUser | None, form: RegistrationInput,
                            pool_code: str = "", now: datetime | None = None) -> PoolRegistration:
    """The public registration (core.volunteers), joined to a pool's roster when its code is given: a pool-only
    member at once. An unknown or closed code is an error on its field, shown with the form's others; nothing is
    saved then."""
    now = now or utcnow()
    code = search_text(pool_code or "").upper()
    pool, code_error = None, None
    if code:
        try:
            pool = _pool_for_code(session, code)
        except ValidationError as error:
            code_error = error
    try:
        registration = register_professional(session, actor=actor, form=form, now=now)
    except FormErrors as errors:
        raise FormErrors([*errors.errors, *([code_error] if code_error else [])]) from None
    if code_error is not None:
        raise FormErrors([code_error])
    if pool is None:
        return PoolRegistration(registration.professional_id, registration.user_id, registration.email)
    entry = Entry(pool_id=pool.id, professional_id=registration.professional_id, state=RosterState.MEMBRE.value,
                  origin=RosterOrigin.INSCRIPTION.value, pool_only=True, created_at=now, answered_at=now)
    session.add(entry)
    session.flush()
    _record(session, None, pool, entry, "roster_registered", None, now)
    return PoolRegistration(registration.professional_id, registration.user_id, registration.email, pool.name)
