"""Who acts on which territorial pool. Every pool service calls these itself (pages are never trusted)."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser
from core.shared.errors import DomainError, PermissionDenied
from core.shared.permissions import require_actor, sees_region
from db.models import PoolMember, PoolMemberState, Role, TerritorialPool

COORDINATOR_ROLE = Role.POOL.value
POOL_REGULATORS = ("ars", "ccs")  # create pools and follow their projects (an ARS: its region's only)
POOL_READERS = ("ars", "ccs", "ministere", "admin")  # read pools, their money and their deadlines


def get_pool(session: so.Session, pool_id: int) -> TerritorialPool:
    pool = session.get(TerritorialPool, pool_id)
    if pool is None:
        raise DomainError("Cette plateforme territoriale n'existe pas ou plus.")
    return pool


def coordinates(actor: SessionUser | None, pool: TerritorialPool) -> bool:
    """The pool's own coordinator: the only one who keeps its roster and pushes its members."""
    return actor is not None and actor.role == COORDINATOR_ROLE and actor.pool_id == pool.id


def regulates_pool(actor: SessionUser | None, pool: TerritorialPool) -> bool:
    """The ARS of the pool's region, or the CCS."""
    return actor is not None and actor.role in POOL_REGULATORS and sees_region(actor, pool.ars_code)


def reads_pool(actor: SessionUser | None, pool: TerritorialPool) -> bool:
    return coordinates(actor, pool) or (actor is not None and actor.role in POOL_READERS
                                        and sees_region(actor, pool.ars_code))


def require_coordinator(session: so.Session, actor: SessionUser | None) -> TerritorialPool:
    """The pool a coordinator runs; refused to anyone else, and to a coordinator of a closed pool."""
    actor = require_actor(actor)
    if actor.role != COORDINATOR_ROLE or actor.pool_id is None:
        raise PermissionDenied()
    pool = get_pool(session, actor.pool_id)
    if pool.closed_at is not None:
        raise PermissionDenied("Cette plateforme territoriale est fermée.")
    return pool


def require_pool_regulator(actor: SessionUser | None, pool: TerritorialPool) -> SessionUser:
    actor = require_actor(actor)
    if not regulates_pool(actor, pool):
        raise PermissionDenied("Cette plateforme relève d'une autre ARS : vous ne pouvez pas la modifier.")
    return actor


def require_pool_reader(actor: SessionUser | None, pool: TerritorialPool) -> SessionUser:
    actor = require_actor(actor)
    if not reads_pool(actor, pool):
        raise PermissionDenied("Cette plateforme relève d'une autre région.")
    return actor


def member_establishment_ids(session: so.Session, pool_id: int) -> list[int]:
    """The establishments that are members of the pool now (not those still asking to join)."""
    return list(session.scalars(sa.select(PoolMember.establishment_id)
                                .where(PoolMember.pool_id == pool_id, PoolMember.state == PoolMemberState.MEMBRE)
                                .order_by(PoolMember.establishment_id)))


def pool_of_establishment(session: so.Session, establishment_id: int) -> int | None:
    """The pool an establishment is a member of (at most one), or None."""
    return session.scalar(sa.select(PoolMember.pool_id).where(PoolMember.establishment_id == establishment_id,
                                                              PoolMember.state == PoolMemberState.MEMBRE))
