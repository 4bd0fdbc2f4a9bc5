"""Account administration (« Comptes », `python -m core create-user`): list, create, disable / re-enable,
unlock, send a fresh link, attach an establishment user to several establishments.

Who manages whom (issue 11 §3) — it decides the rows an actor lists, the roles it may create and every action:

| actor ↓ manages → | admin | CCS | ministry | ARS | pool coordinator | establishment | volunteer |
| admin             |   ✓   |  ✓  |    ✓     |  ✓  |        ✓         |       ✓       |  ✓ (*)    |
| CCS               |       |  ✓  |    ✓     |  ✓  |                  |               |           |
| ARS               |       |     |          |  ✓ its region    ✓ its region    ✓ its region     |
| command line      |   ✓   |  ✓  |    ✓     |  ✓  |        ✓         |       ✓       |  ✓ (*)    |

(*) A volunteer's account is opened by the volunteer's own registration: it is never created here, but an
admin may disable / re-enable it, unlock it or send it a link (the ARS look after volunteers in
« Professionnels de la région »). Nobody else manages anybody here.

An establishment user belongs to the region of its establishments: an ARS manages it when every one of them
is in its region (a group spanning two regions is left to the admins). Requests awaiting validation are
listed but handled in « Validation des comptes ». No account is ever deleted: it is disabled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from core.access.accounts import activation_link, email_taken, request_password_reset
from core.mail import emails
from core.mail.outbox import queue_email
from core.places import reference
from core.shared.actions import NONE, Action, Actions
from core.shared.actor import OPERATOR_ROLE, SessionUser
from core.shared.audit import record_event
from core.shared.clock import utcnow
from core.shared.errors import Conflict, ErrorCollector, NotFound, PermissionDenied, ValidationError
from core.shared.permissions import require_actor
from core.shared.security import token_hash
from core.shared.validation import search_text, validate_email, validate_phone, validate_text
from db.models import (
    AccountStatus,
    Establishment,
    EstablishmentStatus,
    Membership,
    Professional,
    Role,
    TerritorialPool,
    User,
)

ALL_ROLES = frozenset(role.value for role in Role)
MANAGED_ROLES: dict[str, frozenset[str]] = {
    OPERATOR_ROLE: ALL_ROLES,
    Role.ADMIN.value: ALL_ROLES,
    Role.CCS.value: frozenset({Role.CCS.value, Role.MINISTERE.value, Role.ARS.value}),
    Role.ARS.value: frozenset({Role.ARS.value, Role.POOL.value, Role.ETABLISSEMENT.value}),
}
REGIONAL_ACTORS = frozenset({Role.ARS.value})  # they manage the accounts of their own region only
REGION_ROLES = (Role.ARS.value, Role.POOL.value)  # accounts bound to one region (User.ars_code)
POOL_ROLES = (Role.POOL.value,)  # accounts bound to one territorial pool (User.pool_id), of their region
NOT_CREATED_HERE = frozenset({Role.PROFESSIONNEL.value})  # opened by the volunteer's own registration
MAX_PAGE = 200
SEARCH_LIMIT = 20

ACTIVE = AccountStatus.ACTIVE.value
DISABLED = AccountStatus.DISABLED.value
PENDING = AccountStatus.PENDING.value
REJECTED = AccountStatus.REJECTED.value


class AccountState(StrEnum):
    """What an account's row says of it; `locked` is an active account whose lockout has not run out."""

    PENDING = "pending"  # a request awaiting validation, or an activation link not used yet
    ACTIVE = "active"
    DISABLED = "disabled"
    LOCKED = "locked"


# ---------------------------------------------------------------- who manages whom


def manages(actor: SessionUser | None, role: str, regions: frozenset[str]) -> bool:
    """May this actor manage an account of this role whose region(s) are `regions`?"""
    if actor is None or role not in MANAGED_ROLES.get(actor.role, frozenset()):
        return False
    if actor.role in REGIONAL_ACTORS:
        return bool(regions) and regions == {actor.ars_code}
    return True


def creatable_roles(actor: SessionUser | None) -> tuple[str, ...]:
    """The roles of the accounts this actor may open, in the order of the role list."""
    managed = MANAGED_ROLES.get(actor.role, frozenset()) if actor else frozenset()
    return tuple(role.value for role in Role if role.value in managed - NOT_CREATED_HERE)


def _require_administrator(actor: SessionUser | None) -> SessionUser:
    actor = require_actor(actor)
    if actor.role not in MANAGED_ROLES:
        raise PermissionDenied()
    return actor


@dataclass(frozen=True)
class AdminScope:
    """What the « Comptes » page offers this actor: the roles it lists and creates, and its region if bound."""

    listed_roles: tuple[str, ...]
    creatable_roles: tuple[str, ...]
    region_roles: tuple[str, ...]  # the roles of `creatable_roles` whose accounts belong to one region
    establishment_roles: tuple[str, ...]  # those whose accounts manage establishments
    pool_roles: tuple[str, ...]  # those whose accounts run a territorial pool (chosen among the region's open ones)
    own_region: str | None  # an ARS: every account it opens or lists is of this region
    picks_region: bool  # national actors choose the region of a new ARS or pool coordinator account
    manages_establishment_users: bool


def admin_scope(session: so.Session, *, actor: SessionUser | None) -> AdminScope:
    """The filters and creation choices of the « Comptes » page for this actor."""
    actor = _require_administrator(actor)
    listed = tuple(role.value for role in Role if role.value in MANAGED_ROLES[actor.role])
    regional = actor.role in REGIONAL_ACTORS
    creatable = creatable_roles(actor)
    return AdminScope(listed_roles=listed, creatable_roles=creatable,
                      region_roles=tuple(r for r in creatable if r in REGION_ROLES),
                      establishment_roles=tuple(r for r in creatable if r == Role.ETABLISSEMENT.value),
                      pool_roles=tuple(r for r in creatable if r in POOL_ROLES),
                      own_region=actor.ars_code if regional else None, picks_region=not regional,
                      manages_establishment_users=Role.ETABLISSEMENT.value in listed)


# ---------------------------------------------------------------- listing


@dataclass(frozen=True)
class AccountFilters:
    text: str = ""  # part of the name or of the e-mail
    role: str | None = None
    ars_code: str | None = None
    establishment: str = ""  # FINESS / GID, or part of the establishment's name
    state: str | None = None  # an AccountState value


@dataclass
class AccountPage:
    rows: list[dict[str, Any]]
    total: int
    offset: int


def _member_of_region(ars_code: str) -> sa.ColumnElement[bool]:
    return (sa.select(Membership.user_id)
            .join(Establishment, Establishment.id == Membership.establishment_id)
            .where(Membership.user_id == User.id, Establishment.ars_code == ars_code).exists())


def _volunteer_of_region(ars_code: str) -> sa.ColumnElement[bool]:
    return (sa.select(Professional.id)
            .where(Professional.id == User.professional_id, Professional.ars_code == ars_code).exists())


def _visible(actor: SessionUser) -> list[sa.ColumnElement[bool]]:
    """The accounts an actor lists: those it manages (refused requests are history, never listed)."""
    conditions = [User.status != REJECTED, User.role.in_(MANAGED_ROLES[actor.role])]
    if actor.role in REGIONAL_ACTORS:
        conditions.append(sa.or_(
            sa.and_(User.role.in_(REGION_ROLES), User.ars_code == actor.ars_code),
            sa.and_(User.role == Role.ETABLISSEMENT.value, _member_of_region(actor.ars_code)),
        ))
    return conditions


def _locked(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(User.locked_until.is_not(None), User.locked_until > now)


def _state_condition(state: str, now: datetime) -> sa.ColumnElement[bool]:
    if state == AccountState.PENDING:
        return sa.or_(User.status == PENDING, sa.and_(User.status == ACTIVE, User.password_hash.is_(None)))
    if state == AccountState.DISABLED:
        return User.status == DISABLED
    if state == AccountState.LOCKED:
        return sa.and_(User.status == ACTIVE, _locked(now))
    if state == AccountState.ACTIVE:
        return sa.and_(User.status == ACTIVE, User.password_hash.is_not(None), sa.not_(_locked(now)))
    raise ValidationError("state", "Choisissez un état dans la liste.")


def _filter_conditions(filters: AccountFilters, now: datetime) -> list[sa.ColumnElement[bool]]:
    conditions = []
    text = search_text(filters.text).lower()
    if text:
        pattern = f"%{text}%"
        full_name = sa.func.lower(User.first_name + " " + User.last_name)
        conditions.append(sa.or_(sa.func.lower(User.email).like(pattern), sa.func.lower(User.last_name).like(pattern),
                                 full_name.like(pattern)))
    if filters.role:
        conditions.append(User.role == filters.role)
    if filters.ars_code:
        conditions.append(sa.or_(User.ars_code == filters.ars_code, _member_of_region(filters.ars_code),
                                 _volunteer_of_region(filters.ars_code)))
    establishment = search_text(filters.establishment)
    if establishment:
        conditions.append(sa.select(Membership.user_id)
                          .join(Establishment, Establishment.id == Membership.establishment_id)
                          .where(Membership.user_id == User.id,
                                 sa.or_(Establishment.finess == establishment.upper(),
                                        sa.func.lower(Establishment.name).like(f"%{establishment.lower()}%")))
                          .exists())
    if filters.state:
        conditions.append(_state_condition(filters.state, now))
    return conditions


def list_accounts(session: so.Session, *, actor: SessionUser | None, filters: AccountFilters | None = None,
                  offset: int = 0, limit: int = 50, now: datetime | None = None) -> AccountPage:
    """The accounts this actor manages, searched, filtered, counted and paged in SQL, each with its actions."""
    actor = _require_administrator(actor)
    now = now or utcnow()
    query = sa.select(User).where(*_visible(actor), *_filter_conditions(filters or AccountFilters(), now))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    users = session.scalars(
        query.order_by(sa.func.lower(User.last_name), sa.func.lower(User.first_name), User.id)
        .offset(max(offset, 0)).limit(min(max(limit, 1), MAX_PAGE))
    ).all()
    establishments = _establishments_of(session, [u.id for u in users])
    pools = _pool_names(session, [u.pool_id for u in users if u.pool_id])
    volunteer_regions = _volunteer_regions(session, [u.professional_id for u in users if u.professional_id])
    admins = _signing_admins(session)
    rows = []
    for user in users:
        mine = establishments.get(user.id, [])
        regions = _regions(user, mine, volunteer_regions.get(user.professional_id))
        row = _row(user, mine, regions, now)
        row["pool"] = pools.get(user.pool_id) if user.role in POOL_ROLES else None
        row["actions"] = _row_actions(actor, user, regions, row["state"], admins)
        rows.append(row)
    return AccountPage(rows=rows, total=total, offset=offset)


def _establishments_of(session: so.Session, user_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not user_ids:
        return found
    rows = session.execute(
        sa.select(Membership.user_id, Establishment.id, Establishment.finess, Establishment.name,
                  Establishment.city, Establishment.ars_code)
        .join(Establishment, Establishment.id == Membership.establishment_id)
        .where(Membership.user_id.in_(user_ids)).order_by(Establishment.name, Establishment.id)
    ).all()
    for user_id, establishment_id, finess, name, city, ars_code in rows:
        found.setdefault(user_id, []).append(
            {"id": establishment_id, "finess": finess, "name": name, "city": city, "ars_code": ars_code})
    return found


def _pool_names(session: so.Session, pool_ids: list[int]) -> dict[int, str]:
    if not pool_ids:
        return {}
    rows = session.execute(sa.select(TerritorialPool.id, TerritorialPool.name).where(TerritorialPool.id.in_(pool_ids)))
    return {pool_id: name for pool_id, name in rows}


def _volunteer_regions(session: so.Session, professional_ids: list[int]) -> dict[int, str]:
    if not professional_ids:
        return {}
    rows = session.execute(sa.select(Professional.id, Professional.ars_code).where(Professional.id.in_(professional_ids)))
    return {professional_id: ars_code for professional_id, ars_code in rows}


def _regions(user: User, establishments: list[dict[str, Any]], volunteer_region: str | None) -> frozenset[str]:
    """The region(s) an account belongs to: its own (ARS, pool), its establishments', or its volunteer's."""
    if user.role in REGION_ROLES:
        return frozenset({user.ars_code}) if user.ars_code else frozenset()
    if user.role == Role.ETABLISSEMENT.value:
        return frozenset(e["ars_code"] for e in establishments)
    if user.role == Role.PROFESSIONNEL.value and volunteer_region:
        return frozenset({volunteer_region})
    return frozenset()


def _situation(user: User, state: AccountState) -> str:
    """The state as the page words it: a pending account awaits either its validation or its activation."""
    if state == AccountState.PENDING:
        return "awaiting_validation" if user.status == PENDING else "awaiting_activation"
    return state.value


def _state(user: User, now: datetime) -> AccountState:
    if user.status == DISABLED:
        return AccountState.DISABLED
    if user.status == PENDING or not user.password_hash:
        return AccountState.PENDING
    if user.locked_until and user.locked_until > now:
        return AccountState.LOCKED
    return AccountState.ACTIVE


def _row(user: User, establishments: list[dict[str, Any]], regions: frozenset[str], now: datetime) -> dict[str, Any]:
    state = _state(user, now)
    return {
        "id": user.id, "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
        "phone": user.phone, "role": user.role, "regions": tuple(sorted(regions)), "establishments": establishments,
        "state": state, "situation": _situation(user, state), "awaiting_validation": user.status == PENDING,
        "has_password": user.password_hash is not None,
        "locked_until": user.locked_until if state == AccountState.LOCKED else None, "created_at": user.created_at,
    }


def _signing_admins(session: so.Session, *, lock: bool = False) -> list[int]:
    """Up to two admins who can sign in (active, password chosen): enough to tell whether one is the last."""
    query = sa.select(User.id).where(User.role == Role.ADMIN.value, User.status == ACTIVE,
                                     User.password_hash.is_not(None)).order_by(User.id)
    if lock:
        # Two admins disabling each other at once: the second waits for the first and then counts again
        # (PostgreSQL re-checks the rows it waited for; SQLite write transactions are already serialised).
        return list(session.scalars(query.with_for_update()))
    return list(session.scalars(query.limit(2)))


def _is_last_admin(user: User, signing_admins: list[int]) -> bool:
    return user.role == Role.ADMIN.value and not (set(signing_admins) - {user.id})


def _row_actions(actor: SessionUser, user: User, regions: frozenset[str], state: AccountState,
                 signing_admins: list[int]) -> Actions:
    """What the actor may do on this account: the same rules the services below enforce."""
    if not manages(actor, user.role, regions) or user.status == PENDING:
        return NONE
    actions: set[Action] = set()
    if user.status == ACTIVE:
        actions.add(Action.SEND_LINK)
        if user.id != actor.id and not _is_last_admin(user, signing_admins):
            actions.add(Action.DISABLE)
        if state == AccountState.LOCKED:
            actions.add(Action.UNLOCK)
    elif user.status == DISABLED:
        actions.add(Action.ENABLE)
    if user.role == Role.ETABLISSEMENT.value:
        actions.add(Action.MANAGE_ESTABLISHMENTS)
    return frozenset(actions)


# ---------------------------------------------------------------- one account


def _user_regions(session: so.Session, user: User) -> frozenset[str]:
    establishments = _establishments_of(session, [user.id]).get(user.id, [])
    volunteer = _volunteer_regions(session, [user.professional_id] if user.professional_id else [])
    return _regions(user, establishments, volunteer.get(user.professional_id))


def _managed_user(session: so.Session, actor: SessionUser | None, user_id: int) -> tuple[SessionUser, User]:
    """The account an action is about, once the actor is known to manage it; a request awaiting validation
    is left to « Validation des comptes »."""
    actor = _require_administrator(actor)
    user = session.get(User, user_id, with_for_update=True)
    if user is None or user.status == REJECTED:
        raise NotFound("Ce compte n'existe pas.")
    if not manages(actor, user.role, _user_regions(session, user)):
        raise PermissionDenied("Ce compte ne relève pas de vous : vous ne pouvez pas le modifier.")
    if user.status == PENDING:
        raise Conflict("Cette demande de compte attend sa validation : traitez-la dans « Validation des comptes ».")
    return actor, user


def disable_account(session: so.Session, *, actor: SessionUser | None, user_id: int,
                    now: datetime | None = None) -> str:
    """Disable an account (never deleted): it is signed out at once and can no longer sign in."""
    now = now or utcnow()
    _require_administrator(actor)
    # Disabling an admin: the admins who can sign in are locked first, in id order, and only then the target
    # (one of them). Locking the target first let two admins disabling each other deadlock on PostgreSQL.
    target_role = session.scalar(sa.select(User.role).where(User.id == user_id))
    signing_admins = _signing_admins(session, lock=True) if target_role == Role.ADMIN.value else []
    actor, user = _managed_user(session, actor, user_id)
    if user.id == actor.id:
        raise Conflict("Vous ne pouvez pas désactiver votre propre compte.")
    if user.status != ACTIVE:
        raise Conflict("Ce compte est déjà désactivé.")
    if _is_last_admin(user, signing_admins):
        raise Conflict("C'est le dernier compte administrateur actif : ouvrez ou réactivez un autre compte "
                       "administrateur avant de désactiver celui-ci.")
    user.status = DISABLED
    record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="account_disabled",
                 before=ACTIVE, after=DISABLED, at=now)
    return user.email


def enable_account(session: so.Session, *, actor: SessionUser | None, user_id: int,
                   now: datetime | None = None) -> str:
    """Re-enable a disabled account: its password (if chosen) works again."""
    now = now or utcnow()
    actor, user = _managed_user(session, actor, user_id)
    if user.status != DISABLED:
        raise Conflict("Ce compte est déjà actif.")
    user.status = ACTIVE
    record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="account_enabled",
                 before=DISABLED, after=ACTIVE, at=now)
    return user.email


def unlock_account(session: so.Session, *, actor: SessionUser | None, user_id: int,
                   now: datetime | None = None) -> str:
    """Lift a lockout after failed sign-ins before its 15 minutes run out (the failure count starts again)."""
    now = now or utcnow()
    actor, user = _managed_user(session, actor, user_id)
    if not (user.locked_until and user.locked_until > now):
        raise Conflict("Ce compte n'est pas verrouillé.")
    user.failed_logins = 0
    user.locked_until = None
    record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="account_unlocked", at=now)
    return user.email


@dataclass(frozen=True)
class LinkSent:
    email: str
    purpose: str  # "activation" (no password yet) or "reset"


def send_account_link(session: so.Session, *, actor: SessionUser | None, user_id: int,
                      now: datetime | None = None) -> LinkSent:
    """E-mail a fresh single-use link: an activation link while no password is chosen, else a reset link (as
    « Mot de passe oublié ? » sends); the account's earlier links stop working."""
    now = now or utcnow()
    actor, user = _managed_user(session, actor, user_id)
    if user.status != ACTIVE:
        raise Conflict("Ce compte est désactivé : réactivez-le avant de lui envoyer un lien.")
    if user.password_hash is None:
        purpose = "activation"
        _send_activation(session, user, now)
    else:
        purpose = "reset"
        request_password_reset(session, actor=actor, email=user.email, now=now)
    record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="link_sent",
                 details={"purpose": purpose}, at=now)
    return LinkSent(user.email, purpose)


def _send_activation(session: so.Session, user: User, now: datetime) -> str:
    link = activation_link(session, user=user, now=now)
    token = link.rsplit("jeton=", 1)[-1]
    queue_email(session, dedup_key=f"activation:{token_hash(token)[:24]}", to=user.email, now=now,
                content=emails.account_created(user.first_name, link))
    return link


# ---------------------------------------------------------------- creating an account


@dataclass(frozen=True)
class NewAccount:
    """The form « Créer un compte » and the command `create-user`."""

    role: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""  # optional
    ars_code: str | None = None  # ARS and pool coordinator accounts only
    establishment_ids: tuple[int, ...] = field(default_factory=tuple)  # establishment accounts only
    pool_id: int | None = None  # pool coordinator accounts only: an open pool of the account's region


@dataclass(frozen=True)
class CreatedAccount:
    user_id: int
    email: str
    link: str  # the activation link, also e-mailed (the command line prints it when no SMTP server is set)


def _checked_role(actor: SessionUser, role: str, errors: ErrorCollector) -> str | None:
    role = (role or "").strip()
    if role in NOT_CREATED_HERE:
        errors.add("role", "Les comptes des professionnels volontaires s'ouvrent par leur inscription "
                           "(« Proposer mon aide »).")
        return None
    if role not in ALL_ROLES:
        errors.add("role", "Choisissez le rôle du compte.")
        return None
    if role not in creatable_roles(actor):
        raise PermissionDenied("Vous ne pouvez pas ouvrir un compte de ce rôle.")
    return role


def _checked_region(actor: SessionUser, role: str | None, ars_code: str | None,
                    errors: ErrorCollector) -> str | None:
    ars_code = (ars_code or "").strip() or None
    if role is None:
        return None
    if role not in REGION_ROLES:
        if ars_code:
            errors.add("ars_code", "Seuls les comptes ARS et coordinateur de vivier sont rattachés à une région.")
        return None
    if actor.role in REGIONAL_ACTORS:
        if ars_code not in (None, actor.ars_code):
            raise PermissionDenied("Une ARS n'ouvre des comptes que dans sa région.")
        return actor.ars_code
    if ars_code not in reference.ars_names():
        errors.add("ars_code", "Choisissez la région (ARS) du compte.")
        return None
    return ars_code


def _checked_pool(session: so.Session, actor: SessionUser, role: str | None, pool_id: int | None,
                  ars_code: str | None, errors: ErrorCollector) -> int | None:
    """A coordinator's pool: open, and of the account's region (an ARS opens coordinators of its own pools only).
    core.pools is not imported here (core.access sits below it): the pool is read from its table."""
    if role is None:
        return None
    if role not in POOL_ROLES:
        if pool_id is not None:
            errors.add("pool_id", "Seuls les comptes coordinateur de vivier territorial sont rattachés à une "
                                  "plateforme.")
        return None
    if pool_id is None:
        errors.add("pool_id", "Choisissez la plateforme territoriale que ce compte coordonne.")
        return None
    pool = session.get(TerritorialPool, pool_id)
    if pool is None or pool.closed_at is not None:
        errors.add("pool_id", "Cette plateforme territoriale n'existe pas ou est fermée.")
        return None
    if actor.role in REGIONAL_ACTORS and pool.ars_code != actor.ars_code:
        raise PermissionDenied("Cette plateforme territoriale relève d'une autre ARS.")
    if ars_code is not None and pool.ars_code != ars_code:
        errors.add("pool_id", "Cette plateforme territoriale est dans une autre région que celle du compte.")
        return None
    return pool.id


def assignable_pools(session: so.Session, *, actor: SessionUser | None,
                     ars_code: str | None = None) -> dict[int, str]:
    """The open pools a new coordinator account may run (id → « name — department »): an ARS's own region's, or
    those of the region a national actor chose."""
    actor = _require_administrator(actor)
    if Role.POOL.value not in creatable_roles(actor):
        raise PermissionDenied()
    region = actor.ars_code if actor.role in REGIONAL_ACTORS else ars_code
    if region is None:
        return {}
    rows = session.execute(sa.select(TerritorialPool.id, TerritorialPool.name, TerritorialPool.department_code)
                           .where(TerritorialPool.ars_code == region, TerritorialPool.closed_at.is_(None))
                           .order_by(TerritorialPool.department_code, TerritorialPool.name, TerritorialPool.id))
    departments = reference.departements()
    return {pool_id: f"{name} — {departments[code].name} ({code})" for pool_id, name, code in rows}


def _usable_establishment(session: so.Session, actor: SessionUser, establishment_id: int) -> Establishment:
    establishment = session.get(Establishment, establishment_id)
    if establishment is None or establishment.status != EstablishmentStatus.ACTIVE.value:
        raise ValidationError("establishment_ids", "Cet établissement n'existe pas ou n'est pas encore validé.")
    if actor.role in REGIONAL_ACTORS and establishment.ars_code != actor.ars_code:
        raise PermissionDenied(f"L'établissement « {establishment.name} » relève d'une autre ARS.")
    return establishment


def _checked_establishments(session: so.Session, actor: SessionUser, role: str | None, ids: tuple[int, ...],
                            errors: ErrorCollector) -> list[Establishment]:
    ids = tuple(dict.fromkeys(ids or ()))
    if role is None:
        return []
    if role != Role.ETABLISSEMENT.value:
        if ids:
            errors.add("establishment_ids", "Seuls les comptes établissement sont rattachés à des établissements.")
        return []
    if not ids:
        errors.add("establishment_ids", "Choisissez au moins un établissement.")
        return []
    found = [errors.check(_usable_establishment, session, actor, i) for i in ids]
    return [e for e in found if e is not None]


def _checked_identity(session: so.Session, account: NewAccount, errors: ErrorCollector) -> dict[str, Any]:
    identity = {
        "last_name": errors.check(validate_text, account.last_name, "last_name", "Nom", max_length=100),
        "first_name": errors.check(validate_text, account.first_name, "first_name", "Prénom", max_length=100),
        "email": errors.check(validate_email, account.email, "email"),
        "phone": errors.check(validate_phone, account.phone, "phone") if (account.phone or "").strip() else None,
    }
    if identity["email"] and email_taken(session, email=identity["email"]):
        errors.add("email", "Un compte existe déjà avec cette adresse électronique.")
    return identity


def create_account(session: so.Session, *, actor: SessionUser | None, account: NewAccount,
                   now: datetime | None = None) -> CreatedAccount:
    """Open an account (active, no password yet) and e-mail its activation link; nothing is saved if any
    field is wrong."""
    now = now or utcnow()
    actor = _require_administrator(actor)
    errors = ErrorCollector()
    role = _checked_role(actor, account.role, errors)
    identity = _checked_identity(session, account, errors)
    ars_code = _checked_region(actor, role, account.ars_code, errors)
    establishments = _checked_establishments(session, actor, role, account.establishment_ids, errors)
    pool_id = _checked_pool(session, actor, role, account.pool_id, ars_code, errors)
    errors.raise_if_any()
    user = User(role=role, ars_code=ars_code, pool_id=pool_id, status=ACTIVE, created_at=now, **identity)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # the same e-mail opened at the same instant by someone else
        raise Conflict("Un compte vient d'être ouvert avec cette adresse électronique.") from error
    for establishment in establishments:
        session.add(Membership(user_id=user.id, establishment_id=establishment.id, created_at=now))
    session.flush()
    record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="account_created",
                 after=ACTIVE, details={"role": role, "establishment_ids": [e.id for e in establishments],
                                        **({"pool_id": pool_id} if pool_id else {})}, at=now)
    return CreatedAccount(user.id, user.email, _send_activation(session, user, now))


# ---------------------------------------------------------------- establishments of an establishment user


def _require_establishment_manager(actor: SessionUser | None) -> SessionUser:
    actor = _require_administrator(actor)
    if Role.ETABLISSEMENT.value not in MANAGED_ROLES[actor.role]:
        raise PermissionDenied()
    return actor


def search_establishments(session: so.Session, *, actor: SessionUser | None, text: str,
                          limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Validated establishments by FINESS / GID (from its start) or name, to attach to an account; an ARS
    finds those of its region only."""
    actor = _require_establishment_manager(actor)
    text = search_text(text)
    if len(text) < 2:
        return []
    conditions = [Establishment.status == EstablishmentStatus.ACTIVE.value,
                  sa.or_(Establishment.finess.like(f"{text.upper().replace(' ', '')}%"),
                         sa.func.lower(Establishment.name).like(f"%{text.lower()}%"))]
    if actor.role in REGIONAL_ACTORS:
        conditions.append(Establishment.ars_code == actor.ars_code)
    rows = session.execute(
        sa.select(Establishment.id, Establishment.finess, Establishment.name, Establishment.city,
                  Establishment.ars_code)
        .where(*conditions).order_by(Establishment.name, Establishment.id).limit(min(limit, MAX_PAGE))
    ).mappings().all()
    return [dict(row) for row in rows]


def establishment_ids_for(session: so.Session, *, actor: SessionUser | None,
                          identifiers: tuple[str, ...]) -> tuple[int, ...]:
    """The validated establishments of these FINESS / GID numbers (`create-user --finess`), each found exactly;
    an ARS finds those of its region only, as in the search."""
    actor = _require_establishment_manager(actor)
    regional = actor.role in REGIONAL_ACTORS
    found = []
    for identifier in identifiers:
        wanted = (identifier or "").strip().upper()
        query = sa.select(Establishment.id).where(Establishment.finess == wanted,
                                                  Establishment.status == EstablishmentStatus.ACTIVE.value)
        establishment_id = session.scalar(query.where(Establishment.ars_code == actor.ars_code) if regional
                                          else query)
        if establishment_id is None:
            where = " de votre région" if regional else ""
            raise ValidationError("establishment_ids",
                                  f"Aucun établissement validé{where} n'a le numéro FINESS ou GID « {wanted} ».")
        found.append(establishment_id)
    return tuple(found)


def _establishment_user(session: so.Session, actor: SessionUser | None, user_id: int) -> tuple[SessionUser, User]:
    actor, user = _managed_user(session, actor, user_id)
    if user.role != Role.ETABLISSEMENT.value:
        raise Conflict("Seuls les comptes établissement sont rattachés à des établissements.")
    return actor, user


def attach_establishment(session: so.Session, *, actor: SessionUser | None, user_id: int, establishment_id: int,
                         now: datetime | None = None) -> str:
    """Let an establishment user manage one more establishment (a hospital group's office); returns its name."""
    now = now or utcnow()
    actor, user = _establishment_user(session, actor, user_id)
    try:
        establishment = _usable_establishment(session, actor, establishment_id)
    except ValidationError as error:
        raise NotFound(error.message) from error
    if session.get(Membership, (user.id, establishment.id)) is not None:
        raise Conflict("Ce compte gère déjà cet établissement.")
    session.add(Membership(user_id=user.id, establishment_id=establishment.id, created_at=now))
    session.flush()
    record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="establishment_attached",
                 details={"establishment_id": establishment.id}, ars_code=establishment.ars_code, at=now)
    return establishment.name


def detach_establishment(session: so.Session, *, actor: SessionUser | None, user_id: int, establishment_id: int,
                         now: datetime | None = None) -> str:
    """Take an establishment away from an establishment user, who keeps at least one; returns its name."""
    now = now or utcnow()
    actor, user = _establishment_user(session, actor, user_id)
    membership = session.get(Membership, (user.id, establishment_id))
    if membership is None:
        raise NotFound("Ce compte ne gère pas cet établissement.")
    others = session.scalar(sa.select(sa.func.count()).select_from(Membership)
                            .where(Membership.user_id == user.id, Membership.establishment_id != establishment_id))
    if not others:
        raise Conflict("C'est le seul établissement de ce compte : désactivez plutôt le compte.")
    establishment = session.get(Establishment, establishment_id)
    session.delete(membership)
    session.flush()
    record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="establishment_detached",
                 details={"establishment_id": establishment_id}, ars_code=establishment.ars_code, at=now)
    return establishment.name
