"""The member establishments of a territorial pool (issue 14): the ARS adds or removes them; an establishment of the
department asks to join, and the pool's coordinator or the ARS accepts or refuses, the establishment being told by
e-mail. The call for projects wants open pools: a newcomer may ask at any time.

Who may be a member: an active EHPAD, SSIAD, SPASAD or SAAD (FINESS categories marked `pool_eligible` in
assets/finess_categories.csv) of the pool's department, in no other pool — one live membership (asked or granted)
per establishment, which a partial unique index also guarantees. An establishment whose FINESS category is not
known yet is not eligible until it is told (« Demande de compte », import, or its ARS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from core.mail import emails
from core.mail.outbox import queue_email
from core.places import reference
from core.pools.scope import (
    COORDINATOR_ROLE,
    coordinates,
    get_pool,
    regulates_pool,
    require_pool_reader,
    require_pool_regulator,
)
from core.shared.actions import NONE, Action, Actions
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import utcnow
from core.shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.shared.permissions import regulates, require_actor, require_role
from core.shared.validation import validate_text
from db.models import (
    AccountStatus,
    Establishment,
    EstablishmentStatus,
    Membership,
    PoolMember,
    PoolMemberState,
    TerritorialPool,
    User,
)

LIVE_STATES = (PoolMemberState.DEMANDE.value, PoolMemberState.MEMBRE.value)
REASON_MAX = 500


@lru_cache(maxsize=1)
def eligible_categories() -> dict[str, str]:
    """The FINESS categories that may join a pool (code → short label: EHPAD, SSIAD, SPASAD, SAAD)."""
    return {c["code"]: c["short_label"] for c in reference.finess_categories() if c["pool_eligible"]}


def eligible_words() -> str:
    """« EHPAD, SSIAD, SPASAD ou SAAD », from the reference list."""
    labels = list(eligible_categories().values())
    return ", ".join(labels[:-1]) + f" ou {labels[-1]}" if len(labels) > 1 else "".join(labels)


def category_short_label(code: str | None) -> str | None:
    return {c["code"]: c["short_label"] for c in reference.finess_categories()}.get(code or "")


def live_membership(session: so.Session, establishment_id: int) -> PoolMember | None:
    """The establishment's membership asked or granted, in whichever pool (at most one)."""
    return session.scalar(sa.select(PoolMember).where(PoolMember.establishment_id == establishment_id,
                                                      PoolMember.state.in_(LIVE_STATES)))


def check_candidate(session: so.Session, pool: TerritorialPool | None, establishment: Establishment, *,
                    department_code: str, field: str) -> None:
    """Why this establishment cannot join a pool of this department, as a ValidationError on `field`."""
    name = f"« {establishment.name} » (FINESS {establishment.finess})"
    if establishment.status != EstablishmentStatus.ACTIVE.value:
        raise ValidationError(field, f"{name} n'est pas un établissement validé.")
    if establishment.department_code != department_code:
        raise ValidationError(field, f"{name} n'est pas dans le département de la plateforme ({department_code}).")
    if establishment.finess_category_code not in eligible_categories():
        known = category_short_label(establishment.finess_category_code)
        what = f"est de catégorie {known}" if known else "n'a pas de catégorie FINESS renseignée"
        raise ValidationError(field, f"{name} {what} : une plateforme territoriale réunit des {eligible_words()}.")
    live = live_membership(session, establishment.id)
    if live is not None:
        other = session.get(TerritorialPool, live.pool_id)
        same = pool is not None and live.pool_id == pool.id
        verb = "est déjà membre de" if live.state == PoolMemberState.MEMBRE.value else "a déjà demandé à rejoindre"
        where = "cette plateforme" if same else f"la plateforme « {other.name} »"
        raise ValidationError(field, f"{name} {verb} {where} : un établissement n'appartient qu'à une plateforme.")


def add_members(session: so.Session, pool: TerritorialPool, establishments: list[Establishment], *,
                actor: SessionUser, now: datetime) -> list[PoolMember]:
    """Members granted at once (the ARS's choice): rows flushed, one Event each. Candidates already checked."""
    members = [PoolMember(pool_id=pool.id, establishment_id=e.id, state=PoolMemberState.MEMBRE.value,
                          requested_at=now, decided_at=now, decided_by=actor.id) for e in establishments]
    session.add_all(members)
    _flush(session)
    for member in members:
        record_event(session, actor_id=actor.id, entity="pool_member", entity_id=member.id, action="member_added",
                     after=member.state, details={"pool_id": pool.id, "establishment_id": member.establishment_id},
                     ars_code=pool.ars_code, at=now)
    return members


def _flush(session: so.Session) -> None:
    try:
        session.flush()
    except IntegrityError as error:  # the same establishment added or asking elsewhere at the same instant
        raise Conflict("Un de ces établissements vient de rejoindre une plateforme ou de le demander : rien n'a été "
                       "enregistré, rechargez la page.") from error


def _open_pool(session: so.Session, pool_id: int) -> TerritorialPool:
    pool = get_pool(session, pool_id)
    if pool.closed_at is not None:
        raise Conflict("Cette plateforme territoriale est fermée.")
    return pool


def _establishment(session: so.Session, establishment_id: int) -> Establishment:
    establishment = session.get(Establishment, establishment_id)
    if establishment is None:
        raise NotFound("Cet établissement n'existe pas.")
    return establishment


def _tell_establishment(session: so.Session, establishment: Establishment, key: str, build: Any,
                        now: datetime) -> None:
    """E-mail every active account of the establishment (all accounts of one FINESS see the same things)."""
    users = session.scalars(sa.select(User).join(Membership, Membership.user_id == User.id)
                            .where(Membership.establishment_id == establishment.id,
                                   User.status == AccountStatus.ACTIVE.value).order_by(User.id)).all()
    for user in users:
        queue_email(session, dedup_key=f"{key}:{user.id}", to=user.email, now=now, content=build(user.first_name))


# ---------------------------------------------------------------- the ARS adds and removes members


def add_member(session: so.Session, *, actor: SessionUser | None, pool_id: int, establishment_id: int,
               now: datetime | None = None) -> str:
    """The ARS (or the CCS) adds an eligible establishment of the department; its accounts are told. Returns its
    name. A join request of this establishment to this pool is granted by the same stroke."""
    now = now or utcnow()
    actor = require_pool_regulator(actor, get_pool(session, pool_id))
    pool = _open_pool(session, pool_id)
    establishment = _establishment(session, establishment_id)
    live = live_membership(session, establishment.id)
    if live is not None and live.pool_id == pool.id and live.state == PoolMemberState.DEMANDE.value:
        _decide(session, actor, pool, live, establishment, accept=True, reason=None, now=now)
        return establishment.name
    check_candidate(session, pool, establishment, department_code=pool.department_code, field="establishment_id")
    add_members(session, pool, [establishment], actor=actor, now=now)
    _tell_establishment(session, establishment, f"pool-member-added:{pool.id}:{establishment.id}:{now.timestamp()}",
                        lambda first: emails.pool_member_added(first, establishment.name, pool.name), now)
    return establishment.name


def remove_member(session: so.Session, *, actor: SessionUser | None, pool_id: int, establishment_id: int,
                  now: datetime | None = None) -> str:
    """The ARS (or the CCS) takes a member out of the pool (it may then join another); never the support
    establishment, which receives the credits. Returns its name."""
    now = now or utcnow()
    actor = require_pool_regulator(actor, get_pool(session, pool_id))
    pool = _open_pool(session, pool_id)
    member = session.scalar(sa.select(PoolMember).where(PoolMember.pool_id == pool.id,
                                                        PoolMember.establishment_id == establishment_id,
                                                        PoolMember.state == PoolMemberState.MEMBRE.value))
    if member is None:
        raise NotFound("Cet établissement n'est pas membre de cette plateforme.")
    if establishment_id == pool.support_establishment_id:
        raise Conflict("L'établissement support reçoit les crédits de la plateforme : il ne peut pas en être retiré.")
    member.state, member.decided_at, member.decided_by = PoolMemberState.RETIRE.value, now, actor.id
    record_event(session, actor_id=actor.id, entity="pool_member", entity_id=member.id, action="member_removed",
                 before=PoolMemberState.MEMBRE.value, after=member.state,
                 details={"pool_id": pool.id, "establishment_id": establishment_id}, ars_code=pool.ars_code, at=now)
    session.flush()
    return _establishment(session, establishment_id).name


# ---------------------------------------------------------------- an establishment asks, the pool decides


def _require_establishment_user(actor: SessionUser | None, establishment_id: int) -> SessionUser:
    actor = require_role(actor, "etablissement")
    if establishment_id not in actor.establishment_ids:
        raise PermissionDenied("Vous n'avez pas accès à cet établissement.")
    return actor


def request_join(session: so.Session, *, actor: SessionUser | None, establishment_id: int, pool_id: int,
                 now: datetime | None = None) -> str:
    """An eligible establishment asks to join an open pool of its department; the pool's coordinator or its ARS
    decides. Returns the pool's name."""
    now = now or utcnow()
    actor = _require_establishment_user(actor, establishment_id)
    pool = _open_pool(session, pool_id)
    establishment = _establishment(session, establishment_id)
    if establishment.department_code != pool.department_code:
        raise ValidationError("pool_id", "Cette plateforme est celle d'un autre département : demandez à rejoindre "
                                         "celle de votre département.")
    check_candidate(session, pool, establishment, department_code=pool.department_code, field="pool_id")
    member = PoolMember(pool_id=pool.id, establishment_id=establishment.id, state=PoolMemberState.DEMANDE.value,
                        requested_at=now)
    session.add(member)
    _flush(session)
    record_event(session, actor_id=actor.id, entity="pool_member", entity_id=member.id, action="join_requested",
                 after=member.state, details={"pool_id": pool.id, "establishment_id": establishment.id},
                 ars_code=pool.ars_code, at=now)
    return pool.name


def decides_joins(actor: SessionUser | None, pool: TerritorialPool) -> bool:
    """The pool's coordinator, its region's ARS, the CCS: who accepts or refuses a join request."""
    return pool.closed_at is None and (coordinates(actor, pool) or regulates_pool(actor, pool))


def decide_join(session: so.Session, *, actor: SessionUser | None, member_id: int, accept: bool,
                reason: str = "", now: datetime | None = None) -> str:
    """Accept or refuse a join request (a refusal may give its reason); the establishment's accounts are told by
    e-mail. Returns the establishment's name."""
    now = now or utcnow()
    member = session.get(PoolMember, member_id)
    if member is None:
        raise NotFound("Cette demande d'adhésion n'existe pas.")
    pool = get_pool(session, member.pool_id)
    if not (coordinates(actor, pool) or regulates_pool(actor, pool)):
        raise PermissionDenied("Seuls le coordinateur de la plateforme et son ARS traitent ses demandes d'adhésion.")
    if pool.closed_at is not None:
        raise Conflict("Cette plateforme territoriale est fermée.")
    member = session.get(PoolMember, member_id, with_for_update=True, populate_existing=True)
    if member.state != PoolMemberState.DEMANDE.value:
        raise Conflict("Cette demande d'adhésion a déjà été traitée.")
    text = validate_text(reason, "reason", "Motif", max_length=REASON_MAX, required=False, multiline=True)
    establishment = _establishment(session, member.establishment_id)
    _decide(session, actor, pool, member, establishment, accept=accept, reason=text, now=now)
    return establishment.name


def _decide(session: so.Session, actor: SessionUser, pool: TerritorialPool, member: PoolMember,
            establishment: Establishment, *, accept: bool, reason: str | None, now: datetime) -> None:
    before = member.state
    member.state = PoolMemberState.MEMBRE.value if accept else PoolMemberState.REFUSE.value
    member.decided_at, member.decided_by = now, actor.id
    session.flush()
    record_event(session, actor_id=actor.id, entity="pool_member", entity_id=member.id,
                 action="join_accepted" if accept else "join_refused", before=before, after=member.state,
                 details={"pool_id": pool.id, "establishment_id": establishment.id, "reason_given": bool(reason)},
                 ars_code=pool.ars_code, at=now)
    if accept:
        build = lambda first: emails.pool_join_accepted(first, establishment.name, pool.name)  # noqa: E731
    else:
        build = lambda first: emails.pool_join_refused(first, establishment.name, pool.name, reason)  # noqa: E731
    _tell_establishment(session, establishment, f"pool-join:{member.id}:{member.state}", build, now)


def join_requests(session: so.Session, *, actor: SessionUser | None, pool_id: int) -> list[dict[str, Any]]:
    """The pool's join requests awaiting a decision, oldest first, each with VALIDATE / REFUSE for who decides."""
    pool = get_pool(session, pool_id)
    require_pool_reader(actor, pool)
    actions: Actions = frozenset({Action.VALIDATE, Action.REFUSE}) if decides_joins(actor, pool) else NONE
    rows = session.execute(
        sa.select(PoolMember.id, PoolMember.requested_at, Establishment.id.label("establishment_id"),
                  Establishment.finess, Establishment.name, Establishment.city, Establishment.finess_category_code)
        .join(Establishment, Establishment.id == PoolMember.establishment_id)
        .where(PoolMember.pool_id == pool.id, PoolMember.state == PoolMemberState.DEMANDE.value)
        .order_by(PoolMember.requested_at, PoolMember.id)
    ).mappings().all()
    return [{**row, "category": category_short_label(row["finess_category_code"]), "actions": actions}
            for row in rows]


# ---------------------------------------------------------------- an establishment's own view


@dataclass(frozen=True)
class EstablishmentPool:
    """What « Ma plateforme territoriale » shows an establishment: its pool, its pending or refused request, or the
    open pools of its department it may ask to join (each with REQUEST_JOIN), or why it cannot."""

    establishment_id: int
    establishment_name: str
    category: str | None  # its FINESS category's short label, None when unknown
    eligible: bool
    member_of: dict[str, Any] | None  # name, code, department, since, support, coordinators
    pending: dict[str, Any] | None  # the pool asked, and when
    refused: dict[str, Any] | None  # the latest refusal, while no request is live
    open_pools: list[dict[str, Any]]
    notice: str | None  # why no pool may be asked, when none can
    actions: Actions = NONE  # EDIT: its FINESS category is unknown, and its accounts may declare it


def _coordinators(session: so.Session, pool_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The active coordinator accounts of these pools (name, e-mail, phone: staff contacts, not volunteers')."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not pool_ids:
        return found
    rows = session.execute(
        sa.select(User.pool_id, User.id, User.first_name, User.last_name, User.email, User.phone,
                  User.password_hash.is_not(None).label("activated"))
        .where(User.role == COORDINATOR_ROLE, User.pool_id.in_(pool_ids), User.status == AccountStatus.ACTIVE.value)
        .order_by(User.last_name, User.first_name, User.id)
    ).mappings()
    for row in rows:
        found.setdefault(row["pool_id"], []).append(dict(row))
    return found


def coordinators_of(session: so.Session, pool_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    return _coordinators(session, pool_ids)


def establishment_pool(session: so.Session, *, actor: SessionUser | None, establishment_id: int) -> EstablishmentPool:
    """The establishment's pool, or the pools of its department it may ask to join (« Demander à rejoindre »)."""
    _require_establishment_user(actor, establishment_id)
    establishment = _establishment(session, establishment_id)
    category = category_short_label(establishment.finess_category_code)
    eligible = establishment.finess_category_code in eligible_categories()
    live = live_membership(session, establishment.id)
    member_of = pending = refused = None
    open_pools: list[dict[str, Any]] = []
    notice = None
    if live is not None:
        pool = session.get(TerritorialPool, live.pool_id)
        support = session.get(Establishment, pool.support_establishment_id)
        details = {"id": pool.id, "name": pool.name, "code": pool.code, "department_code": pool.department_code,
                   "support": support.name, "since": live.decided_at, "requested_at": live.requested_at,
                   "coordinators": _coordinators(session, [pool.id]).get(pool.id, [])}
        if live.state == PoolMemberState.MEMBRE.value:
            member_of = details
        else:
            pending = details
    else:
        last = session.execute(
            sa.select(PoolMember.decided_at, TerritorialPool.name)
            .join(TerritorialPool, TerritorialPool.id == PoolMember.pool_id)
            .where(PoolMember.establishment_id == establishment.id, PoolMember.state == PoolMemberState.REFUSE.value)
            .order_by(PoolMember.decided_at.desc(), PoolMember.id.desc()).limit(1)).mappings().first()
        refused = dict(last) if last else None
        pools = session.scalars(sa.select(TerritorialPool).where(
            TerritorialPool.department_code == establishment.department_code, TerritorialPool.closed_at.is_(None))
            .order_by(TerritorialPool.name, TerritorialPool.id)).all()
        coordinators = _coordinators(session, [p.id for p in pools])
        can_ask = eligible and establishment.status == EstablishmentStatus.ACTIVE.value
        open_pools = [{"id": p.id, "name": p.name, "coordinators": coordinators.get(p.id, []),
                       "support": session.get(Establishment, p.support_establishment_id).name,
                       "actions": frozenset({Action.REQUEST_JOIN}) if can_ask else NONE} for p in pools]
        department = reference.departements()[establishment.department_code].name
        if not eligible:
            what = (f"est enregistré comme {category}" if category else
                    "n'a pas de catégorie FINESS renseignée : indiquez-la ci-dessous")
            notice = (f"Les plateformes territoriales réunissent des {eligible_words()} : votre établissement "
                      f"{what}.")
        elif not pools:
            notice = (f"Aucune plateforme territoriale n'est ouverte dans votre département ({department}) pour "
                      "l'instant : votre ARS en crée une par département.")
    actions = frozenset({Action.EDIT}) if establishment.finess_category_code is None else NONE
    return EstablishmentPool(establishment.id, establishment.name, category, eligible, member_of, pending, refused,
                             open_pools, notice, actions)


def correct_finess_category(session: so.Session, *, actor: SessionUser | None, establishment_id: int, code: str,
                            now: datetime | None = None) -> tuple[str, str]:
    """Its ARS (or the CCS) corrects an establishment's FINESS category — the correction its accounts are sent to
    ask for, since they may declare it only while unknown. A member of a pool that is no longer eligible stays a
    member: its ARS removes it if need be. Returns the establishment's name and the category's short label."""
    now = now or utcnow()
    actor = require_actor(actor)
    establishment = session.get(Establishment, establishment_id, with_for_update=True)
    if establishment is None:
        raise NotFound("Cet établissement n'existe pas.")
    if not regulates(actor, establishment.ars_code):
        raise PermissionDenied("Cet établissement relève d'une autre ARS : vous ne pouvez pas le modifier.")
    code = (code or "").strip()
    label = category_short_label(code)
    if label is None:
        raise ValidationError("finess_category_code", "Choisissez la catégorie FINESS de l'établissement dans la liste.")
    if code == establishment.finess_category_code:
        raise Conflict(f"« {establishment.name} » est déjà enregistré comme {label} : rien à corriger.")
    before, establishment.finess_category_code = establishment.finess_category_code, code
    session.flush()
    record_event(session, actor_id=actor.id, entity="establishment", entity_id=establishment.id,
                 action="finess_category_corrected", before=before, after=code, ars_code=establishment.ars_code,
                 at=now)
    return establishment.name, label


def declare_finess_category(session: so.Session, *, actor: SessionUser | None, establishment_id: int, code: str,
                            now: datetime | None = None) -> str:
    """An establishment registered before its FINESS category was asked (issue 14) declares it, once: its accounts
    only, and only while it is unknown (a correction goes through its ARS). Joining a pool still needs the pool's
    coordinator or ARS to accept, who read the category in the request. Returns the category's short label."""
    now = now or utcnow()
    actor = _require_establishment_user(actor, establishment_id)
    establishment = session.get(Establishment, establishment_id, with_for_update=True)
    if establishment is None:
        raise NotFound("Cet établissement n'existe pas.")
    if establishment.finess_category_code is not None:
        raise Conflict("La catégorie FINESS de cet établissement est déjà renseignée : pour la corriger, contactez "
                       "votre ARS.")
    label = category_short_label((code or "").strip())
    if label is None:
        raise ValidationError("finess_category_code", "Choisissez la catégorie FINESS de l'établissement dans la liste.")
    establishment.finess_category_code = code.strip()
    session.flush()
    record_event(session, actor_id=actor.id, entity="establishment", entity_id=establishment.id,
                 action="finess_category_declared", details={"finess_category": establishment.finess_category_code},
                 ars_code=establishment.ars_code, at=now)
    return label
