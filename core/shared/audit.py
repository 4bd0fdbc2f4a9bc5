"""Audit trail: one Event per state change, written in the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import COMMAND_LINE
from core.shared.clock import utcnow
from db.models import CrisisMode, Establishment, Event, Membership, Mission, Professional, Proposal, User

COMMAND_LINE_LABEL = "ligne de commande"
NATIONAL = "national"  # ars_code=NATIONAL: an event that concerns no region (shown to national roles only)


def record_event(
    session: so.Session,
    *,
    actor_id: int | None,
    entity: str,
    entity_id: Any,
    action: str,
    before: str | None = None,
    after: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
    ars_code: str | None = None,
) -> Event:
    """Ids, statuses and field names only: never a personal value (see DESIGN §2 on Event).

    The event carries the region it concerns: `ars_code`, else the region of its object (a mission's,
    a volunteer's…), else none (NATIONAL says so explicitly and skips the lookup).
    """
    if ars_code is None and entity_id is not None:
        ars_code = region_of(session, entity, entity_id)
    if actor_id == COMMAND_LINE.id:
        actor_id, details = None, {**(details or {}), "acteur": COMMAND_LINE_LABEL}
    event = Event(
        at=at or utcnow(),
        actor_user_id=actor_id,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        action=action,
        before=before,
        after=after,
        details=details,
        ars_code=None if ars_code == NATIONAL else ars_code,
    )
    session.add(event)
    return event


def _user_region(user_id: int) -> sa.Select:
    """A regulator's own region, else the establishment's it manages, else the volunteer's."""
    membership_region = (sa.select(sa.func.min(Establishment.ars_code))
                         .join(Membership, Membership.establishment_id == Establishment.id)
                         .where(Membership.user_id == User.id).scalar_subquery())
    volunteer_region = (sa.select(Professional.ars_code).where(Professional.id == User.professional_id)
                        .scalar_subquery())
    return sa.select(sa.func.coalesce(User.ars_code, membership_region, volunteer_region)).where(User.id == user_id)


def _region_query(entity: str, object_id: int) -> sa.Select | None:
    """The region of an audited object (the same mapping filled older events: migration 0006)."""
    if entity == "mission":
        return (sa.select(Establishment.ars_code).join(Mission, Mission.establishment_id == Establishment.id)
                .where(Mission.id == object_id))
    if entity == "proposal":
        return (sa.select(Establishment.ars_code).join(Mission, Mission.establishment_id == Establishment.id)
                .join(Proposal, Proposal.mission_id == Mission.id).where(Proposal.id == object_id))
    direct = {"establishment": Establishment, "professional": Professional, "crisis_mode": CrisisMode}
    if entity in direct:
        model = direct[entity]
        return sa.select(model.ars_code).where(model.id == object_id)
    if entity == "user":
        return _user_region(object_id)
    return None


def region_of(session: so.Session, entity: str, entity_id: Any) -> str | None:
    try:
        object_id = int(entity_id)
    except (TypeError, ValueError):
        return None
    query = _region_query(entity, object_id)
    return None if query is None else session.scalar(query)
